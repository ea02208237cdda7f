// Milenage (TS 35.206 section 4): every output is
//   OUTn = E_K(rot(TEMP xor OPc, rn) xor cn) xor OPc,  TEMP = E_K(RAND xor OPc)
// with OUT1 also mixing in SQN||AMF||SQN||AMF.
#include <imsaka/milenage/milenage.h>
#include <openssl/evp.h>

#include <array>

#include "checks.h"

namespace imsaka::milenage {
namespace {

constexpr size_t kBlock = 16;
using Block = std::array<uint8_t, kBlock>;

// Wipes a stack block on scope exit.
struct BlockGuard {
    Block& block;
    ~BlockGuard() { OPENSSL_cleanse(block.data(), block.size()); }
};

// Cyclic rotation towards the most significant end by `bytes` bytes (TS 35.206 uses
// whole-byte rotations: r1 = 64, r2 = 0, r3 = 32, r4 = 64, r5 = 96 bits).
Block rotate(const Block& in, size_t bytes) {
    Block out{};
    for (size_t i = 0; i < kBlock; ++i) out[i] = in[(i + bytes) % kBlock];
    return out;
}

}  // namespace

// AES-128-ECB keyed with K once; ECB treats each block on its own, so one context
// serves every call.
class Milenage::Cipher {
  public:
    explicit Cipher(ByteView k) : context_(EVP_CIPHER_CTX_new()) {
        if (context_ == nullptr ||
            EVP_EncryptInit_ex(context_, EVP_aes_128_ecb(), nullptr, k.data(), nullptr) != 1 ||
            EVP_CIPHER_CTX_set_padding(context_, 0) != 1) {
            EVP_CIPHER_CTX_free(context_);
            throw MilenageError(MilenageError::Code::Crypto, "AES-128 setup failed");
        }
    }
    ~Cipher() { EVP_CIPHER_CTX_free(context_); }
    Cipher(const Cipher&) = delete;
    Cipher& operator=(const Cipher&) = delete;

    Block encrypt(const Block& in) const {
        Block out{};
        int written = 0;
        if (EVP_EncryptUpdate(context_, out.data(), &written, in.data(), kBlock) != 1 ||
            written != static_cast<int>(kBlock)) {
            throw MilenageError(MilenageError::Code::Crypto, "AES-128 encryption failed");
        }
        return out;
    }

  private:
    EVP_CIPHER_CTX* context_;
};

SecureBytes computeOpc(ByteView k, ByteView op) {
    requireLength(k, kKeyLength, "K");
    requireLength(op, kKeyLength, "OP");
    Block opBlock{};
    BlockGuard guardOp{opBlock};
    std::copy(op.begin(), op.end(), opBlock.begin());
    Milenage::Cipher cipher(k);
    Block encrypted = cipher.encrypt(opBlock);
    BlockGuard guardEncrypted{encrypted};
    SecureBytes opc(kBlock);
    for (size_t i = 0; i < kBlock; ++i) opc[i] = encrypted[i] ^ opBlock[i];
    return opc;
}

Milenage::Milenage(ByteView k, ByteView opc) {
    requireLength(k, kKeyLength, "K");
    requireLength(opc, kKeyLength, "OPc");
    opc_ = secureCopy(opc);
    cipher_ = std::make_unique<Cipher>(k);
}

Milenage::~Milenage() = default;

namespace {

// TEMP = E_K(RAND xor OPc).
Block temp(const auto& cipher, ByteView rand, const SecureBytes& opc) {
    requireLength(rand, kRandLength, "RAND");
    Block in{};
    BlockGuard guard{in};
    for (size_t i = 0; i < kBlock; ++i) in[i] = rand[i] ^ opc[i];
    return cipher.encrypt(in);
}

// OUTn for n = 2..5: rotation in bytes and the constant's last byte.
Block output(const auto& cipher, const Block& tempBlock, const SecureBytes& opc,
             size_t rotationBytes, uint8_t constant) {
    Block mixed{};
    BlockGuard guardMixed{mixed};
    for (size_t i = 0; i < kBlock; ++i) mixed[i] = tempBlock[i] ^ opc[i];
    Block in = rotate(mixed, rotationBytes);
    BlockGuard guardIn{in};
    in[kBlock - 1] ^= constant;
    Block out = cipher.encrypt(in);
    for (size_t i = 0; i < kBlock; ++i) out[i] ^= opc[i];
    return out;
}

SecureBytes slice(const Block& block, size_t offset, size_t length) {
    return SecureBytes(block.begin() + static_cast<std::ptrdiff_t>(offset),
                       block.begin() + static_cast<std::ptrdiff_t>(offset + length));
}

// OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc, r1 = 64 bits, c1 = 0.
Block out1(const auto& cipher, const SecureBytes& opc, ByteView rand, ByteView sqn, ByteView amf) {
    requireLength(sqn, kSqnLength, "SQN");
    requireLength(amf, kAmfLength, "AMF");
    Block tempBlock = temp(cipher, rand, opc);
    BlockGuard guardTemp{tempBlock};
    Block in1{};
    BlockGuard guardIn1{in1};  // holds (SQN || AMF) xor OPc: OPc to anyone who knows SQN
    for (size_t half = 0; half < 2; ++half) {
        std::copy(sqn.begin(), sqn.end(), in1.begin() + static_cast<std::ptrdiff_t>(half * 8));
        std::copy(amf.begin(), amf.end(), in1.begin() + static_cast<std::ptrdiff_t>(half * 8 + 6));
    }
    for (size_t i = 0; i < kBlock; ++i) in1[i] ^= opc[i];
    Block rotated = rotate(in1, 8);
    BlockGuard guardRotated{rotated};
    for (size_t i = 0; i < kBlock; ++i) rotated[i] ^= tempBlock[i];
    Block out = cipher.encrypt(rotated);
    for (size_t i = 0; i < kBlock; ++i) out[i] ^= opc[i];
    return out;
}

}  // namespace

SecureBytes Milenage::f1(ByteView rand, ByteView sqn, ByteView amf) const {
    Block out = out1(*cipher_, opc_, rand, sqn, amf);
    BlockGuard guard{out};
    return slice(out, 0, kMacLength);
}

SecureBytes Milenage::f1star(ByteView rand, ByteView sqn, ByteView amf) const {
    Block out = out1(*cipher_, opc_, rand, sqn, amf);
    BlockGuard guard{out};
    return slice(out, 8, kMacLength);
}

ResponseKeys Milenage::f2345(ByteView rand) const {
    Block tempBlock = temp(*cipher_, rand, opc_);
    BlockGuard guardTemp{tempBlock};
    Block out2 = output(*cipher_, tempBlock, opc_, 0, 1);
    Block out3 = output(*cipher_, tempBlock, opc_, 4, 2);
    Block out4 = output(*cipher_, tempBlock, opc_, 8, 4);
    BlockGuard guard2{out2}, guard3{out3}, guard4{out4};
    ResponseKeys keys;
    keys.res = slice(out2, 8, 8);
    keys.ak = slice(out2, 0, kAkLength);
    keys.ck = slice(out3, 0, kBlock);
    keys.ik = slice(out4, 0, kBlock);
    return keys;
}

SecureBytes Milenage::f5star(ByteView rand) const {
    Block tempBlock = temp(*cipher_, rand, opc_);
    BlockGuard guardTemp{tempBlock};
    Block out5 = output(*cipher_, tempBlock, opc_, 12, 8);
    BlockGuard guard5{out5};
    return slice(out5, 0, kAkLength);
}

}  // namespace imsaka::milenage
