// Digest AKA: the nonce (RFC 3310 3.2), the AKAv1 and AKAv2 passwords (RFC 3310 3.4,
// RFC 4169 4) and the RFC 2617 response computed from them.
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "crypto.h"
#include "digest_fail.h"
#include "imsaka/sip/digest.h"
#include "scanner.h"

namespace imsaka::sip {

namespace {

std::string randomCnonce() {
    uint8_t bytes[8];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw std::runtime_error("no random bytes for the cnonce");
    }
    return toHex(bytes);
}

std::string nonceCount(uint32_t count) {
    std::string text(8, '0');
    for (size_t i = 8; i-- > 0; count >>= 4) text[i] = "0123456789abcdef"[count & 0xf];
    return text;
}

// RFC 2617 3.2.2: the client picks one of the offered qop values.
std::string chooseQop(const DigestChallenge& challenge, const DigestRequest& request) {
    bool auth = challenge.offersQop("auth");
    bool authInt = challenge.offersQop("auth-int");
    if (authInt && (request.preferAuthInt || !auth)) return "auth-int";
    if (auth) return "auth";
    std::string offered;
    for (const auto& qop : challenge.qop) offered += (offered.empty() ? "" : ",") + qop;
    fail(DigestErrc::NoUsableQop, "qop offers neither auth nor auth-int: " + offered);
}

}  // namespace

AkaNonce decodeAkaNonce(std::string_view nonce) {
    auto decoded = base64Decode(nonce);
    if (!decoded.bytes)
        fail(DigestErrc::BadNonce, "the nonce is not base64", decoded.errorPosition);
    const Bytes& bytes = *decoded.bytes;
    if (bytes.size() < 32) {
        fail(DigestErrc::BadNonce,
             "the nonce holds " + std::to_string(bytes.size()) +
                 " bytes, fewer than RAND and AUTN (32)",
             nonce.size());
    }
    AkaNonce out;
    std::copy_n(bytes.begin(), 16, out.rand.begin());
    std::copy_n(bytes.begin() + 16, 16, out.autn.begin());
    out.serverData.assign(bytes.begin() + 32, bytes.end());
    return out;
}

std::string encodeAkaNonce(const AkaNonce& nonce) {
    Bytes bytes(nonce.rand.begin(), nonce.rand.end());
    bytes.insert(bytes.end(), nonce.autn.begin(), nonce.autn.end());
    bytes.insert(bytes.end(), nonce.serverData.begin(), nonce.serverData.end());
    return base64Encode(bytes);
}

SecureBytes akaPassword(DigestAlgorithm algorithm, const AkaSuccess& result) {
    switch (algorithm) {
        case DigestAlgorithm::AkaV1Md5:
            // The raw RES bytes, however many and whatever their values.
            return result.res;
        case DigestAlgorithm::AkaV2Md5: {
            SecureBytes key;
            key.reserve(result.res.size() + result.ik.size() + result.ck.size());
            key.insert(key.end(), result.res.begin(), result.res.end());
            key.insert(key.end(), result.ik.begin(), result.ik.end());
            key.insert(key.end(), result.ck.begin(), result.ck.end());
            return base64EncodeSecret(hmacMd5(key, asBytes("http-digest-akav2-password")));
        }
        case DigestAlgorithm::Md5:
        case DigestAlgorithm::Other:
            break;
    }
    fail(DigestErrc::NotAka, "the algorithm is not AKAv1-MD5 or AKAv2-MD5");
}

std::string digestResponse(const DigestInput& input) {
    // HA1 stands in for the password: it stays on the stack and is wiped.
    Md5Hex ha1 = md5HexJoined({asBytes(input.username), asBytes(input.realm), input.password});
    Md5Hex ha2;
    if (input.qop == "auth-int") {
        Md5Hex bodyHash = md5HexJoined({asBytes(input.body)});
        ha2 = md5HexJoined({asBytes(input.method), asBytes(input.uri), bodyHash.bytes()});
    } else {
        ha2 = md5HexJoined({asBytes(input.method), asBytes(input.uri)});
    }
    Md5Hex response = input.qop.empty()
                          ? md5HexJoined({ha1.bytes(), asBytes(input.nonce), ha2.bytes()})
                          : md5HexJoined({ha1.bytes(), asBytes(input.nonce), asBytes(input.nc),
                                          asBytes(input.cnonce), asBytes(input.qop), ha2.bytes()});
    OPENSSL_cleanse(ha1.digits.data(), ha1.digits.size());
    return std::string(response.view());
}

DigestCredentials answerAkaChallenge(const DigestChallenge& challenge, const DigestRequest& request,
                                     const AkaResult& result) {
    if (!challenge.isAka()) {
        std::string name =
            challenge.algorithmText.empty() ? "MD5 (no algorithm)" : challenge.algorithmText;
        fail(DigestErrc::NotAka, "algorithm " + name + " is not AKAv1-MD5 or AKAv2-MD5");
    }
    for (std::string_view field :
         {std::string_view(request.username), std::string_view(request.uri),
          std::string_view(request.cnonce)}) {
        if (!isHeaderSafe(field)) {
            fail(DigestErrc::InvalidArgument, "a request field holds a control character");
        }
    }
    if (!isToken(request.method)) fail(DigestErrc::InvalidArgument, "method is not a token");

    DigestCredentials credentials;
    credentials.username = request.username;
    credentials.realm = challenge.realm;
    credentials.nonce = challenge.nonce;
    credentials.uri = request.uri;
    credentials.algorithmText = challenge.algorithmText.empty()
                                    ? std::string(toString(challenge.algorithm))
                                    : challenge.algorithmText;
    credentials.opaque = challenge.opaque;

    // 24.229 5.1.1.5.3: after a MAC failure the challenge is refused with an empty response.
    if (std::holds_alternative<AkaMacFailure>(result)) return credentials;

    SecureBytes password;
    if (const auto* success = std::get_if<AkaSuccess>(&result)) {
        if (success->res.size() < 4 || success->res.size() > 16) {
            fail(DigestErrc::InvalidArgument, "RES must be 4 to 16 bytes");
        }
        if (challenge.algorithm == DigestAlgorithm::AkaV2Md5 &&
            (success->ck.size() != 16 || success->ik.size() != 16)) {
            fail(DigestErrc::InvalidArgument, "AKAv2 needs a 16-byte CK and IK");
        }
        password = akaPassword(challenge.algorithm, *success);
    } else {
        // RFC 3310 3.4: on a sync failure the response is computed over an empty password.
        const auto& sync = std::get<AkaSyncFailure>(result);
        if (sync.auts.size() != 14) fail(DigestErrc::InvalidArgument, "AUTS must be 14 bytes");
        credentials.auts = base64Encode(sync.auts);
    }

    DigestInput input{.username = credentials.username,
                      .realm = credentials.realm,
                      .password = password,
                      .method = request.method,
                      .uri = credentials.uri,
                      .nonce = credentials.nonce,
                      .body = request.body};
    if (!challenge.qop.empty()) {
        credentials.qop = chooseQop(challenge, request);
        credentials.nc = nonceCount(request.nonceCount);
        credentials.cnonce = request.cnonce.empty() ? randomCnonce() : request.cnonce;
        input.qop = *credentials.qop;
        input.nc = *credentials.nc;
        input.cnonce = *credentials.cnonce;
    }
    credentials.response = digestResponse(input);
    return credentials;
}

}  // namespace imsaka::sip
