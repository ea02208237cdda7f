// WWW-Authenticate values: parse; format and parse again; for AKA challenges decode the
// nonce and build each kind of answer, which must format and parse back.
#include <cstdlib>

#include "imsaka/sip/digest.h"

using namespace imsaka::sip;

namespace {
void checkAnswer(const DigestChallenge& challenge, const AkaResult& result) {
    DigestRequest request;
    request.username = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    request.uri = "sip:ims.mnc001.mcc001.3gppnetwork.org";
    request.cnonce = "0a4f113b";
    try {
        auto credentials = answerAkaChallenge(challenge, request, result);
        auto parsed = parseAuthorization(formatAuthorization(credentials));
        if (parsed.response != credentials.response || parsed.nonce != challenge.nonce) {
            std::abort();
        }
    } catch (const DigestError& error) {
        if (error.code() != DigestErrc::NoUsableQop &&
            error.code() != DigestErrc::InvalidArgument) {
            std::abort();
        }
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view value(reinterpret_cast<const char*>(data), size);
    DigestChallenge challenge;
    try {
        challenge = parseWwwAuthenticate(value);
    } catch (const DigestError& error) {
        if (error.position() > size) std::abort();
        return 0;
    }
    try {
        auto again = parseWwwAuthenticate(formatWwwAuthenticate(challenge));
        if (again.realm != challenge.realm || again.nonce != challenge.nonce ||
            again.qop != challenge.qop || again.algorithm != challenge.algorithm) {
            std::abort();
        }
    } catch (const DigestError& error) {
        // Only an unknown parameter that cannot be written back may refuse to format.
        if (error.code() != DigestErrc::InvalidArgument) std::abort();
    }
    if (!challenge.isAka()) return 0;
    try {
        decodeAkaNonce(challenge.nonce);
    } catch (const DigestError& error) {
        if (error.code() != DigestErrc::BadNonce) std::abort();
    }
    imsaka::SecureBytes sixteen(16, 0x5a);
    checkAnswer(challenge, AkaSuccess{sixteen, sixteen, sixteen});
    checkAnswer(challenge, AkaSyncFailure{imsaka::Bytes(14, 0x11)});
    checkAnswer(challenge, AkaMacFailure{});
    return 0;
}
