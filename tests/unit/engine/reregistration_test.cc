// Re-registration (24.229 5.1.1.4.1) and re-authentication: a new offer over the current
// set keeping its protected server port (TS 33.203 7.4), a new temporary set when
// challenged, and the old set retired once the network uses the new one and the
// transactions on the old one are done (24.229 5.1.1.5.1).
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;

class Reregistration : public ::testing::Test {
  protected:
    void SetUp() override { first_ = registerFully(engine_, network_, at(0), 3600); }

    // registerNow + securityReserved at t = 3000 s: new SPIs and port_uc, the same port_us.
    OutgoingRegister refresh() {
        EXPECT_THAT(describe(engine_.registerNow(at(3000))),
                    ElementsAre("StateChanged(reregistering)", "ReserveSecurity(6101)"));
        return sent(engine_.securityReserved(at(3000), kOfferBKeepingServerPort));
    }

    // A 401 to the refresh answered with AKA success: the REGISTER over the new set.
    OutgoingRegister reauthenticate(const OutgoingRegister& request) {
        // A new set has new SPIs at the P-CSCF too: the old set's SAs still hold the old ones.
        network_.portPs = 7201;
        network_.spiPc = 6001;
        network_.spiPs = 6002;
        auto vector = network_.nextVector();
        engine_.response(at(3001), network_.challenge(request, vector));
        auto install =
            one<action::InstallSaSet>(engine_.authenticated(at(3002), Network::success(vector)));
        EXPECT_EQ(install.set.id, 2u);
        EXPECT_EQ(install.set.ours.portUc, kOfferB.portUc);
        EXPECT_EQ(install.set.ours.portUs, kOfferA.portUs);
        EXPECT_EQ(install.set.theirs.portS, 7201);
        OutgoingRegister answer = sent(engine_.saSetInstalled(at(3003), install.set.id));
        auto authorization = sip::parseAuthorization(header(answer, "Authorization"));
        EXPECT_EQ(authorization.response, expectedResponse(answer, authorization, vector.xres));
        EXPECT_EQ(authorization.nonce,
                  sip::parseWwwAuthenticate(network_.wwwAuthenticate(vector)).nonce);
        return answer;
    }

    RegistrationEngine engine_{testConfig()};
    Network network_;
    OutgoingRegister first_;
};

TEST_F(Reregistration, RefreshGoesOverTheCurrentSetWithANewSecurityClient) {
    OutgoingRegister request = refresh();
    EXPECT_TRUE(request.protectedBySa);
    EXPECT_EQ(request.localPort, kOfferA.portUc);
    EXPECT_EQ(request.remotePort, network_.portPs);
    EXPECT_EQ(header(request, "Via"), "SIP/2.0/UDP 10.0.0.2:6101");
    EXPECT_EQ(header(request, "Call-ID"), header(first_, "Call-ID"));
    EXPECT_EQ(header(request, "CSeq"), "3 REGISTER");
    EXPECT_EQ(header(request, "Security-Verify"), network_.securityServer());
    auto client = sip::parseSecurityHeader(header(request, "Security-Client"));
    ASSERT_FALSE(client.empty());
    EXPECT_EQ(sip::ipsecParameters(client.front()).spiC, kOfferB.spiUc);
    EXPECT_EQ(sip::ipsecParameters(client.front()).portC, kOfferB.portUc);
    // TS 33.203 7.4: the protected server port stays, so the Contact does.
    EXPECT_EQ(sip::ipsecParameters(client.front()).portS, kOfferA.portUs);
    // The last answer is repeated (same nonce and response as the authenticated REGISTER).
    EXPECT_EQ(header(request, "Authorization"), header(first_, "Authorization"));
}

