// What every conformance case shares: the network of one case (started fresh per case), the
// UE identity it must use, the generic procedures of TS 34.229-1 Annex C (C.2 initial
// registration with the reg-event subscription, C.30 deregistration) with every message
// checked, and the SA checks on the wire (which set a message travels on, the SPIs of its
// ESP packets, nothing left behind).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checks.h"
#include "conformance_network.h"

namespace imsaka::conformance {

using namespace std::chrono_literals;

struct CaseSetup {
    Addresses addresses = kIpv4;
    Transport transport = Transport::Udp;
    UeSettings ue;
    std::vector<std::string> clientArgs;
    SsOptions ss;  // k, opc, domain and P-Associated-URI filled from the card when empty
};

// What C.2 left: the registration as both sides know it.
struct Registration {
    std::string path;  // the client's Registration1 object
    Inbound initial;   // the unprotected REGISTER
    Challenge challenge;
    Inbound answer;  // the protected REGISTER answering it
    SaSet set;       // established
    uint32_t expires = 0;
    Clock::time_point acceptedAt;  // when the SS sent the 200 OK
    std::optional<Subscription> subscription;

    // The registration carried on by a re-registration that a challenge moved to a new set.
    void movedTo(const Challenge& newChallenge, const Inbound& newAnswer);
};

struct RegisterSteps {
    uint32_t expires = 600000;  // granted in the 200 OK
    ChallengeOptions challenge;
    bool subscribe = true;  // SUBSCRIBE, 200, NOTIFY, 200 (C.2 steps 8-11)
};

inline void PrintTo(Transport transport, std::ostream* out) {
    *out << toString(transport);
}

// The branch of a message's top Via ("" when it has none).
std::string topViaBranch(const Inbound& message);

// A parameter of the first mechanism of a request's Security-Client ("" when absent).
std::string securityClientParameter(const Inbound& request, const char* name);

class ConformanceCase : public ::testing::Test {
  protected:
    // Starts the network, the UE and the client; a missing prerequisite or a failed start
    // fails the case and returns false.
    bool start(CaseSetup setup);
    // Runs a case body; an exception (a wait that timed out, say) fails the case with it.
    template <typename Body>
    void run(Body&& body) {
        try {
            body();
        } catch (const std::exception& error) {
            ADD_FAILURE() << error.what();
        }
    }

    SystemSimulator& ss() { return network_->ss(); }
    e2e::Program& client() { return network_->client(); }
    ConformanceNetwork& network() { return *network_; }
    Transport transport() const { return setup_.transport; }
    std::string diagnostics() const { return network_ ? network_->diagnostics() : std::string(); }

    // The identities the UE must use (24.229 5.1.1.1A): the ISIM's, or without an ISIM those
    // TS 23.003 13 derives from the IMSI.
    UeIdentity identity() const;
    bool usesIsim() const { return setup_.ue.card.isim; }

    // A.1.1 checks as failures of the case.
    void expectRegister(const Inbound& request, const RegisterExpectation& expected);
    RegisterExpectation initialExpectation() const;
    RegisterExpectation protectedExpectation(const SaSet& over, const Challenge* answering) const;

    // C.2 steps 4-11: REGISTER, 401, REGISTER over the temporary set, 200 over it, then the
    // reg-event subscription over the new set. Every message is checked.
    Registration registerUe(const RegisterSteps& steps = {});
    // The unprotected REGISTER of an initial registration, checked (A.1.1 A1) and shown to
    // have arrived at the P-CSCF's unprotected port.
    Inbound expectInitialRegister(Clock::duration timeout = 30s);
    // A protected REGISTER answering challenge over its set, checked (A.1.1 A2) with the
    // expiration it must ask for.
    Inbound expectChallengeAnswer(const Challenge& challenge,
                                  std::optional<uint32_t> expires = 600000,
                                  Clock::duration timeout = 30s);
    // C.2 step 7: the SS accepts the REGISTER answering challenge (200 over its set), the
    // client reports the registration.
    Registration accept(const std::string& path, const Challenge& challenge, const Inbound& answer,
                        uint32_t expires = 600000);
    // The reg-event SUBSCRIBE, 200, NOTIFY (active) and its 200 over set (C.2 steps 8-11).
    Subscription subscribeSteps(const SaSet& set, const std::string& securityServer);
    // C.30: the client deregisters (SIGTERM), the SS accepts; nothing is left afterwards.
    void deregisterUe(const Registration& registration);

    // The message travelled between the protected ports of set (33.203 7.1), and ESP
    // packets with that set's SPI came to the P-CSCF.
    void expectOnSet(const Inbound& message, const SaSet& set, const std::string& what);
    void expectUnprotected(const Inbound& message, const std::string& what);
    // Every message from the UE to a protected port came over a set the SS agreed, the wire
    // carried as many ESP packets with that SPI, and no SIP in clear touched a protected port.
    void checkWire();
    // The UE's kernel and the daemon hold nothing of the registration any more (polls).
    void expectNothingLeft(const std::string& registrationPath, Clock::duration timeout = 10s);
    // The UE's kernel holds SAs with exactly these SPIs of ours (polls).
    void expectUeSpis(const std::set<uint32_t>& spis, const std::string& what,
                      Clock::duration timeout = 10s);
    // Nothing of method arrives for a while: the UE keeps quiet (a lower bound on time only).
    void expectQuiet(std::string_view method, Clock::duration duration, const std::string& why);

    // The reginfo of the SS's current view: our IMPU (and the other associated URIs) with
    // the UE's contact in the given state and event.
    std::string reginfo(const Registration& registration, const std::string& state,
                        const std::string& event, std::optional<uint32_t> expires,
                        const std::string& contact = {});

    void TearDown() override;

    CaseSetup setup_;
    std::unique_ptr<ConformanceNetwork> network_;
    uint32_t reginfoVersion_ = 0;
};

}  // namespace imsaka::conformance
