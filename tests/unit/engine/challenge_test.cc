// Challenges beyond the first 401 of an attempt (24.229 5.1.1.5.1: a UE "can be
// re-authenticated during subsequent reregistrations, deregistrations or registrations"):
// a second 401 to the protected REGISTER, a 401 to the de-REGISTER, and the offer that
// follows a challenge the card found invalid (5.1.1.5.3 MAC failure, 5.1.1.5.4 SQN failure).
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The P-CSCF's parameters for a second challenge: new SPIs and ports on its side.
void secondServer(Network& network) {
    network.spiPc = 5101;
    network.spiPs = 5102;
    network.portPc = 7300;
    network.portPs = 7301;
}

// A registered engine's next REGISTER (begin: a refresh or a deregistration, at `now`),
// challenged with P-CSCF SPIs of its own (the established set still holds the first ones)
// and answered over its new temporary set.
struct Rechallenged {
    OutgoingRegister request;
    OutgoingRegister answer;
};
template <typename Begin>
Rechallenged challengeNextRegister(RegistrationEngine& engine, Network& network, Time now,
                                   Begin begin) {
    network.spiPc = 6001;
    network.spiPs = 6002;
    begin();
    Rechallenged result;
    result.request = sent(engine.securityReserved(now, kOfferB));
    auto vector = network.nextVector();
    engine.response(now, network.challenge(result.request, vector));
    result.answer = answerWithSuccess(engine, now, vector);
    return result;
}

sip::IpsecParameters clientParameters(const OutgoingRegister& request) {
    auto client = sip::parseSecurityHeader(header(request, "Security-Client"));
    EXPECT_FALSE(client.empty());
    return client.empty() ? sip::IpsecParameters{} : sip::ipsecParameters(client.front());
}

// 24.229 5.1.1.5.1: the answer to the new challenge repeats the Security-Client of the
// challenged REGISTER (the protected one, which repeated the initial offer), so the new
// temporary set has the same SPIs and ports on our side: the first temporary set gives
// them back (ReclaimSecurity) and is gone before the new one is installed.
TEST(SecondChallenge, ToTheProtectedRegisterReplacesTheTemporarySetWithTheSameOffer) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister first = authenticateInitial(engine, network, at(0));
    secondServer(network);
    auto vector = network.nextVector();
    Actions actions = engine.response(at(2), network.challenge(first, vector));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)",
                            "ReclaimSecurity(1)", "StateChanged(authenticating)", "InfoChanged"));
    EXPECT_TRUE(engine.saSets().empty());

    EXPECT_THAT(describe(engine.securityReserved(at(2), kOfferA)), ElementsAre("Authenticate"));
    auto install = one<action::InstallSaSet>(engine.authenticated(at(3), Network::success(vector)));
    EXPECT_EQ(install.set.id, 2u);
    EXPECT_EQ(install.set.state, SaSetState::Temporary);
    EXPECT_EQ(install.set.ours.spiUc, kOfferA.spiUc);
    EXPECT_EQ(install.set.ours.portUs, kOfferA.portUs);
    EXPECT_EQ(install.set.theirs.spiS, 5102u);
    EXPECT_EQ(install.set.theirs.portS, 7301);

    Actions installed = engine.saSetInstalled(at(3), 2);
    EXPECT_THAT(describe(installed),
                ElementsAre("ArmTimer(reg-await-auth@243)", "StateChanged(registering)", "Send",
                            "ArmTimer(timer-f@131)"));
    OutgoingRegister answer = sent(installed);
    EXPECT_TRUE(answer.protectedBySa);
    EXPECT_EQ(answer.localPort, kOfferA.portUc);
    EXPECT_EQ(answer.remotePort, 7301);
    EXPECT_EQ(header(answer, "Call-ID"), header(first, "Call-ID"));
    EXPECT_EQ(header(answer, "CSeq"), "3 REGISTER");
    EXPECT_EQ(header(answer, "Security-Client"), header(first, "Security-Client"));
    EXPECT_EQ(header(answer, "Security-Verify"), network.securityServer());
    auto authorization = sip::parseAuthorization(header(answer, "Authorization"));
    EXPECT_EQ(authorization.response, expectedResponse(answer, authorization, vector.xres));

    engine.response(at(4), network.ok(answer, 3600));
    EXPECT_EQ(engine.state(), RegistrationState::Registered);
    ASSERT_EQ(engine.saSets().size(), 1u);
    EXPECT_EQ(engine.saSets()[0].id, 2u);
    EXPECT_EQ(engine.saSets()[0].state, SaSetState::Established);
}