TEST_F(Reregistration, OkWithoutChallengeKeepsTheSetAndReleasesTheUnusedOffer) {
    OutgoingRegister request = refresh();
    Actions actions = engine_.response(at(3000), network_.ok(request, 3600));
    EXPECT_THAT(describe(actions), ElementsAre("CancelTimer(timer-f)", "SetSaLifetime(1,3630)",
                                               "ReleaseSecurity(6200)", "ArmTimer(refresh@6000)",
                                               "StateChanged(registered)", "InfoChanged"));
    EXPECT_EQ(header(request, "Contact"), header(first_, "Contact"));
    ASSERT_EQ(engine_.saSets().size(), 1u);
    EXPECT_EQ(engine_.saSets()[0].state, SaSetState::Established);
    EXPECT_EQ(engine_.info().expiresAt, at(6600));
}

TEST_F(Reregistration, KeptSetNeverShrinksBelowWhatRemainsOfIt) {
    OutgoingRegister request = refresh();
    // A 60 s registration: the set keeps the 630 s it still had.
    Actions actions = engine_.response(at(3000), network_.ok(request, 60));
    EXPECT_EQ(one<action::SetSaLifetime>(actions).lifetime, Seconds(630));
}

TEST_F(Reregistration, ChallengeInstallsANewSetAndTheProtectedRegisterUsesIt) {
    OutgoingRegister request = reauthenticate(refresh());
    EXPECT_EQ(request.localPort, kOfferB.portUc);
    EXPECT_EQ(request.remotePort, 7201);
    EXPECT_EQ(header(request, "Via"), "SIP/2.0/UDP 10.0.0.2:6101");
    // The binding stays the one registered: dialogs using this Contact go on.
    EXPECT_EQ(header(request, "Contact").substr(0, header(request, "Contact").find(";expires")),
              header(first_, "Contact").substr(0, header(first_, "Contact").find(";expires")));
    EXPECT_EQ(header(request, "Security-Verify"), network_.securityServer());
    EXPECT_EQ(header(request, "CSeq"), "4 REGISTER");
    EXPECT_EQ(engine_.state(), RegistrationState::Reregistering);
}

TEST_F(Reregistration, OkAfterReauthenticationRetiresTheOldSet) {
    OutgoingRegister request = reauthenticate(refresh());
    Actions actions = engine_.response(at(3004), network_.ok(request, 3600));
    // The old set may end no later than its own lifetime (3630).
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)",
                            "SetSaLifetime(2,3630)", "WatchInbound(2)", "ArmTimer(retire@3630)",
                            "ArmTimer(refresh@6004)", "StateChanged(registered)", "InfoChanged"));
    auto sets = engine_.saSets();
    ASSERT_EQ(sets.size(), 2u);
    EXPECT_EQ(sets[0].state, SaSetState::Retiring);
    EXPECT_EQ(sets[1].state, SaSetState::Established);
    EXPECT_EQ(engine_.currentSet()->id, 2u);
}

// 24.229 5.1.1.5.1: the old set goes after the first message on the new set *and* once the
// transactions on the old one are done. Without word from the application that is the
// longest transaction time (64 * T1) after the first message on the new set.
TEST_F(Reregistration, OldSetOutlivesTheFirstMessageOnTheNewSetByTheLongestTransaction) {
    OutgoingRegister request = reauthenticate(refresh());
    engine_.response(at(3004), network_.ok(request, 600));
    EXPECT_TRUE(engine_.inboundTraffic(at(3005), 1).empty());  // the old set in use: nothing
    EXPECT_THAT(describe(engine_.inboundTraffic(at(3006), 2)),
                ElementsAre("ArmTimer(retire@3134)"));
    ASSERT_EQ(engine_.saSets().size(), 2u) << "a MESSAGE in flight on the old set still lands";
    // A further message on the new set changes nothing: the grace counts from the first.
    EXPECT_TRUE(engine_.inboundTraffic(at(3100), 2).empty());
    EXPECT_THAT(describe(engine_.timerFired(at(3134), TimerKind::Retire)),
                ElementsAre("RemoveSaSet(1)", "InfoChanged"));
    ASSERT_EQ(engine_.saSets().size(), 1u);
    EXPECT_EQ(engine_.saSets()[0].id, 2u);
}

