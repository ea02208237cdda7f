// The home network's half of IMS AKA for the system simulator, computed here with OpenSSL
// alone: Milenage (TS 35.206) for the card's K and OPc, authentication vectors with a SQN
// the test chooses, the nonce of RFC 3310, the check of an AUTS (TS 33.102 6.3.5), and the
// expected Digest response (RFC 2617 with the AKAv1 password of RFC 3310). Deliberately
// separate from the virtual card's Milenage and the daemon's digest code: the conformance
// verdicts must not rest on the code they judge.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "imsaka/common/bytes.h"

namespace imsaka::conformance {

using Block = std::array<uint8_t, 16>;
using Sqn = std::array<uint8_t, 6>;
using Amf = std::array<uint8_t, 2>;

Sqn sqnFromNumber(uint64_t value);
uint64_t sqnToNumber(const Sqn& sqn);

// TS 35.206 with the operator variant already folded into OPc.
class Milenage {
  public:
    Milenage(const Block& k, const Block& opc);

    struct Outputs {
        std::array<uint8_t, 8> macA, macS;  // f1, f1*
        std::array<uint8_t, 8> res;         // f2
        Block ck, ik;                       // f3, f4
        std::array<uint8_t, 6> ak, akStar;  // f5, f5*
    };
    Outputs compute(const Block& rand, const Sqn& sqn, const Amf& amf) const;

  private:
    Block encrypt(const Block& input) const;
    Block k_;
    Block opc_;
};

struct Vector {
    uint64_t sqn = 0;
    Block rand{};
    Block autn{};
    SecureBytes xres, ck, ik;
    std::string nonce;  // base64(RAND || AUTN)
};

// How a challenge should look to the card.
enum class ChallengeKind {
    Valid,
    WrongMac,  // AUTN's MAC-A is corrupted: the card must answer with a MAC failure
};

class HomeNetwork {
  public:
    // The subscriber (hex): the virtual card's profile.
    HomeNetwork(std::string_view kHex, std::string_view opcHex, std::string_view amfHex = "8000");

    // A vector at this SQN (SEQ in the high 43 bits, IND in the low 5), fresh RAND.
    Vector vector(uint64_t sqn, ChallengeKind kind = ChallengeKind::Valid) const;

    // SQN_MS from a base64 AUTS answering `challenge`, when its MAC-S verifies.
    std::optional<uint64_t> sqnFromAuts(const Vector& challenge, std::string_view autsBase64) const;

  private:
    Milenage milenage_;
    Amf amf_{};
};

// RFC 2617 3.2.2.1 request-digest with qop=auth (or without qop when qop is empty), MD5, as
// 32 lowercase hex digits; the password is the raw bytes of RES (RFC 3310 3.4).
std::string digestResponse(std::string_view username, std::string_view realm, ByteView password,
                           std::string_view nonce, std::string_view method, std::string_view uri,
                           std::string_view qop, std::string_view nc, std::string_view cnonce);

std::string base64(ByteView bytes);
std::optional<Bytes> fromBase64(std::string_view text);

}  // namespace imsaka::conformance
