#include "crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace imsaka::sip {

namespace {

const EVP_MD* md5() {
    // Fetched once: an implicit fetch on every digest would cost more than the digest.
    static EVP_MD* algorithm = EVP_MD_fetch(nullptr, "MD5", nullptr);
    if (!algorithm) throw std::runtime_error("OpenSSL has no MD5 in its default provider");
    return algorithm;
}

struct ContextFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

}  // namespace

Md5Hex md5HexJoined(std::initializer_list<ByteView> parts) {
    thread_local std::unique_ptr<EVP_MD_CTX, ContextFree> context(EVP_MD_CTX_new());
    if (!context || !EVP_DigestInit_ex(context.get(), md5(), nullptr)) {
        throw std::runtime_error("MD5 is not available");
    }
    bool first = true;
    for (ByteView part : parts) {
        if (!first) EVP_DigestUpdate(context.get(), ":", 1);
        first = false;
        EVP_DigestUpdate(context.get(), part.data(), part.size());
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!EVP_DigestFinal_ex(context.get(), digest, &length)) {
        throw std::runtime_error("MD5 failed");
    }
    if (length != 16) throw std::runtime_error("MD5 gave an unexpected length");
    Md5Hex hex;
    for (size_t i = 0; i < 16; ++i) {
        hex.digits[2 * i] = "0123456789abcdef"[digest[i] >> 4];
        hex.digits[2 * i + 1] = "0123456789abcdef"[digest[i] & 0x0f];
    }
    OPENSSL_cleanse(digest, sizeof digest);
    return hex;
}

SecureBytes hmacMd5(ByteView key, ByteView message) {
    SecureBytes out(EVP_MAX_MD_SIZE);
    size_t length = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "MD5", nullptr, key.data(), key.size(), message.data(),
                   message.size(), out.data(), out.size(), &length)) {
        throw std::runtime_error("HMAC-MD5 is not available");
    }
    out.resize(length);
    return out;
}

SecureBytes base64EncodeSecret(ByteView bytes) {
    SecureBytes out(4 * ((bytes.size() + 2) / 3) + 1);
    int length = EVP_EncodeBlock(out.data(), bytes.data(), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(length));
    return out;
}

std::string base64Encode(ByteView bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                 static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(length));
    return out;
}

Base64Result base64Decode(std::string_view text) {
    auto isAlphabet = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/';
    };
    size_t data = 0;
    while (data < text.size() && isAlphabet(text[data])) ++data;
    size_t padding = 0;
    while (data + padding < text.size() && text[data + padding] == '=' && padding < 2) ++padding;
    if (data + padding < text.size()) return {std::nullopt, data + padding};
    // Complete groups only: a lone trailing character carries less than a byte, and
    // padding must bring the length to a multiple of four when present.
    if (data % 4 == 1) return {std::nullopt, text.size()};
    if (padding != 0 && (data + padding) % 4 != 0) return {std::nullopt, text.size()};
    std::string padded(text.substr(0, data));
    padded.append((4 - data % 4) % 4, '=');
    Bytes out(padded.size() / 4 * 3);
    int length = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(padded.data()),
                                 static_cast<int>(padded.size()));
    if (length < 0) return {std::nullopt, 0};
    // EVP_DecodeBlock counts the bytes that padding stands for; drop them.
    out.resize(static_cast<size_t>(length) - (padded.size() - data));
    return {std::move(out), 0};
}

}  // namespace imsaka::sip
