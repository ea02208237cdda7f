// Any text either loads as a profile or is refused with a ProfileError.
#include <imsaka/vicc/profile.h>

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        imsaka::vicc::parseProfile(std::string_view(reinterpret_cast<const char*>(data), size),
                                   "fuzz.ini");
    } catch (const imsaka::vicc::ProfileError&) {
    }
    return 0;
}
