#include "imsaka/testing/aka_centre.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace imsaka::testing {
namespace {

Bytes hexOrThrow(std::string_view hex, size_t length, const char* what) {
    auto bytes = fromHex(hex);
    if (!bytes || bytes->size() != length)
        throw ImsNetworkError(std::string(what) + " is not " + std::to_string(length * 2) +
                              " hex digits");
    return *bytes;
}

std::string md5Hex(std::string_view text) {
    std::array<uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_md5(), nullptr) != 1)
        throw ImsNetworkError("MD5 failed");
    return toHex(ByteView(digest.data(), length));
}

// AUTS is base64 of 14 bytes: 20 characters with "==" padding.
Bytes decodeAuts(std::string_view text) {
    if (text.size() != 20)
        throw ImsNetworkError("auts is not base64 of 14 bytes: " + std::string(text));
    Bytes decoded(15);
    if (EVP_DecodeBlock(decoded.data(), reinterpret_cast<const uint8_t*>(text.data()), 20) != 15)
        throw ImsNetworkError("auts is not base64: " + std::string(text));
    decoded.resize(milenage::kAutsLength);
    return decoded;
}

}  // namespace

AkaCentre::AkaCentre(std::string_view kHex, std::string_view opcHex, std::string_view amfHex)
    : algorithm_(hexOrThrow(kHex, milenage::kKeyLength, "K"),
                 hexOrThrow(opcHex, milenage::kKeyLength, "OPc")),
      amf_(hexOrThrow(amfHex, milenage::kAmfLength, "AMF")) {}

IssuedVector AkaCentre::issue(uint64_t sqn) const {
    IssuedVector issued;
    issued.sqn = sqn;
    issued.vector = milenage::generateVector(algorithm_, milenage::sqnFromInt(sqn), amf_);
    sip::AkaNonce nonce;
    std::copy(issued.vector.rand.begin(), issued.vector.rand.end(), nonce.rand.begin());
    std::copy(issued.vector.autn.begin(), issued.vector.autn.end(), nonce.autn.begin());
    issued.nonce = sip::encodeAkaNonce(nonce);
    return issued;
}

std::optional<uint64_t> AkaCentre::sqnFromAuts(const IssuedVector& issued,
                                               std::string_view auts) const {
    auto result = milenage::decodeAuts(algorithm_, issued.vector.rand, decodeAuts(auts));
    if (!result.macValid) return std::nullopt;
    return milenage::sqnToInt(result.sqnMs);
}

AkaVerdict AkaCentre::verify(const IssuedVector& issued, const sip::DigestCredentials& credentials,
                             sip::DigestAlgorithm algorithm, std::string_view method) const {
    AkaVerdict verdict;
    SecureBytes password = expectedAkaPassword(algorithm, issued.vector);
    verdict.expectedResponse = expectedDigest(credentials, password, method);
    if (credentials.auts) {
        verdict.kind = AuthorizationKind::SyncFailure;
        verdict.sqnMs = sqnFromAuts(issued, *credentials.auts);
    } else if (credentials.response.empty()) {
        verdict.kind = AuthorizationKind::MacFailure;
    } else if (credentials.response == verdict.expectedResponse) {
        verdict.kind = AuthorizationKind::Valid;
    }
    return verdict;
}

SecureBytes expectedAkaPassword(sip::DigestAlgorithm algorithm,
                                const milenage::AuthVector& vector) {
    if (algorithm == sip::DigestAlgorithm::AkaV1Md5) return secureCopy(vector.xres);
    if (algorithm != sip::DigestAlgorithm::AkaV2Md5)
        throw ImsNetworkError("not an AKA algorithm: " + std::string(sip::toString(algorithm)));
    SecureBytes key;
    key.insert(key.end(), vector.xres.begin(), vector.xres.end());
    key.insert(key.end(), vector.ik.begin(), vector.ik.end());
    key.insert(key.end(), vector.ck.begin(), vector.ck.end());
    static constexpr std::string_view kLabel = "http-digest-akav2-password";
    SecureBytes mac(EVP_MAX_MD_SIZE);
    size_t macLength = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "MD5", nullptr, key.data(), key.size(),
                   reinterpret_cast<const uint8_t*>(kLabel.data()), kLabel.size(), mac.data(),
                   mac.size(), &macLength))
        throw ImsNetworkError("HMAC-MD5 failed");
    SecureBytes encoded(4 * ((macLength + 2) / 3) + 1);
    int written = EVP_EncodeBlock(encoded.data(), mac.data(), static_cast<int>(macLength));
    encoded.resize(static_cast<size_t>(written));
    return encoded;
}

std::string expectedDigest(const sip::DigestCredentials& credentials, ByteView password,
                           std::string_view method) {
    std::string a1 = credentials.username + ":" + credentials.realm + ":";
    a1.append(reinterpret_cast<const char*>(password.data()), password.size());
    std::string ha1 = md5Hex(a1);
    std::fill(a1.begin(), a1.end(), '\0');
    std::string ha2 = md5Hex(std::string(method) + ":" + credentials.uri);
    if (!credentials.qop) return md5Hex(ha1 + ":" + credentials.nonce + ":" + ha2);
    return md5Hex(ha1 + ":" + credentials.nonce + ":" + credentials.nc.value_or("") + ":" +
                  credentials.cnonce.value_or("") + ":" + *credentials.qop + ":" + ha2);
}

}  // namespace imsaka::testing