TEST(SecondChallenge, DuringAReauthenticationKeepsTheEstablishedSet) {
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    auto [refresh, answer] =
        challengeNextRegister(engine, network, at(3000), [&] { engine.registerNow(at(3000)); });
    ASSERT_EQ(engine.saSets().size(), 2u);

    secondServer(network);
    auto again = network.nextVector();
    EXPECT_TRUE(
        has<action::ReclaimSecurity>(engine.response(at(3001), network.challenge(answer, again))));
    ASSERT_EQ(engine.saSets().size(), 1u);
    EXPECT_EQ(engine.currentSet()->id, 1u);
    EXPECT_EQ(engine.state(), RegistrationState::Authenticating);
    engine.securityReserved(at(3001), kOfferB);
    OutgoingRegister second = answerWithSuccess(engine, at(3001), again);
    EXPECT_EQ(engine.state(), RegistrationState::Reregistering);
    EXPECT_EQ(second.localPort, kOfferB.portUc);
    EXPECT_EQ(header(second, "Security-Client"), header(refresh, "Security-Client"));
    engine.response(at(3002), network.ok(second, 3600));
    auto sets = engine.saSets();
    ASSERT_EQ(sets.size(), 2u);
    EXPECT_EQ(sets[0].id, 1u);
    EXPECT_EQ(sets[0].state, SaSetState::Retiring);
    EXPECT_EQ(sets[1].id, 3u);
    EXPECT_EQ(sets[1].state, SaSetState::Established);
}

TEST(SecondChallenge, WhenTheSetCannotBeReclaimedTheAttemptFails) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister first = authenticateInitial(engine, network, at(0));
    engine.response(at(2), network.challenge(first, network.nextVector()));
    Actions actions = engine.securityUnavailable(at(2), "SPI taken");
    EXPECT_FALSE(has<action::Authenticate>(actions));
    EXPECT_THAT(engine.info().lastError, HasSubstr("SPI taken"));
    EXPECT_TRUE(engine.saSets().empty());
    EXPECT_EQ(engine.state(), RegistrationState::Backoff);
}

TEST(SecondChallenge, WithoutAUsableSecurityServerAbandonsTheAttempt) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister first = authenticateInitial(engine, network, at(0));
    auto vector = network.nextVector();
    Actions actions = engine.response(
        at(2),
        Network::answer(401, first, {{"WWW-Authenticate", network.wwwAuthenticate(vector)}}));
    EXPECT_FALSE(has<action::ReclaimSecurity>(actions));
    EXPECT_TRUE(has<action::RemoveSaSet>(actions));
    EXPECT_TRUE(engine.saSets().empty());
}

