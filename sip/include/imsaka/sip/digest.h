// HTTP Digest as SIP uses it (RFC 2617, RFC 3261) for IMS AKA (RFC 3310 AKAv1-MD5,
// RFC 4169 AKAv2-MD5): the WWW-Authenticate challenge, the nonce that carries RAND and
// AUTN, and the Authorization answer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imsaka/common/bytes.h"
#include "imsaka/sip/error.h"

namespace imsaka::sip {

enum class DigestErrc {
    NotDigest,              // the scheme is not Digest
    ExpectedParameterName,  // a parameter name (token) is missing
    ExpectedEquals,         // a parameter without '='
    ExpectedValue,          // '=' not followed by a token or quoted string
    UnterminatedQuote,      // a quoted string without its closing quote, or with a bare control
    UnexpectedCharacter,    // something other than ',' after a parameter
    DuplicateParameter,     // the same parameter twice
    MissingParameter,       // realm or nonce (challenge), or a required Authorization field
    BadValue,               // stale, nc, qop or auts out of their syntax
    BadNonce,               // the nonce is not base64, or too short for RAND and AUTN
    NotAka,                 // the challenge's algorithm is not AKAv1-MD5 or AKAv2-MD5
    NoUsableQop,            // qop offered, but neither auth nor auth-int
    InvalidArgument,        // an input we were given cannot be written into a header
};

class DigestError : public CodecError<DigestErrc> {
  public:
    using CodecError::CodecError;
};

enum class DigestAlgorithm { Md5, AkaV1Md5, AkaV2Md5, Other };
std::string_view toString(DigestAlgorithm algorithm);  // "MD5", "AKAv1-MD5", "AKAv2-MD5"

// A parameter we do not interpret, kept so that nothing is lost.
struct AuthParameter {
    std::string name;
    std::string value;  // unescaped
    bool quoted = false;
};

struct DigestChallenge {
    std::string realm;
    std::string nonce;
    DigestAlgorithm algorithm = DigestAlgorithm::Md5;  // RFC 2617: absent means MD5
    std::string algorithmText;                         // as written; empty when absent
    std::vector<std::string> qop;                      // offered, in order; empty when absent
    std::optional<std::string> opaque;
    std::optional<std::string> domain;
    bool stale = false;
    // CK and IK that an S-CSCF put in for the P-CSCF and a misconfigured network left in
    // (never needed by the UE, kept wiped; present when they were 32 hex digits).
    std::optional<SecureBytes> ck;
    std::optional<SecureBytes> ik;
    std::vector<AuthParameter> otherParameters;

    bool isAka() const {
        return algorithm == DigestAlgorithm::AkaV1Md5 || algorithm == DigestAlgorithm::AkaV2Md5;
    }
    bool offersQop(std::string_view value) const;
};

// One WWW-Authenticate (or Proxy-Authenticate) value holding one Digest challenge.
DigestChallenge parseWwwAuthenticate(std::string_view value);
std::string formatWwwAuthenticate(const DigestChallenge& challenge);

// The first AKA challenge among the WWW-Authenticate values of one 401 (a network may offer
// MD5 or another scheme beside it). Throws DigestError NotAka, saying what each value was,
// when none is AKAv1-MD5 or AKAv2-MD5; values that do not parse count as not AKA.
DigestChallenge selectAkaChallenge(std::span<const std::string_view> values);

// RFC 3310 3.2: nonce = base64(RAND || AUTN || server data).
struct AkaNonce {
    std::array<uint8_t, 16> rand;
    std::array<uint8_t, 16> autn;
    Bytes serverData;
};
// Positions in errors are offsets in the nonce text.
AkaNonce decodeAkaNonce(std::string_view nonce);
std::string encodeAkaNonce(const AkaNonce& nonce);

// The Authorization fields, as sent or received.
struct DigestCredentials {
    std::string username;
    std::string realm;
    std::string nonce;
    std::string uri;
    std::string response;  // 32 lowercase hex digits, or empty after a MAC failure
    std::optional<std::string> algorithmText;
    std::optional<std::string> qop;
    std::optional<std::string> nc;  // 8 hex digits
    std::optional<std::string> cnonce;
    std::optional<std::string> opaque;
    std::optional<std::string> auts;  // base64 of the 14-byte AUTS
    std::vector<AuthParameter> otherParameters;
};

DigestCredentials parseAuthorization(std::string_view value);
std::string formatAuthorization(const DigestCredentials& credentials);

// What the card answered to AUTHENTICATE.
struct AkaSuccess {
    SecureBytes res;  // 4 to 16 bytes
    SecureBytes ck;   // 16 bytes
    SecureBytes ik;   // 16 bytes
};
struct AkaSyncFailure {
    Bytes auts;  // 14 bytes
};
struct AkaMacFailure {};
using AkaResult = std::variant<AkaSuccess, AkaSyncFailure, AkaMacFailure>;

// The request being authorised.
struct DigestRequest {
    std::string username;  // the private user identity
    std::string uri;       // Request-URI
    std::string method = "REGISTER";
    std::string_view body;  // the message body, for qop=auth-int
    // Used when the challenge offers qop; when empty, 8 random bytes in hex are used.
    std::string cnonce;
    uint32_t nonceCount = 1;
    bool preferAuthInt = false;  // pick auth-int over auth when both are offered
};

// The password RFC 3310 (AKAv1: RES itself) and RFC 4169 (AKAv2: base64 of
// HMAC-MD5(RES || IK || CK, "http-digest-akav2-password")) define.
SecureBytes akaPassword(DigestAlgorithm algorithm, const AkaSuccess& result);

// RFC 2617 request-digest, as 32 lowercase hex digits.
struct DigestInput {
    std::string_view username = {};
    std::string_view realm = {};
    ByteView password = {};
    std::string_view method = {};
    std::string_view uri = {};
    std::string_view nonce = {};
    std::string_view qop = {};  // empty: no qop
    std::string_view nc = {};
    std::string_view cnonce = {};
    std::string_view body = {};  // for auth-int
};
std::string digestResponse(const DigestInput& input);

// The Authorization answer to an AKA challenge: the response over the AKA password after
// success; over an empty password with auts after a sync failure; an empty response and
// no auts after a MAC failure. Throws DigestError NotAka for MD5 or unknown algorithms.
DigestCredentials answerAkaChallenge(const DigestChallenge& challenge, const DigestRequest& request,
                                     const AkaResult& result);

}  // namespace imsaka::sip
