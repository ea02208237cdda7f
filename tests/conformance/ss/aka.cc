#include "aka.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace imsaka::conformance {
namespace {

Block blockFromHex(std::string_view hex, const char* what) {
    auto bytes = fromHex(hex);
    if (!bytes || bytes->size() != 16)
        throw std::invalid_argument(std::string(what) + " is not 16 bytes of hex");
    Block block{};
    std::copy(bytes->begin(), bytes->end(), block.begin());
    return block;
}

Block xorBlocks(const Block& a, const Block& b) {
    Block out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(a[i] ^ b[i]);
    return out;
}

// Cyclic left rotation of a 128-bit string by a whole number of bytes (TS 35.206 uses
// r = 0, 64, 32, 64, 96 bits: all multiples of 8).
Block rotateLeft(const Block& x, size_t bits) {
    size_t bytes = bits / 8;
    Block out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = x[(i + bytes) % out.size()];
    return out;
}

Block constant(uint8_t last) {
    Block c{};
    c[15] = last;
    return c;
}

std::string md5Hex(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr) != 1)
        throw std::runtime_error("MD5 failed");
    return toHex(ByteView(digest, length));
}

}  // namespace

Sqn sqnFromNumber(uint64_t value) {
    Sqn sqn{};
    for (size_t i = 0; i < sqn.size(); ++i)
        sqn[sqn.size() - 1 - i] = static_cast<uint8_t>(value >> (8 * i));
    return sqn;
}

uint64_t sqnToNumber(const Sqn& sqn) {
    uint64_t value = 0;
    for (uint8_t byte : sqn) value = value << 8 | byte;
    return value;
}

Milenage::Milenage(const Block& k, const Block& opc) : k_(k), opc_(opc) {}

