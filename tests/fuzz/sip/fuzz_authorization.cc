// Authorization values (what an S-CSCF or test peer reads): parse, format, parse again.
#include <cstdlib>

#include "imsaka/sip/digest.h"

using namespace imsaka::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view value(reinterpret_cast<const char*>(data), size);
    DigestCredentials credentials;
    try {
        credentials = parseAuthorization(value);
    } catch (const DigestError& error) {
        if (error.position() > size) std::abort();
        return 0;
    }
    try {
        auto again = parseAuthorization(formatAuthorization(credentials));
        if (again.username != credentials.username || again.response != credentials.response ||
            again.nc != credentials.nc || again.auts != credentials.auts) {
            std::abort();
        }
    } catch (const DigestError& error) {
        if (error.code() != DigestErrc::InvalidArgument) std::abort();
    }
    return 0;
}