// 24.229 5.1.1.6 with 5.1.1.5.1: the de-REGISTER carries a new offer (the parameters for
// two new pairs of SAs), and a 401 to it is answered like any other challenge, over a new
// temporary set; its 200 OK (or any final answer) removes every set.
TEST(DeregistrationChallenge, IsAnsweredOverANewTemporarySet) {
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    // The de-REGISTER itself is checked in lifecycle_test.cc (Deregistration).
    engine.deregister(at(100));
    OutgoingRegister request = sent(engine.securityReserved(at(100), kOfferB));
    EXPECT_EQ(clientParameters(request).spiC, kOfferB.spiUc);

    secondServer(network);
    auto vector = network.nextVector();
    Actions challenged = engine.response(at(101), network.challenge(request, vector));
    EXPECT_THAT(describe(challenged), ElementsAre("CancelTimer(timer-f)",
                                                  "StateChanged(authenticating)", "Authenticate"));
    auto install =
        one<action::InstallSaSet>(engine.authenticated(at(101), Network::success(vector)));
    EXPECT_EQ(install.set.ours.spiUc, kOfferB.spiUc);
    Actions installed = engine.saSetInstalled(at(101), install.set.id);
    EXPECT_EQ(engine.state(), RegistrationState::Deregistering);
    OutgoingRegister answer = sent(installed);
    EXPECT_EQ(answer.localPort, kOfferB.portUc);
    EXPECT_EQ(answer.remotePort, 7301);
    EXPECT_EQ(header(answer, "Expires"), "0");
    EXPECT_THAT(header(answer, "Contact"), HasSubstr("<sip:10.0.0.2:6101>"));
    EXPECT_EQ(header(answer, "Security-Client"), header(request, "Security-Client"));
    EXPECT_EQ(header(answer, "Security-Verify"), network.securityServer());
    auto authorization = sip::parseAuthorization(header(answer, "Authorization"));
    EXPECT_EQ(authorization.response, expectedResponse(answer, authorization, vector.xres));

    EXPECT_THAT(describe(engine.response(at(102), Network::answer(200, answer))),
                ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)", "RemoveSaSet(1)",
                            "RemoveSaSet(2)", "StateChanged(unregistered)", "InfoChanged"));
    EXPECT_TRUE(engine.saSets().empty());
}

// The Kamailio 5.6 profile: 5.6 answers a de-REGISTER to the port_us of its Security-Client,
// so the de-REGISTER repeats the offer of the set in use.
TEST(DeregistrationChallenge, WithTheKamailioProfileTheDeregisterRepeatsTheSetsOffer) {
    auto config = testConfig();
    config.deregisterWithTheSetsOffer = true;
    RegistrationEngine engine(config);
    Network network;
    OutgoingRegister last = registerFully(engine, network, at(0), 3600);
    Actions actions = engine.deregister(at(100));
    EXPECT_FALSE(has<action::ReserveSecurity>(actions));
    OutgoingRegister request = sent(actions);
    EXPECT_TRUE(request.protectedBySa);
    EXPECT_EQ(header(request, "Security-Client"), header(last, "Security-Client"));
}

TEST(DeregistrationChallenge, ForbiddenAfterItStillEndsTheRegistration) {
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    auto answer =
        challengeNextRegister(engine, network, at(100), [&] { engine.deregister(at(100)); }).answer;
    engine.response(at(102), Network::answer(403, answer));
    EXPECT_EQ(engine.state(), RegistrationState::Unregistered);
    EXPECT_TRUE(engine.saSets().empty());
}

// 24.229 5.1.1.5.3 / 5.1.1.5.4: the REGISTER answering an invalid challenge carries a
// Security-Client with new parameter values for the setup of new SAs. The P-CSCF may still
// hold SAs keyed with the rejected challenge's keys under the old ones.
class InvalidChallenge : public ::testing::TestWithParam<bool> {
  protected:
    sip::AkaResult cardAnswer(const milenage::AuthVector& vector) {
        if (GetParam()) return sip::AkaMacFailure{};
        return sip::AkaSyncFailure{
            milenage::buildAuts(network_.card(), vector.rand, milenage::sqnFromInt(4096))};
    }
    Network network_;
};

