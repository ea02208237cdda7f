// The daemon's registration engine against the simulator, with the virtual card answering
// AUTHENTICATE and the test playing the P-CSCF in between (Security-Server added, sec-agree
// headers removed, Path and integrity-protected added): the engine's REGISTERs verify, and
// the reg-event NOTIFY bodies the simulator writes make the engine do what TS 24.229 asks.
#include "../engine/engine_test_support.h"
#include "imsaka/daemon/engine.h"
#include "simulator_fixture.h"

namespace imsaka::scscfsim::test {
namespace {

using daemon::Actions;
using daemon::OutgoingRegister;
using daemon::RegistrationState;
using daemon::test::at;
using daemon::test::has;
using daemon::test::header;
using daemon::test::one;
using daemon::test::sent;

bool dropsAtPcscf(std::string_view name) {
    for (std::string_view dropped :
         {"Via", "Security-Client", "Security-Verify", "Require", "Proxy-Require", "Authorization"})
        if (name == dropped) return true;
    return false;
}

// The engine's REGISTER as Kamailio forwards it to the S-CSCF.
std::string forwarded(const OutgoingRegister& request, const std::string& integrity, int n) {
    std::string number = std::to_string(n);
    std::string text = "REGISTER " + request.requestUri + " SIP/2.0\r\n";
    text += "Via: SIP/2.0/UDP 10.46.0.2;branch=z9hG4bKpcscf" + number + "\r\n";
    text += "Via: " + header(request, "Via") + ";branch=z9hG4bKue" + number + "\r\n";
    text += "Max-Forwards: 69\r\n";
    for (const auto& [name, value] : request.headers)
        if (!dropsAtPcscf(name)) text += name + ": " + value + "\r\n";
    for (const auto& value : daemon::test::headers(request, "Authorization"))
        text += "Authorization: " + value + ", integrity-protected=\"" + integrity + "\"\r\n";
    return text + "Require: path\r\nPath: " + kPath + "\r\nContent-Length: 0\r\n\r\n";
}

// The simulator's response as the P-CSCF hands it on (with its Security-Server on a 401).
daemon::SipResponse backToUe(const SipMessage& response, const daemon::test::Network& pcscf) {
    daemon::SipResponse out;
    out.status = static_cast<uint16_t>(response.status());
    out.headers.emplace_back("Call-ID", response.callId());
    out.headers.emplace_back("CSeq", response.cseq());
    for (const auto& contact : response.contacts())
        out.headers.emplace_back("Contact", contact.text);
    if (auto challenge = response.rawHeader("WWW-Authenticate")) {
        out.headers.emplace_back("WWW-Authenticate", *challenge);
        out.headers.emplace_back("Security-Server", pcscf.securityServer());
    }
    for (const char* name : {"Expires", "P-Associated-URI", "Service-Route", "Path"})
        for (const auto& value : response.headerValues(name)) out.headers.emplace_back(name, value);
    return out;
}

class EngineInterop : public SimulatorTest {
  protected:
    daemon::RegistrationConfig config() {
        auto config = daemon::test::testConfig("10.46.0.1");
        config.impi = kImpi;
        config.impu = kImpu;
        config.homeDomain = kRealm;
        return config;
    }

    // Unprotected REGISTER, 401, the card, SA set, protected REGISTER, 200.
    void registerEngine() {
        engine_.registerNow(at(0));
        auto initial = sent(engine_.securityReserved(at(0), daemon::test::kOfferA));
        auto unauthorized = send(forwarded(initial, "no", 1));
        ASSERT_EQ(unauthorized.status(), 401);
        Actions actions = engine_.response(at(0), backToUe(unauthorized, pcscf_));
        ASSERT_TRUE(has<daemon::action::Authenticate>(actions));
        auto result = ue_.authenticate(challengeOf(unauthorized));
        auto install = one<daemon::action::InstallSaSet>(engine_.authenticated(at(0), result));
        protected_ = sent(engine_.saSetInstalled(at(0), install.set.id));
        auto ok = send(forwarded(protected_, "yes", 2));
        ASSERT_EQ(ok.status(), 200) << "the simulator did not accept the engine's answer";
        engine_.response(at(0), backToUe(ok, pcscf_));
        ASSERT_EQ(engine_.state(), RegistrationState::Registered);
    }

    // SUBSCRIBE from the engine's contact; returns the initial NOTIFY's body.
    std::string subscribe() {
        subscriber_ = VirtualUe(addrSpec(header(protected_, "Contact")));
        auto datagrams = sim_->receive(subscriber_.subscribeText(1));
        EXPECT_EQ(datagrams.size(), 2u);
        auto notify = SipMessage::parse(datagrams.at(1).text);
        sim_->receive(VirtualUe::okTo(notify));
        return notify.body();
    }

    std::string notifyBody(const std::string& command) {
        auto notify = only(sim_->command(command));
        sim_->receive(VirtualUe::okTo(notify));
        return notify.body();
    }

    daemon::RegistrationEngine engine_{config()};
    daemon::test::Network pcscf_;
    OutgoingRegister protected_;
    VirtualUe subscriber_;
};

TEST_F(EngineInterop, TheEnginesAnswerVerifiesAndItsRegistrationIsTaken) {
    registerEngine();
    EXPECT_TRUE(log_.has("auth result=ok"));
    EXPECT_EQ(engine_.info().associatedUris, (std::vector<std::string>{kImpu, "tel:+15550000001"}));
    EXPECT_EQ(engine_.info().serviceRoute,
              (std::vector<std::string>{"sip:orig@127.0.0.1:6060;lr"}));
}

TEST_F(EngineInterop, TheInitialNotifyChangesNothing) {
    registerEngine();
    EXPECT_FALSE(has<daemon::action::RefreshDue>(engine_.notify(at(10), subscribe())));
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

TEST_F(EngineInterop, ShortenedAsksTheEngineToReauthenticate) {
    registerEngine();
    subscribe();
    auto actions = engine_.notify(at(10), notifyBody("notify shortened"));
    auto refresh = one<daemon::action::RefreshDue>(actions);
    EXPECT_EQ(refresh.reason, daemon::RefreshReason::Reauthenticate);
}

TEST_F(EngineInterop, DeactivatedEndsTheEnginesRegistration) {
    registerEngine();
    subscribe();
    auto actions = engine_.notify(at(10), notifyBody("notify deactivated"));
    EXPECT_EQ(one<daemon::action::RefreshDue>(actions).reason,
              daemon::RefreshReason::RegisterAgain);
    EXPECT_EQ(engine_.state(), RegistrationState::Unregistered);
}

TEST_F(EngineInterop, RejectedStopsTheEngine) {
    registerEngine();
    subscribe();
    engine_.notify(at(10), notifyBody("notify rejected"));
    EXPECT_EQ(engine_.state(), RegistrationState::Failed);
}

}  // namespace
}  // namespace imsaka::scscfsim::test
