// The 3GPP authentication functions f1..f5* (Milenage, TS 35.206, and the TS 34.108
// XOR test algorithm) and what the network side builds from them: authentication
// vectors (TS 33.102 6.3.2) and the decoding of a resynchronisation token AUTS.
#pragma once

#include <imsaka/common/bytes.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace imsaka::milenage {

inline constexpr size_t kKeyLength = 16;
inline constexpr size_t kRandLength = 16;
inline constexpr size_t kSqnLength = 6;
inline constexpr size_t kAmfLength = 2;
inline constexpr size_t kMacLength = 8;
inline constexpr size_t kAkLength = 6;
inline constexpr size_t kAutnLength = 16;
inline constexpr size_t kAutsLength = 14;

class MilenageError : public std::runtime_error {
  public:
    enum class Code { BadLength, Crypto };
    MilenageError(Code code, const std::string& what) : std::runtime_error(what), code_(code) {}
    Code code() const { return code_; }

  private:
    Code code_;
};

// RES, CK, IK and AK from one RAND (f2, f3, f4, f5).
struct ResponseKeys {
    SecureBytes res;
    SecureBytes ck;
    SecureBytes ik;
    SecureBytes ak;
};

// The functions a USIM and its AuC share. RAND is 16 bytes, SQN 6, AMF 2; wrong
// lengths throw MilenageError(BadLength).
class AkaAlgorithm {
  public:
    virtual ~AkaAlgorithm() = default;
    virtual SecureBytes f1(ByteView rand, ByteView sqn, ByteView amf) const = 0;      // MAC-A
    virtual SecureBytes f1star(ByteView rand, ByteView sqn, ByteView amf) const = 0;  // MAC-S
    virtual ResponseKeys f2345(ByteView rand) const = 0;
    virtual SecureBytes f5star(ByteView rand) const = 0;  // AK for resynchronisation
};

// OPc = AES_K(OP) xor OP.
SecureBytes computeOpc(ByteView k, ByteView op);

// Milenage with AES-128 as the kernel. Holds K and OPc for its lifetime.
class Milenage final : public AkaAlgorithm {
  public:
    Milenage(ByteView k, ByteView opc);
    ~Milenage() override;
    Milenage(const Milenage&) = delete;
    Milenage& operator=(const Milenage&) = delete;

    SecureBytes f1(ByteView rand, ByteView sqn, ByteView amf) const override;
    SecureBytes f1star(ByteView rand, ByteView sqn, ByteView amf) const override;
    ResponseKeys f2345(ByteView rand) const override;
    SecureBytes f5star(ByteView rand) const override;

  private:
    class Cipher;
    friend SecureBytes computeOpc(ByteView k, ByteView op);
    SecureBytes opc_;
    std::unique_ptr<Cipher> cipher_;
};

// The XOR test algorithm of TS 34.108 8.1.2 used by conformance test SIMs: RES is
// the full 16 bytes of K xor RAND.
class XorTestAlgorithm final : public AkaAlgorithm {
  public:
    explicit XorTestAlgorithm(ByteView k);

    SecureBytes f1(ByteView rand, ByteView sqn, ByteView amf) const override;
    SecureBytes f1star(ByteView rand, ByteView sqn, ByteView amf) const override;
    ResponseKeys f2345(ByteView rand) const override;
    SecureBytes f5star(ByteView rand) const override;

  private:
    SecureBytes xdout(ByteView rand) const;
    SecureBytes k_;
};

// What the AuC hands to the serving network.
struct AuthVector {
    Bytes rand;
    Bytes autn;  // (SQN xor AK) || AMF || MAC-A
    SecureBytes xres;
    SecureBytes ck;
    SecureBytes ik;
    SecureBytes ak;
};

// Builds a vector for SQN and AMF; RAND comes from RAND_bytes unless given.
AuthVector generateVector(const AkaAlgorithm& algorithm, ByteView sqn, ByteView amf,
                          std::optional<ByteView> rand = std::nullopt);

struct AutsResult {
    Bytes sqnMs;  // 6 bytes: the highest SQN the card has accepted
    bool macValid = false;
};

// AUTS = (SQN_MS xor f5*(RAND)) || f1*(K, SQN_MS, RAND, AMF=0000).
AutsResult decodeAuts(const AkaAlgorithm& algorithm, ByteView rand, ByteView auts);

// Builds an AUTS as the card does; decodeAuts is its inverse.
Bytes buildAuts(const AkaAlgorithm& algorithm, ByteView rand, ByteView sqnMs);

// 48-bit SQN values as integers, for arithmetic on SEQ/IND.
uint64_t sqnToInt(ByteView sqn);
Bytes sqnFromInt(uint64_t value);

}  // namespace imsaka::milenage
