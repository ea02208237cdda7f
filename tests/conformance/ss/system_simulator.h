// The system simulator (SS) of TS 34.229-1: P-CSCF and S-CSCF (with the HSS) in one,
// driven step by step by a test script. It receives what the UE sends on the P-CSCF's
// unprotected port and on the protected ports of every SA set it agreed, answers with the
// messages of 34.229-1 Annex A (401 with a real AKA challenge and Security-Server, 200 OK,
// 423, errors), installs its side of each SA set with iproute2, and sends NOTIFY and MESSAGE
// requests to the UE over a chosen set. It judges nothing itself: the script checks what
// arrives (checks.h) and decides what to answer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "aka.h"
#include "messages.h"
#include "network.h"
#include "pcscf_security.h"

namespace imsaka::conformance {

struct SsOptions {
    std::string netns = "imsaka-pcscf";
    std::string ueAddress;
    std::string pcscfAddress;
    // The subscriber, as the HSS knows it (the virtual card's K and OPc).
    std::string k, opc, amf = "8000";
    std::string domain;                       // home network domain: realm, Request-URI
    std::vector<std::string> associatedUris;  // P-Associated-URI of the 200 OK, default first
    std::string serviceRoute = "<sip:scscf.3gpp.org;lr>";  // 34.229-1 A.1.3
    uint16_t unprotectedPort = 5060;
    uint16_t firstProtectedPort = 6100;  // each new set takes the next two
    uint32_t firstSpi = 0x6000;          // each new set takes the next two
    uint64_t firstSqn = 32;              // SEQ 1, IND 0; each challenge adds 32
};

// The pair of algorithms the SS prefers (q=0.9 in Security-Server); a second mechanism with
// the other integrity algorithm the UE offered follows at q=0.7 (34.229-1 A.1.2).
struct ChallengeOptions {
    ChallengeKind kind = ChallengeKind::Valid;
    std::optional<uint64_t> sqn;  // default: the next one
    std::string integrity = "hmac-sha-1-96";
    std::string encryption = "null";
    bool securityServer = true;                     // false: the 401 carries none
    std::optional<std::string> securityServerText;  // sent as it is instead of the built one
};

struct Challenge {
    Vector vector;
    std::string opaque;
    std::string wwwAuthenticate;
    std::string securityServer;  // as sent ("" when none)
    std::string securityClient;  // of the challenged REGISTER
    std::string callId;
    std::optional<SaSet> set;  // the temporary set the SS installed for it
};

struct AuthorizationCheck {
    Credentials credentials;
    std::string expectedResponse;  // from XRES, RFC 2617 with qop=auth
    bool responseMatches = false;
    std::optional<std::string> auts;
    std::optional<uint64_t> sqnMs;                       // from an AUTS whose MAC-S verifies
    std::string parameter(std::string_view name) const;  // "" when absent
    bool has(std::string_view name) const;
};

// A request the SS sent to the UE.
struct Sent {
    std::string method;
    std::string branch;
    std::string callId;
    SaSet set;
    Transport transport = Transport::Udp;
    Route route;
    std::string text;
};

// The reg-event subscription as the SS keeps it (RFC 6665 dialog, notifier side).
struct Subscription {
    std::string callId;
    std::string localTag;      // ours: To tag of the 200
    std::string remote;        // the UE's From value (with its tag)
    std::string local;         // the UE's To value, our tag added
    std::string remoteTarget;  // the UE's Contact URI
    std::string aor;           // the Request-URI
    uint32_t cseq = 0;
    uint32_t version = 0;
};

class SystemSimulator {
  public:
    explicit SystemSimulator(SsOptions options);
    SystemSimulator(const SystemSimulator&) = delete;
    SystemSimulator& operator=(const SystemSimulator&) = delete;

    const SsOptions& options() const { return options_; }
    SsNetwork& network() { return network_; }
    PcscfSecurity& security() { return security_; }
    const HomeNetwork& home() const { return home_; }

    // The next request of this method from the UE; throws (with the log) when none comes.
    Inbound expectRequest(std::string_view method, Clock::duration timeout = 30s);
    std::optional<Inbound> waitForRequest(std::string_view method, Clock::duration timeout);

    // Where the response to a request goes: over UDP from the port it came to (from port_pc
    // when it came protected to port_ps, 33.203 7.1) to the Via's sent-by, or rport and
    // source (RFC 3581); over TCP on its connection.
    Route responseRoute(const Inbound& request) const;
    void respond(const Inbound& request, int status, std::string_view reason,
                 const Headers& extra = {}, std::string_view contentType = {},
                 std::string_view body = {});

    // 401 with a fresh vector and, unless told otherwise, a Security-Server for the UE's
    // Security-Client; the SS's side of the temporary set is installed before it leaves.
    Challenge challenge(const Inbound& request, const ChallengeOptions& options = {});
    AuthorizationCheck verify(const Inbound& request, const Challenge& challenge) const;
    // After a valid AUTS: the HSS continues from SQN_MS.
    void resynchronise(uint64_t sqnMs) { nextSqn_ = sqnMs + 32; }
    uint64_t nextSqn() const { return nextSqn_; }
    // 200 OK (A.1.3): each Contact of the request with expires, P-Associated-URI,
    // Service-Route, Path.
    void acceptRegister(const Inbound& request, uint32_t expires);
    // 200 OK to a reg-event SUBSCRIBE (A.1.5); the dialog is kept for notify().
    Subscription acceptSubscribe(const Inbound& subscribe, uint32_t expires = 600000);

    // A NOTIFY in the subscription's dialog (A.1.6) or a MESSAGE to the UE's registered
    // contact, over a set: UDP from port_pc to port_us, or TCP on a connection from port_pc to
    // port_us (33.203 7.1).
    Sent notify(const SaSet& over, Transport transport, Subscription& subscription,
                std::string_view subscriptionState, std::string_view body);
    Sent message(const SaSet& over, Transport transport, std::string_view requestUri,
                 std::string_view text);
    Inbound expectResponse(const Sent& sent, Clock::duration timeout = 30s);
    std::optional<Inbound> waitForResponse(const Sent& sent, Clock::duration timeout);

    // The set whose protected ports a message travelled between, if any.
    std::optional<SaSet> setOf(const Inbound& message) const;
    std::vector<SaSet> sets() const;
    void dropSet(int id);
    // Every protected port and inbound SPI the SS has given out in a Security-Server.
    struct HandedOut {
        std::set<uint16_t> ports;
        std::set<uint32_t> spis;
    };
    const HandedOut& handedOut() const { return handedOut_; }

    // The log of the SS's network and its SAs, for failure messages.
    std::string diagnostics() const;

  private:
    void installSet(const SaSet& set, const Vector& vector);
    Sent sendRequest(const SaSet& over, Transport transport, std::string_view method,
                     std::string_view requestUri, Headers headers, std::string_view contentType,
                     std::string_view body);
    std::string toTagFor(const SipMessage& request);

    SsOptions options_;
    SsNetwork network_;
    PcscfSecurity security_;
    HomeNetwork home_;
    std::map<int, SaSet> sets_;
    HandedOut handedOut_;
    std::map<std::string, std::string> toTags_;  // by Call-ID
    uint16_t nextPort_;
    uint32_t nextSpi_;
    uint64_t nextSqn_;
    int nextSetId_ = 1;
};

// The Contact URI of a REGISTER or SUBSCRIBE ("sip:[fd46::1]:40101"), without parameters.
std::string contactUri(const SipMessage& message);

}  // namespace imsaka::conformance