TEST_P(InvalidChallenge, TheAnswerOffersNewSpisAndPorts) {
    RegistrationEngine engine(testConfig());
    OutgoingRegister request = startInitial(engine, at(0));
    auto vector = network_.nextVector();
    engine.response(at(1), network_.challenge(request, vector));
    Actions actions = engine.authenticated(at(2), cardAnswer(vector));
    EXPECT_THAT(describe(actions),
                ElementsAre("ReleaseSecurity(6100)", "ReserveSecurity", "InfoChanged"));
    OutgoingRegister answer = sent(engine.securityReserved(at(2), kOfferB));
    EXPECT_FALSE(answer.protectedBySa);
    EXPECT_EQ(header(answer, "Call-ID"), header(request, "Call-ID"));
    EXPECT_EQ(header(answer, "CSeq"), "2 REGISTER");
    EXPECT_EQ(clientParameters(answer).spiC, kOfferB.spiUc);
    EXPECT_EQ(clientParameters(answer).portS, kOfferB.portUs);
    EXPECT_THAT(header(answer, "Contact"), HasSubstr("<sip:10.0.0.2:6201>"));
    auto authorization = sip::parseAuthorization(header(answer, "Authorization"));
    EXPECT_EQ(authorization.auts.has_value(), !GetParam());
    EXPECT_EQ(engine.state(), RegistrationState::Registering);

    // The network's next challenge is answered with the new offer.
    auto next = network_.nextVector();
    engine.response(at(3), network_.challenge(answer, next));
    auto install = one<action::InstallSaSet>(engine.authenticated(at(4), Network::success(next)));
    EXPECT_EQ(install.set.ours.spiUc, kOfferB.spiUc);
}

TEST_P(InvalidChallenge, DuringARefreshTheAnswerGoesOverTheSetInUseWithANewOffer) {
    RegistrationEngine engine(testConfig());
    registerFully(engine, network_, at(0), 3600);
    // The new set's SPIs at the P-CSCF: the established set still holds the first ones.
    network_.spiPc = 6001;
    network_.spiPs = 6002;
    engine.registerNow(at(3000));
    OutgoingRegister refresh = sent(engine.securityReserved(at(3000), kOfferB));
    auto vector = network_.nextVector();
    engine.response(at(3000), network_.challenge(refresh, vector));
    Actions actions = engine.authenticated(at(3001), cardAnswer(vector));
    EXPECT_THAT(describe(actions),
                ElementsAre("ReleaseSecurity(6200)", "ReserveSecurity(6101)", "InfoChanged"));
    SecurityOffer third{6300, 6301, 7777, 8888};
    OutgoingRegister answer = sent(engine.securityReserved(at(3001), third));
    EXPECT_TRUE(answer.protectedBySa);
    EXPECT_EQ(answer.localPort, kOfferA.portUc);
    EXPECT_EQ(clientParameters(answer).spiC, third.spiUc);
    EXPECT_EQ(engine.state(), RegistrationState::Reregistering);
}

// The Kamailio 5.6 profile: a pending contact keeps its first offer, so the answer repeats it.
TEST_P(InvalidChallenge, WithTheKamailioProfileTheAnswerRepeatsTheOffer) {
    auto config = testConfig();
    config.keepOfferAfterInvalidChallenge = true;
    RegistrationEngine engine(config);
    OutgoingRegister request = startInitial(engine, at(0));
    auto vector = network_.nextVector();
    engine.response(at(1), network_.challenge(request, vector));
    Actions actions = engine.authenticated(at(2), cardAnswer(vector));
    EXPECT_FALSE(has<action::ReserveSecurity>(actions));
    EXPECT_FALSE(has<action::ReleaseSecurity>(actions));
    OutgoingRegister answer = sent(actions);
    EXPECT_EQ(header(answer, "Security-Client"), header(request, "Security-Client"));
}

INSTANTIATE_TEST_SUITE_P(Card, InvalidChallenge, ::testing::Values(true, false),
                         [](const auto& test) {
                             return test.param ? "MacFailure" : "SyncFailure";
                         });

}  // namespace
}  // namespace imsaka::daemon::test