TEST_F(Reregistration, OldSetGoesAsSoonAsBothTheNetworkAndTheApplicationAreDoneWithIt) {
    OutgoingRegister request = reauthenticate(refresh());
    engine_.response(at(3004), network_.ok(request, 600));
    // The application's transactions are done, but the network has not used the new set.
    EXPECT_FALSE(has<action::RemoveSaSet>(engine_.retiringTransactions(at(3005), false)));
    EXPECT_THAT(describe(engine_.inboundTraffic(at(3006), 2)),
                ElementsAre("RemoveSaSet(1)", "CancelTimer(retire)", "InfoChanged"));
    ASSERT_EQ(engine_.saSets().size(), 1u);
    EXPECT_EQ(engine_.saSets()[0].id, 2u);
}

TEST_F(Reregistration, ApplicationKeepsTheOldSetForItsTransactionsUpToTheSetsLifetime) {
    OutgoingRegister request = reauthenticate(refresh());
    engine_.response(at(3004), network_.ok(request, 600));
    EXPECT_TRUE(engine_.retiringTransactions(at(3005), true).empty());
    // The grace does not apply while the application holds the set; its lifetime does.
    EXPECT_THAT(describe(engine_.inboundTraffic(at(3006), 2)), ElementsAre());
    EXPECT_FALSE(has<action::RemoveSaSet>(engine_.timerFired(at(3134), TimerKind::Retire)));
    EXPECT_EQ(engine_.saSets().size(), 2u);
    // Done: the network has used the new set already, so it goes at once.
    EXPECT_THAT(describe(engine_.retiringTransactions(at(3200), false)),
                ElementsAre("RemoveSaSet(1)", "CancelTimer(retire)", "InfoChanged"));
}

TEST_F(Reregistration, HeldOldSetStillEndsWithItsLifetime) {
    OutgoingRegister request = reauthenticate(refresh());
    engine_.response(at(3004), network_.ok(request, 600));
    engine_.retiringTransactions(at(3005), true);
    engine_.inboundTraffic(at(3006), 2);
    EXPECT_THAT(describe(engine_.timerFired(at(3630), TimerKind::Retire)),
                ElementsAre("RemoveSaSet(1)", "InfoChanged"));
}

TEST_F(Reregistration, RetiringTransactionsWithoutARetiringSetIsWrongState) {
    EXPECT_EQ(errorOf([&] { engine_.retiringTransactions(at(100), false); }),
              EngineErrc::WrongState);
}

TEST_F(Reregistration, RetiringSetGoesWhenItsLifetimeEndsIfTheNetworkNeverUsesTheNewOne) {
    OutgoingRegister request = reauthenticate(refresh());
    engine_.response(at(3004), network_.ok(request, 3600));
    // Set 1 was to last until 3630; no inbound traffic on set 2 (Kamailio 5.6) keeps it.
    EXPECT_FALSE(has<action::RemoveSaSet>(engine_.timerFired(at(3600), TimerKind::Refresh)));
    engine_.registerNow(at(3700));
    OutgoingRegister next = sent(engine_.securityReserved(at(3700), kOfferBKeepingServerPort));
    Actions actions = engine_.response(at(3700), network_.ok(next, 3600));
    EXPECT_EQ(one<action::RemoveSaSet>(actions).id, 1u);
    ASSERT_EQ(engine_.saSets().size(), 1u);
    EXPECT_EQ(engine_.saSets()[0].id, 2u);
}

TEST_F(Reregistration, ForbiddenRemovesTheTemporarySetAndKeepsTheOldOne) {
    OutgoingRegister request = reauthenticate(refresh());
    Actions actions = engine_.response(at(3004), Network::answer(403, request));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)", "RemoveSaSet(2)",
                            "StateChanged(registered)", "ArmTimer(refresh@3600)", "InfoChanged"));
    ASSERT_EQ(engine_.saSets().size(), 1u);
    EXPECT_EQ(engine_.currentSet()->id, 1u);
    EXPECT_EQ(engine_.currentSet()->state, SaSetState::Established);
    EXPECT_EQ(engine_.info().lastError, "REGISTER answered 403");
    // 24.228 6.9.3: no further attempt. The old set serves until the registration expires,
    // then the registration has failed.
    EXPECT_THAT(describe(engine_.timerFired(at(3600), TimerKind::Refresh)),
                ElementsAre("RemoveSaSet(1)", "StateChanged(failed)", "InfoChanged"));
}

