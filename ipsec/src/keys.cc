#include "imsaka/ipsec/keys.h"

#include "imsaka/ipsec/error.h"

namespace imsaka::ipsec {
namespace {

constexpr size_t kAkaKeySize = 16;

void requireAkaKey(ByteView key, const char* name) {
    if (key.size() != kAkaKeySize)
        throw XfrmError(
            XfrmErrorCode::InvalidArgument, "key expansion",
            std::string(name) + " must have 16 bytes, not " + std::to_string(key.size()));
}

}  // namespace

std::string_view secAgreeName(Integrity algorithm) {
    return algorithm == Integrity::HmacMd5_96 ? "hmac-md5-96" : "hmac-sha-1-96";
}

std::string_view secAgreeName(Encryption algorithm) {
    switch (algorithm) {
        case Encryption::Null:
            return "null";
        case Encryption::AesCbc:
            return "aes-cbc";
        case Encryption::DesEde3Cbc:
            return "des-ede3-cbc";
    }
    return "null";
}

std::optional<Integrity> integrityFromSecAgree(std::string_view name) {
    if (name == "hmac-md5-96") return Integrity::HmacMd5_96;
    if (name == "hmac-sha-1-96") return Integrity::HmacSha1_96;
    return std::nullopt;
}

std::optional<Encryption> encryptionFromSecAgree(std::string_view name) {
    if (name.empty() || name == "null") return Encryption::Null;
    if (name == "aes-cbc") return Encryption::AesCbc;
    if (name == "des-ede3-cbc") return Encryption::DesEde3Cbc;
    return std::nullopt;
}

std::string_view kernelName(Integrity algorithm) {
    return algorithm == Integrity::HmacMd5_96 ? "hmac(md5)" : "hmac(sha1)";
}

std::string_view kernelName(Encryption algorithm) {
    switch (algorithm) {
        case Encryption::Null:
            return "ecb(cipher_null)";
        case Encryption::AesCbc:
            return "cbc(aes)";
        case Encryption::DesEde3Cbc:
            return "cbc(des3_ede)";
    }
    return "ecb(cipher_null)";
}

SecureBytes integrityKey(Integrity algorithm, ByteView ik) {
    requireAkaKey(ik, "IK");
    SecureBytes key = secureCopy(ik);
    if (algorithm == Integrity::HmacSha1_96) key.resize(kAkaKeySize + 4, 0);
    return key;
}

SecureBytes encryptionKey(Encryption algorithm, ByteView ck) {
    requireAkaKey(ck, "CK");
    switch (algorithm) {
        case Encryption::Null:
            return {};
        case Encryption::AesCbc:
            return secureCopy(ck);
        case Encryption::DesEde3Cbc: {
            SecureBytes key;
            key.reserve(24);
            key.insert(key.end(), ck.begin(), ck.end());
            key.insert(key.end(), ck.begin(), ck.begin() + 8);
            return key;
        }
    }
    return {};
}

}  // namespace imsaka::ipsec
