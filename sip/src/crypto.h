// MD5, HMAC-MD5 and base64 through OpenSSL EVP.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "imsaka/common/bytes.h"

namespace imsaka::sip {

// 32 lowercase hex digits, on the stack so that HA1 leaves no heap copy behind.
struct Md5Hex {
    std::array<char, 32> digits;
    std::string_view view() const { return {digits.data(), digits.size()}; }
    ByteView bytes() const { return {reinterpret_cast<const uint8_t*>(digits.data()), 32}; }
};

// MD5 over the parts joined by ':'. Parts are hashed where they are, so that a password
// among them is never copied.
Md5Hex md5HexJoined(std::initializer_list<ByteView> parts);

inline ByteView asBytes(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// HMAC-MD5 (16 bytes), into a wiping buffer.
SecureBytes hmacMd5(ByteView key, ByteView message);

std::string base64Encode(ByteView bytes);
// Wipes its intermediate buffer; for secrets.
SecureBytes base64EncodeSecret(ByteView bytes);

// Strict base64: the standard alphabet with '=' padding (missing padding accepted).
// On failure, the offset of the first offending character (or the text's length).
struct Base64Result {
    std::optional<Bytes> bytes;
    size_t errorPosition = 0;
};
Base64Result base64Decode(std::string_view text);

}  // namespace imsaka::sip
