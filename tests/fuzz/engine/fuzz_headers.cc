// The engine's header parsers on arbitrary text: they either return or throw HeaderError
// with a position inside the text.
#include <cstdlib>

#include "imsaka/daemon/headers.h"

using namespace imsaka::daemon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto guarded = [&](auto parse) {
        try {
            parse();
        } catch (const HeaderError& error) {
            if (error.position() > size) std::abort();
        }
    };
    guarded([&] { (void)parseDeltaSeconds(text); });
    guarded([&] { (void)parseRetryAfter(text); });
    guarded([&] {
        for (const auto& entry : parseNameAddrList(text)) {
            if (entry.uri.empty()) std::abort();
            (void)entry.parameter("expires");
            (void)sipUriHostPort(entry.uri);
        }
    });
    (void)sipUriHostPort(text);
    return 0;
}
