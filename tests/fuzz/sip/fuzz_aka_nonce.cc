// Nonces (base64 of RAND || AUTN || server data): decode, and what decodes encodes back to
// the same bytes.
#include <cstdlib>

#include "imsaka/sip/digest.h"

using namespace imsaka::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view nonce(reinterpret_cast<const char*>(data), size);
    AkaNonce decoded;
    try {
        decoded = decodeAkaNonce(nonce);
    } catch (const DigestError& error) {
        if (error.code() != DigestErrc::BadNonce || error.position() > size) std::abort();
        return 0;
    }
    auto again = decodeAkaNonce(encodeAkaNonce(decoded));
    if (again.rand != decoded.rand || again.autn != decoded.autn ||
        again.serverData != decoded.serverData) {
        std::abort();
    }
    return 0;
}