TEST_F(Reregistration, RegAwaitAuthExpiryRemovesTheTemporarySetAndKeepsTheOldOne) {
    reauthenticate(refresh());
    Actions actions = engine_.timerFired(at(3243), TimerKind::RegAwaitAuth);
    // The refresh is tried again after the pacing wait, still before expiry.
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "RemoveSaSet(2)", "StateChanged(registered)",
                            "ArmTimer(refresh@3303)", "InfoChanged"));
    EXPECT_EQ(engine_.currentSet()->id, 1u);
    EXPECT_EQ(engine_.info().lastError, "no 200 OK before reg-await-auth expired");
}

TEST_F(Reregistration, RegistrationLapsesWhenNoRefreshSucceedsBeforeExpiry) {
    engine_.registerNow(at(3550));
    OutgoingRegister request = sent(engine_.securityReserved(at(3550), kOfferB));
    // A failure 24.229 does not name for refreshes: the registration holds until it expires,
    // and a paced retry would come after that: none.
    EXPECT_THAT(describe(engine_.response(at(3550), Network::answer(480, request))),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6200)",
                            "StateChanged(registered)", "ArmTimer(refresh@3600)", "InfoChanged"));
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
    Actions actions = engine_.timerFired(at(3600), TimerKind::Refresh);
    EXPECT_THAT(describe(actions), ElementsAre("RemoveSaSet(1)", "StateChanged(unregistered)",
                                               "RefreshDue(register-again)", "InfoChanged"));
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_FALSE(engine_.info().expiresAt);
}

TEST_F(Reregistration, OtherFailuresRetryTheRefreshAfterTheirRetryAfterOrThePacingWait) {
    OutgoingRegister request = refresh();
    Actions actions =
        engine_.response(at(3000), Network::answer(503, request, {{"Retry-After", "100"}}));
    EXPECT_EQ(one<action::ArmTimer>(actions).at, at(3100));
    EXPECT_EQ(engine_.currentSet()->id, 1u);
    EXPECT_THAT(describe(engine_.timerFired(at(3100), TimerKind::Refresh)),
                ElementsAre("RefreshDue(retry)"));
    engine_.registerNow(at(3100));
    request = sent(engine_.securityReserved(at(3100), kOfferB));
    // The second failure in a row: 30 s * 2^2.
    EXPECT_EQ(one<action::ArmTimer>(engine_.response(at(3100), Network::answer(480, request))).at,
              at(3220));
    engine_.registerNow(at(3220));
    request = sent(engine_.securityReserved(at(3220), kOfferB));
    engine_.response(at(3220), network_.ok(request, 3600));
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
    EXPECT_TRUE(engine_.info().lastError.empty());
}

// 24.229 5.1.1.4.1: "On receiving a 408 (Request Timeout) response or 500 (Server Internal
// Error) response or 504 (Server Time-Out) response for a reregistration, the UE shall
// perform the procedures for initial registration as described in subclause 5.1.1.2."
class RefreshFailure : public Reregistration, public ::testing::WithParamInterface<uint16_t> {};

TEST_P(RefreshFailure, StartsAnInitialRegistrationAtOnce) {
    OutgoingRegister request = refresh();
    Actions actions = engine_.response(at(3000), Network::answer(GetParam(), request));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6200)", "RemoveSaSet(1)",
                            "CancelTimer(refresh)", "StateChanged(registering)", "ReserveSecurity",
                            "InfoChanged"));
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_FALSE(engine_.info().expiresAt);
    OutgoingRegister initial = sent(engine_.securityReserved(at(3000), kOfferA));
    EXPECT_FALSE(initial.protectedBySa);
    EXPECT_EQ(initial.remoteAddress, "10.0.0.1");
    EXPECT_NE(header(initial, "Call-ID"), header(request, "Call-ID"));
    EXPECT_EQ(header(initial, "CSeq"), "1 REGISTER");
    EXPECT_EQ(sip::parseAuthorization(header(initial, "Authorization")).response, "");
}