Block Milenage::encrypt(const Block& input) const {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> context(EVP_CIPHER_CTX_new(),
                                                                            EVP_CIPHER_CTX_free);
    Block out{};
    int length = 0;
    if (!context ||
        EVP_EncryptInit_ex(context.get(), EVP_aes_128_ecb(), nullptr, k_.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(context.get(), 0) != 1 ||
        EVP_EncryptUpdate(context.get(), out.data(), &length, input.data(),
                          static_cast<int>(input.size())) != 1 ||
        length != 16)
        throw std::runtime_error("AES-128 failed");
    return out;
}

Milenage::Outputs Milenage::compute(const Block& rand, const Sqn& sqn, const Amf& amf) const {
    Outputs out{};
    const Block temp = encrypt(xorBlocks(rand, opc_));
    // f1, f1*: IN1 = SQN || AMF || SQN || AMF, r1 = 64, c1 = 0.
    Block in1{};
    for (size_t i = 0; i < 2; ++i) {
        std::copy(sqn.begin(), sqn.end(), in1.begin() + static_cast<long>(8 * i));
        std::copy(amf.begin(), amf.end(), in1.begin() + static_cast<long>(8 * i + 6));
    }
    Block out1 = xorBlocks(encrypt(xorBlocks(temp, rotateLeft(xorBlocks(in1, opc_), 64))), opc_);
    std::copy(out1.begin(), out1.begin() + 8, out.macA.begin());
    std::copy(out1.begin() + 8, out1.end(), out.macS.begin());
    // f2..f5*: OUTi = E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc.
    auto output = [&](size_t rotation, uint8_t c) {
        return xorBlocks(
            encrypt(xorBlocks(rotateLeft(xorBlocks(temp, opc_), rotation), constant(c))), opc_);
    };
    Block out2 = output(0, 1);
    std::copy(out2.begin(), out2.begin() + 6, out.ak.begin());
    std::copy(out2.begin() + 8, out2.end(), out.res.begin());
    out.ck = output(32, 2);
    out.ik = output(64, 4);
    Block out5 = output(96, 8);
    std::copy(out5.begin(), out5.begin() + 6, out.akStar.begin());
    return out;
}

HomeNetwork::HomeNetwork(std::string_view kHex, std::string_view opcHex, std::string_view amfHex)
    : milenage_(blockFromHex(kHex, "K"), blockFromHex(opcHex, "OPc")) {
    auto amf = fromHex(amfHex);
    if (!amf || amf->size() != 2) throw std::invalid_argument("AMF is not 2 bytes of hex");
    std::copy(amf->begin(), amf->end(), amf_.begin());
}

Vector HomeNetwork::vector(uint64_t sqn, ChallengeKind kind) const {
    Vector v;
    v.sqn = sqn;
    if (RAND_bytes(v.rand.data(), static_cast<int>(v.rand.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
    const Sqn sqnBytes = sqnFromNumber(sqn);
    auto f = milenage_.compute(v.rand, sqnBytes, amf_);
    // AUTN = (SQN xor AK) || AMF || MAC-A (TS 33.102 6.3.2).
    for (size_t i = 0; i < 6; ++i) v.autn[i] = static_cast<uint8_t>(sqnBytes[i] ^ f.ak[i]);
    std::copy(amf_.begin(), amf_.end(), v.autn.begin() + 6);
    std::copy(f.macA.begin(), f.macA.end(), v.autn.begin() + 8);
    if (kind == ChallengeKind::WrongMac) v.autn[15] ^= 0x5a;
    v.xres = SecureBytes(f.res.begin(), f.res.end());
    v.ck = SecureBytes(f.ck.begin(), f.ck.end());
    v.ik = SecureBytes(f.ik.begin(), f.ik.end());
    Bytes nonce(v.rand.begin(), v.rand.end());
    nonce.insert(nonce.end(), v.autn.begin(), v.autn.end());
    v.nonce = base64(nonce);
    OPENSSL_cleanse(&f, sizeof f);
    return v;
}

std::optional<uint64_t> HomeNetwork::sqnFromAuts(const Vector& challenge,
                                                 std::string_view autsBase64) const {
    auto auts = fromBase64(autsBase64);
    if (!auts || auts->size() != 14) return std::nullopt;
    // AUTS = (SQN_MS xor AK*) || MAC-S, AK* = f5*(RAND), MAC-S = f1*(SQN_MS, RAND, AMF 0000).
    auto first = milenage_.compute(challenge.rand, Sqn{}, Amf{});
    Sqn sqnMs{};
    for (size_t i = 0; i < 6; ++i) sqnMs[i] = static_cast<uint8_t>((*auts)[i] ^ first.akStar[i]);
    auto check = milenage_.compute(challenge.rand, sqnMs, Amf{});
    if (!std::equal(check.macS.begin(), check.macS.end(), auts->begin() + 6)) return std::nullopt;
    return sqnToNumber(sqnMs);
}

std::string digestResponse(std::string_view username, std::string_view realm, ByteView password,
                           std::string_view nonce, std::string_view method, std::string_view uri,
                           std::string_view qop, std::string_view nc, std::string_view cnonce) {
    std::string a1 = std::string(username) + ":" + std::string(realm) + ":";
    a1.append(reinterpret_cast<const char*>(password.data()), password.size());
    std::string ha1 = md5Hex(a1);
    OPENSSL_cleanse(a1.data(), a1.size());
    std::string ha2 = md5Hex(std::string(method) + ":" + std::string(uri));
    if (qop.empty()) return md5Hex(ha1 + ":" + std::string(nonce) + ":" + ha2);
    return md5Hex(ha1 + ":" + std::string(nonce) + ":" + std::string(nc) + ":" +
                  std::string(cnonce) + ":" + std::string(qop) + ":" + ha2);
}

std::string base64(ByteView bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(written));
    return out;
}

std::optional<Bytes> fromBase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    Bytes out(text.size() / 4 * 3);
    int written = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (written < 0) return std::nullopt;
    size_t padding = 0;
    for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) ++padding;
    if (padding > 2) return std::nullopt;
    out.resize(static_cast<size_t>(written) - padding);
    return out;
}

}  // namespace imsaka::conformance
