// The home network's half of IMS AKA, shared by the test networks (ImsNetwork and the
// S-CSCF/HSS simulator): authentication vectors for a subscriber at a chosen SQN, the nonce
// that carries them, and the check of the Authorization that answers one. The expected
// digest is computed here from XRES with OpenSSL directly, not with the sip library the
// daemon uses, so that a fault there cannot hide itself.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "imsaka/common/bytes.h"
#include "imsaka/milenage/milenage.h"
#include "imsaka/sip/digest.h"

namespace imsaka::testing {

class ImsNetworkError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// One challenge the home network issued.
struct IssuedVector {
    uint64_t sqn = 0;
    milenage::AuthVector vector;  // RAND, AUTN, XRES, CK, IK
    std::string nonce;            // base64(RAND || AUTN)
};

enum class AuthorizationKind {
    Valid,          // response equals the one computed from XRES
    WrongResponse,  // a response that is not the expected one
    SyncFailure,    // auts present (response over an empty password)
    MacFailure,     // empty response, no auts
};

struct AkaVerdict {
    AuthorizationKind kind = AuthorizationKind::WrongResponse;
    std::string expectedResponse;   // computed independently from XRES
    std::optional<uint64_t> sqnMs;  // from an AUTS whose MAC-S verifies
};

class AkaCentre {
  public:
    // Subscriber K, OPc (16 bytes each) and AMF (2 bytes) in hex; throws ImsNetworkError.
    AkaCentre(std::string_view kHex, std::string_view opcHex, std::string_view amfHex);

    IssuedVector issue(uint64_t sqn) const;

    // SQN_MS from a base64 AUTS answering `issued`; nothing when its MAC-S does not verify.
    // Throws ImsNetworkError when the AUTS is not base64 of 14 bytes.
    std::optional<uint64_t> sqnFromAuts(const IssuedVector& issued, std::string_view auts) const;

    // Classifies the Authorization answering `issued` (whose nonce it is assumed to carry).
    AkaVerdict verify(const IssuedVector& issued, const sip::DigestCredentials& credentials,
                      sip::DigestAlgorithm algorithm, std::string_view method) const;

  private:
    milenage::Milenage algorithm_;
    Bytes amf_;
};

// RFC 3310 / RFC 4169 password for XRES, CK and IK: XRES itself (AKAv1), or
// base64(HMAC-MD5(XRES || IK || CK, "http-digest-akav2-password")) (AKAv2).
SecureBytes expectedAkaPassword(sip::DigestAlgorithm algorithm, const milenage::AuthVector& vector);

// RFC 2617 request-digest over `password` for the fields of `credentials` (qop, nc, cnonce
// as sent), as 32 lowercase hex digits. Only qop=auth or no qop.
std::string expectedDigest(const sip::DigestCredentials& credentials, ByteView password,
                           std::string_view method);

}  // namespace imsaka::testing