INSTANTIATE_TEST_SUITE_P(Status, RefreshFailure, ::testing::Values(408, 500, 504));

// RFC 3261 20.33: a Retry-After on the 500 says when the service is back; the initial
// registration waits for it rather than going at once.
TEST_F(Reregistration, ServerErrorWithRetryAfterRegistersAgainOnceItHasPassed) {
    OutgoingRegister request = refresh();
    Actions actions =
        engine_.response(at(3000), Network::answer(500, request, {{"Retry-After", "6"}}));
    EXPECT_FALSE(has<action::ReserveSecurity>(actions));
    EXPECT_EQ(engine_.state(), RegistrationState::Backoff);
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_EQ(one<action::ArmTimer>(actions).at, at(3006));
    EXPECT_THAT(describe(engine_.timerFired(at(3006), TimerKind::Backoff)),
                ::testing::Contains("RefreshDue(register-again)"));
    OutgoingRegister initial = startInitial(engine_, at(3006), kOfferA);
    EXPECT_FALSE(initial.protectedBySa);
    EXPECT_EQ(header(initial, "CSeq"), "1 REGISTER");
}

// 24.229 5.1.1.4.1: when timer F expires the UE may select a different P-CSCF and performs
// the procedures for initial registration; the set it used is considered inactive.
TEST_F(Reregistration, TimerFOnARefreshRegistersAgainThroughTheNextPcscf) {
    refresh();
    Actions actions = engine_.timerFired(at(3128), TimerKind::TimerF);
    EXPECT_THAT(describe(actions), ElementsAre("ReleaseSecurity(6200)", "RemoveSaSet(1)",
                                               "CancelTimer(refresh)", "StateChanged(unregistered)",
                                               "RefreshDue(register-again)", "InfoChanged"));
    EXPECT_EQ(engine_.pcscfAddress(), "10.0.0.9");
    EXPECT_TRUE(engine_.saSets().empty());
    OutgoingRegister initial = startInitial(engine_, at(3130), kOfferA);
    EXPECT_FALSE(initial.protectedBySa);
    EXPECT_EQ(initial.remoteAddress, "10.0.0.9");
}

TEST_F(Reregistration, TransportErrorOnARefreshRegistersAgainThroughTheNextPcscfAtOnce) {
    refresh();
    Actions actions = engine_.transportError(at(3001));
    EXPECT_TRUE(has<action::ReserveSecurity>(actions));
    EXPECT_EQ(engine_.state(), RegistrationState::Registering);
    OutgoingRegister initial = sent(engine_.securityReserved(at(3001), kOfferA));
    EXPECT_EQ(initial.remoteAddress, "10.0.0.9");
    EXPECT_EQ(header(initial, "CSeq"), "1 REGISTER");
}

TEST_F(Reregistration, OkWithoutOurContactRegistersAgain) {
    OutgoingRegister request = refresh();
    Actions actions = engine_.response(
        at(3000), Network::answer(200, request, {{"Contact", "<sip:10.0.0.7:5060>;expires=600"}}));
    EXPECT_TRUE(has<action::ReserveSecurity>(actions));
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_EQ(engine_.info().lastError, "200 OK without our Contact");
}

TEST_F(Reregistration, RegisterNowWhileARefreshIsOutstandingIsWrongState) {
    refresh();
    try {
        engine_.registerNow(at(3001));
        FAIL() << "expected EngineError";
    } catch (const EngineError& error) {
        EXPECT_EQ(error.code(), EngineErrc::WrongState);
    }
}

}  // namespace
}  // namespace imsaka::daemon::test
