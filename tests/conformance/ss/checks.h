// The message checks of TS 34.229-1 Annex A, header by header, as the system simulator
// applies them to what the UE sends: A.1.1 (REGISTER, conditions A1 "initial unprotected"
// and A2 "subsequent REGISTER sent over security associations") and A.1.4 (SUBSCRIBE for
// the reg-event package), with the TS 24.229 / RFC clause behind each row. Every failed
// row is reported with its requirement; nothing stops at the first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "network.h"
#include "system_simulator.h"

namespace imsaka::conformance {

class Verdict {
  public:
    explicit Verdict(std::string subject) : subject_(std::move(subject)) {}
    // Records requirement as failed when condition is false; returns condition.
    bool require(bool condition, const std::string& requirement);
    bool ok() const { return failures_.empty(); }
    const std::vector<std::string>& failures() const { return failures_; }
    // The subject, each failed requirement, and the message it was about.
    std::string report(const std::string& message = {}) const;

  private:
    std::string subject_;
    std::vector<std::string> failures_;
};

// The identities the UE must use: from the ISIM, or derived from the IMSI (TS 23.003 13).
struct UeIdentity {
    std::string impi;
    std::string impu;     // registered (From/To)
    std::string domain;   // home network domain
    std::string address;  // the UE's IP address
};

struct RegisterExpectation {
    UeIdentity identity;
    // The transport the UE was set up with: the request travels on it, or on TCP when it is
    // over 1300 bytes (RFC 3261 18.1.1).
    Transport transport = Transport::Udp;
    // A2 (protected): the set it must use, the 401 it answers (nothing for a
    // re-registration without challenge), the nonce and response it must repeat otherwise.
    std::optional<SaSet> over;
    const Challenge* answering = nullptr;
    std::optional<AuthorizationCheck> authorization;  // SS's check of the answer
    std::string lastNonce;  // 24.229 5.1.1.4.2 a): re-registration repeats it
    std::string lastRealm;
    std::optional<uint32_t> expires = 600000;  // nothing: not checked
    bool deregistration = false;
    // Answers a 401 the UE deemed invalid (24.229 5.1.1.5.3): an unprotected REGISTER whose
    // nonce may repeat the 401's and whose response the case checks itself (34.229-1 9.1.4
    // and 9.2.4 list them as exceptions to A.1.1 A1).
    bool answersInvalidChallenge = false;
};

// A.1.1 with conditions A1/A2 and A17 (re-registration and deregistration).
Verdict checkRegister(const Inbound& request, const RegisterExpectation& expected);

struct SubscribeExpectation {
    UeIdentity identity;
    std::string subscribedIdentity;  // 24.229 5.1.1.3: the IMPU, or the default one if barred
    SaSet over;
    Transport transport = Transport::Udp;
    std::string securityServer;  // to be mirrored in Security-Verify
    std::string serviceRoute;    // from the 200 OK, to follow the P-CSCF in Route
};

// A.1.4 with condition A1 (IMS security).
Verdict checkSubscribe(const Inbound& request, const SubscribeExpectation& expected);

// The UE's answer to a request of the SS (RFC 3261 8.2.6.2): status, the Vias, From, To
// with a tag, Call-ID and CSeq of the request.
Verdict checkResponseTo(const Inbound& response, const Sent& request, int status);

// Mechanisms of two sec-agree headers compared as RFC 3329 2.2 writes them (white space
// around ";", "," and "=" aside).
std::string normalisedMechanisms(const std::string& value);

}  // namespace imsaka::conformance
