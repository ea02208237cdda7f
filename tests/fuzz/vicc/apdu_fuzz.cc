// Feeds a card a sequence of APDUs: the input is split at each 0xFF 0xFE pair, and
// the first byte of the input picks T=0 or T=1, the PIN setting and which PIN it is.
#include <imsaka/vicc/card.h>
#include <imsaka/vicc/profile.h>

#include <cstdlib>
#include <cstring>

namespace {

const imsaka::vicc::Profile& baseProfile() {
    static const imsaka::vicc::Profile profile =
        imsaka::vicc::loadProfile(IMSAKA_VICC_PROFILES "/default.ini");
    return profile;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    imsaka::vicc::Profile profile = baseProfile();
    profile.protocol = (data[0] & 1) ? imsaka::vicc::Protocol::T0 : imsaka::vicc::Protocol::T1;
    profile.pinEnabled = (data[0] & 2) != 0;
    profile.logicalChannels = (data[0] & 4) == 0;
    profile.pinKind =
        (data[0] & 8) ? imsaka::vicc::PinKind::Universal : imsaka::vicc::PinKind::Application;
    imsaka::vicc::Card card(profile);
    card.powerOn();
    size_t start = 1;
    for (size_t i = 1; i <= size; ++i) {
        bool split = i + 1 < size && data[i] == 0xFF && data[i + 1] == 0xFE;
        if (i == size || split) {
            imsaka::SecureBytes response = card.transmit(imsaka::ByteView(data + start, i - start));
            if (response.size() < 2) std::abort();  // every answer ends with a status word
            if (split) ++i;
            start = i + 1;
        }
    }
    return 0;
}
