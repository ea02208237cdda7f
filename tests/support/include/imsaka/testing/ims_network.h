// The network side of IMS registration (P-CSCF and S-CSCF as one) for the daemon's tests,
// without SIP transport: REGISTERs come in as header lists (what Registration1 hands an
// application), responses go out as header lists (what HandleResponse takes). Challenges
// are real AKA vectors for the virtual card's subscriber (tools/vicc/profiles/default.ini),
// with a SQN the test controls; the Security-Server is the network's own choice.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imsaka/common/bytes.h"
#include "imsaka/milenage/milenage.h"
#include "imsaka/sip/digest.h"
#include "imsaka/sip/sec_agree.h"
#include "imsaka/testing/aka_centre.h"

namespace imsaka::testing {

using SipHeader = std::pair<std::string, std::string>;  // name, value
using SipHeaders = std::vector<SipHeader>;

// Every value of a header, by name compared case-insensitively (compact forms too).
std::vector<std::string> headerValues(const SipHeaders& headers, std::string_view name);
// The first value, or nothing.
std::optional<std::string> headerValue(const SipHeaders& headers, std::string_view name);

struct ImsNetworkOptions {
    // The subscriber (hex), as in the virtual card's default profile.
    std::string k = "465b5ce8b199b49faa5f0a2ee238a6bc";
    std::string opc = "cd63cb71954a9f4e48a5994e37a02baf";
    std::string amf = "8000";
    std::string realm = "ims.mnc001.mcc001.3gppnetwork.org";
    uint64_t sqn = 32;  // SQN of the next challenge (SEQ 1, IND 0); each challenge adds 32
    // The P-CSCF's side of the SA set.
    uint32_t spiC = 0x3000;
    uint32_t spiS = 0x3001;
    uint16_t portC = 6100;
    uint16_t portS = 6101;
    // The pair picked from the UE's Security-Client.
    sip::IntegrityAlgorithm integrity = sip::IntegrityAlgorithm::HmacSha1_96;
    sip::EncryptionAlgorithm encryption = sip::EncryptionAlgorithm::Null;
};

// The vector (sqn, vector, nonce) and what the P-CSCF side added.
struct Challenge : IssuedVector {
    sip::IpsecParameters ue;     // the UE's offer the network chose (its SPIs and ports)
    sip::IpsecParameters pcscf;  // what went into Security-Server
    std::string securityServer;  // the Security-Server value sent
    std::string securityClient;  // the Security-Client value received
    SipHeaders headers;          // the 401's headers
};

struct AuthorizationCheck {
    AuthorizationKind kind = AuthorizationKind::WrongResponse;
    sip::DigestCredentials credentials;
    std::string expectedResponse;        // computed independently from XRES
    std::optional<uint64_t> sqnMs;       // from a valid AUTS
    bool securityVerifyMatches = false;  // Security-Verify repeats our Security-Server
    bool securityClientMatches = false;  // Security-Client unchanged since the challenge
};

class ImsNetwork {
  public:
    explicit ImsNetwork(ImsNetworkOptions options = {});

    // The 401 to an unprotected REGISTER: a new vector for the next SQN and a Security-Server
    // for the UE's Security-Client. Throws ImsNetworkError when the request has no usable
    // offer.
    const Challenge& challenge(const SipHeaders& request);
    // The last challenge (throws when there was none).
    const Challenge& lastChallenge() const;

    // Reads the Authorization of the REGISTER that answers the last challenge. Throws
    // ImsNetworkError when it is missing or does not belong to the challenge.
    AuthorizationCheck checkAuthorization(const SipHeaders& request,
                                          std::string_view requestUri) const;
    // After a sync failure: continue from SQN_MS (as an HSS does).
    void resynchronise(uint64_t sqnMs);

    // 200 OK: Contact with expires, P-Associated-URI, Service-Route.
    SipHeaders ok(const SipHeaders& request, uint32_t expires,
                  const std::vector<std::string>& associatedUris,
                  const std::vector<std::string>& serviceRoute) const;
    // Any other final response: the request's Via, From, To (with a tag), Call-ID and CSeq.
    SipHeaders response(const SipHeaders& request) const;

    // The P-CSCF's side of the next challenge's SA set: a re-authentication brings new SPIs
    // and a new protected client port (TS 33.203 7.4).
    void setPcscfSide(uint32_t spiC, uint32_t spiS, uint16_t portC, uint16_t portS) {
        options_.spiC = spiC;
        options_.spiS = spiS;
        options_.portC = portC;
        options_.portS = portS;
    }

    uint64_t nextSqn() const { return options_.sqn; }
    const ImsNetworkOptions& options() const { return options_; }

  private:
    ImsNetworkOptions options_;
    AkaCentre centre_;
    std::optional<Challenge> last_;
};

}  // namespace imsaka::testing
