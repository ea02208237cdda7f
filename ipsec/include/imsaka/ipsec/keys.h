// TS 33.203 Annex I: the ESP algorithms of sec-agree and the keys derived from CK and IK.
#pragma once

#include <optional>
#include <string_view>

#include "imsaka/common/bytes.h"

namespace imsaka::ipsec {

enum class Integrity { HmacMd5_96, HmacSha1_96 };
enum class Encryption { Null, AesCbc, DesEde3Cbc };

// The sec-agree names ("hmac-md5-96", "aes-cbc", ...).
std::string_view secAgreeName(Integrity algorithm);
std::string_view secAgreeName(Encryption algorithm);
std::optional<Integrity> integrityFromSecAgree(std::string_view name);
// An absent ealg means null: pass an empty name for it.
std::optional<Encryption> encryptionFromSecAgree(std::string_view name);

// The Linux crypto API names the kernel expects ("hmac(md5)", "cbc(aes)", ...).
std::string_view kernelName(Integrity algorithm);
std::string_view kernelName(Encryption algorithm);

// IK_ESP: hmac-md5-96 takes IK as is; hmac-sha-1-96 takes IK followed by 32 zero bits.
// Throws XfrmError(InvalidArgument) unless IK has 16 bytes.
SecureBytes integrityKey(Integrity algorithm, ByteView ik);
// CK_ESP: aes-cbc takes CK as is; des-ede3-cbc takes CK1 || CK2 || CK1 (the 64-bit
// halves of CK); null takes no key. Throws XfrmError(InvalidArgument) unless CK has 16 bytes.
SecureBytes encryptionKey(Encryption algorithm, ByteView ck);

}  // namespace imsaka::ipsec
