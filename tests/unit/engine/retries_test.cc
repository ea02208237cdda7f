// What follows a failed attempt (24.229 5.1.1.2.1, 24.228 6.9.3, RFC 5626 4.5): a 403
// ends the attempts, a silent P-CSCF hands over to the next one, other failures wait their
// Retry-After or the pacing wait, and the fifth in a row starts the long back-off.
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;

class Retries : public OneEngine {};

// 24.228 6.9.3: "On receiving the 403 Forbidden response the UE ceases registration and
// authentication attempts"; 24.229 5.1.1.5.1 removes the temporary set.
TEST_F(Retries, ForbiddenToTheProtectedRegisterRemovesTheTemporarySetAndStops) {
    OutgoingRegister answer = authenticateInitial(engine_, network_, at(0));
    Actions actions = engine_.response(at(3), Network::answer(403, answer));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)", "RemoveSaSet(1)",
                            "StateChanged(failed)", "InfoChanged"));
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_EQ(engine_.info().lastError, "REGISTER answered 403");
    // Failed is final for this registration: no automatic retry, and registerNow is refused.
    EXPECT_EQ(errorOf([&] { engine_.registerNow(at(4)); }), EngineErrc::WrongState);
}

TEST_F(Retries, ForbiddenToTheUnprotectedRegisterStops) {
    OutgoingRegister request = start();
    Actions actions = engine_.response(at(1), Network::answer(403, request));
    EXPECT_THAT(describe(actions), ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                                               "StateChanged(failed)", "InfoChanged"));
    EXPECT_FALSE(has<action::RefreshDue>(actions));
}

TEST_F(Retries, UseProxyMovesToTheNextPcscfAndFailsWhenNoneIsLeft) {
    auto config = testConfig();
    config.pcscfs = {{"10.0.0.1", 5060}, {"10.0.0.9", 5070}};
    RegistrationEngine engine(config);
    OutgoingRegister request = startInitial(engine, at(0));
    EXPECT_EQ(engine.pcscfAddress(), "10.0.0.1");
    Actions actions = engine.response(at(1), Network::answer(305, request));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)", "ReserveSecurity"));
    // The reservation asked for is for the new P-CSCF, and the REGISTER goes to its port.
    EXPECT_EQ(engine.pcscfAddress(), "10.0.0.9");
    OutgoingRegister second = sent(engine.securityReserved(at(1), kOfferB));
    EXPECT_EQ(second.remoteAddress, "10.0.0.9");
    EXPECT_EQ(second.remotePort, 5070);
    Actions last = engine.response(at(2), Network::answer(305, second));
    EXPECT_THAT(describe(last), ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6200)",
                                            "StateChanged(failed)", "InfoChanged"));
    EXPECT_EQ(engine.state(), RegistrationState::Failed);
    EXPECT_EQ(errorOf([&] { engine.registerNow(at(3)); }), EngineErrc::WrongState);
}

// 24.229 5.1.1.2.1: when timer F expires the UE may select a different P-CSCF from its list
// (NOTE 3: other means, such as a transport error, may trigger the same). A P-CSCF not yet
// tried is tried at once; once every one has failed, the next attempt is paced.
TEST_F(Retries, TransportErrorMovesToTheNextPcscfAtOnce) {
    start();
    EXPECT_THAT(describe(engine_.transportError(at(1))),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)", "ReserveSecurity",
                            "InfoChanged"));
    EXPECT_EQ(engine_.info().lastError, "transport error");
    EXPECT_EQ(engine_.pcscfAddress(), "10.0.0.9");
    OutgoingRegister second = sent(engine_.securityReserved(at(1), kOfferB));
    EXPECT_EQ(second.remoteAddress, "10.0.0.9");
    // Every P-CSCF failed: the next attempt waits, at the first one again.
    EXPECT_THAT(describe(engine_.transportError(at(2))),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6200)",
                            "StateChanged(backoff)", "ArmTimer(backoff@122)", "InfoChanged"));
    EXPECT_EQ(engine_.pcscfAddress(), "10.0.0.1");
}

TEST_F(Retries, TimerFMovesToTheNextPcscfAndAsksForRegisterNow) {
    start();
    // A timer has no caller to hand a REGISTER to: it asks for one instead.
    EXPECT_THAT(describe(engine_.timerFired(at(128), TimerKind::TimerF)),
                ElementsAre("ReleaseSecurity(6100)", "StateChanged(unregistered)",
                            "RefreshDue(retry)", "InfoChanged"));
    EXPECT_EQ(engine_.info().lastError, "no final response before timer F");
    EXPECT_EQ(engine_.pcscfAddress(), "10.0.0.9");
    OutgoingRegister second = startInitial(engine_, at(130), kOfferB);
    EXPECT_EQ(second.remoteAddress, "10.0.0.9");
    EXPECT_THAT(describe(engine_.timerFired(at(258), TimerKind::TimerF)),
                ElementsAre("ReleaseSecurity(6200)", "StateChanged(backoff)",
                            "ArmTimer(backoff@378)", "InfoChanged"));
}

TEST_F(Retries, WithOnePcscfTimerFIsPaced) {
    auto config = testConfig();
    config.pcscfs = {{"10.0.0.1", 5060}};
    RegistrationEngine engine(config);
    startInitial(engine, at(0));
    EXPECT_THAT(describe(engine.timerFired(at(128), TimerKind::TimerF)),
                ElementsAre("ReleaseSecurity(6100)", "StateChanged(backoff)",
                            "ArmTimer(backoff@188)", "InfoChanged"));
    EXPECT_THAT(describe(engine.timerFired(at(188), TimerKind::Backoff)),
                ElementsAre("StateChanged(unregistered)", "RefreshDue(retry)"));
}

// Below the limit a failed attempt is not repeated at once: the n-th consecutive failure
// waits min(30 s * 2^n, 30 min) (RFC 5626 4.5, the whole wait with the test's jitter).
TEST_F(Retries, FailedAttemptsArePacedBeforeTheLimit) {
    OutgoingRegister request = start();
    Actions actions = engine_.response(at(1), Network::answer(500, request));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                            "StateChanged(backoff)", "ArmTimer(backoff@61)", "InfoChanged"));
    EXPECT_EQ(errorOf([&] { engine_.registerNow(at(2)); }), EngineErrc::WrongState);
    EXPECT_THAT(describe(engine_.timerFired(at(61), TimerKind::Backoff)),
                ElementsAre("StateChanged(unregistered)", "RefreshDue(retry)"));
    request = startInitial(engine_, at(61));
    engine_.response(at(62), Network::answer(500, request));
    EXPECT_EQ(engine_.state(), RegistrationState::Backoff);
    engine_.timerFired(at(182), TimerKind::Backoff);
    request = startInitial(engine_, at(182));
    EXPECT_EQ(one<action::ArmTimer>(engine_.response(at(183), Network::answer(500, request))).at,
              at(183 + 240));
}

TEST_F(Retries, JitterShortensTheWaitByUpToHalf) {
    auto config = testConfig();
    config.jitter = [] { return 0.5; };
    RegistrationEngine engine(config);
    OutgoingRegister request = startInitial(engine, at(0));
    EXPECT_EQ(one<action::ArmTimer>(engine.response(at(1), Network::answer(500, request))).at,
              at(31));
}

TEST_F(Retries, RetryAfterIsHonouredBeforeTheLimitToo) {
    OutgoingRegister request = start();
    Actions actions =
        engine_.response(at(1), Network::answer(503, request, {{"Retry-After", "600"}}));
    EXPECT_EQ(one<action::ArmTimer>(actions).at, at(601));
    EXPECT_EQ(engine_.state(), RegistrationState::Backoff);
}

class FailedAttempts : public ::testing::TestWithParam<uint16_t> {};

// The whole attempt sequence: each retry after its wait, the fifth failure starts the
// five-minute back-off of 24.229 5.1.1.2.1 c).
OutgoingRegister retryAfterWait(RegistrationEngine& engine, Time now) {
    EXPECT_EQ(engine.state(), RegistrationState::Backoff);
    EXPECT_TRUE(has<action::RefreshDue>(engine.timerFired(now, TimerKind::Backoff)));
    return startInitial(engine, now);
}

TEST_P(FailedAttempts, FiveFailedInitialAttemptsBackOffForFiveMinutes) {
    RegistrationEngine engine(testConfig());
    OutgoingRegister request = startInitial(engine, at(0));
    int64_t now = 0;
    for (int attempt = 1; attempt < 5; ++attempt) {
        Actions actions = engine.response(at(now), Network::answer(GetParam(), request));
        ASSERT_EQ(engine.state(), RegistrationState::Backoff) << "attempt " << attempt;
        now =
            std::chrono::duration_cast<Seconds>(one<action::ArmTimer>(actions).at - at(0)).count();
        request = retryAfterWait(engine, at(now));
    }
    Actions actions = engine.response(at(now + 1), Network::answer(GetParam(), request));
    EXPECT_THAT(
        describe(actions),
        ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)", "StateChanged(backoff)",
                    "ArmTimer(backoff@" + std::to_string(now + 301) + ")", "InfoChanged"));
    EXPECT_EQ(errorOf([&] { engine.registerNow(at(now + 2)); }), EngineErrc::WrongState);
    EXPECT_EQ(errorOf([&] { engine.deregister(at(now + 2)); }), EngineErrc::WrongState);
    EXPECT_THAT(describe(engine.timerFired(at(now + 301), TimerKind::Backoff)),
                ElementsAre("StateChanged(unregistered)", "RefreshDue(retry)"));
    // After the back-off the count starts again: the next failure is paced, not backed off.
    request = startInitial(engine, at(now + 302));
    EXPECT_EQ(
        one<action::ArmTimer>(engine.response(at(now + 303), Network::answer(GetParam(), request)))
            .at,
        at(now + 303 + 60));
}

INSTANTIATE_TEST_SUITE_P(ErrorResponses, FailedAttempts,
                         ::testing::Values(408, 480, 500, 503, 504, 600));

TEST_F(Retries, BackOffFollowsRetryAfterWhenPresent) {
    OutgoingRegister request = start();
    int64_t now = 0;
    for (int attempt = 1; attempt < 5; ++attempt) {
        Actions actions = engine_.response(at(now), Network::answer(503, request));
        now =
            std::chrono::duration_cast<Seconds>(one<action::ArmTimer>(actions).at - at(0)).count();
        request = retryAfterWait(engine_, at(now));
    }
    Actions actions = engine_.response(
        at(now), Network::answer(503, request, {{"Retry-After", "120 (maintenance);duration=60"}}));
    EXPECT_EQ(one<action::ArmTimer>(actions).at, at(now + 120));
}

// 5.1.1.2.1 b): 30 minutes when the initial registration follows a failed re-registration.
TEST_F(Retries, BackOffIsThirtyMinutesWhenInitialRegistrationFollowsAFailedReregistration) {
    registerFully(engine_, network_, at(0), 3600);
    engine_.registerNow(at(3000));
    OutgoingRegister refresh = sent(engine_.securityReserved(at(3000), kOfferB));
    // 24.229 5.1.1.4.1: a 500 to the refresh starts an initial registration at once.
    ASSERT_TRUE(
        has<action::ReserveSecurity>(engine_.response(at(3000), Network::answer(500, refresh))));
    OutgoingRegister request = sent(engine_.securityReserved(at(3000), kOfferA));
    int64_t now = 3000;
    for (int attempt = 1; attempt < 5; ++attempt) {
        Actions actions = engine_.response(at(now), Network::answer(500, request));
        now =
            std::chrono::duration_cast<Seconds>(one<action::ArmTimer>(actions).at - at(0)).count();
        request = retryAfterWait(engine_, at(now));
    }
    Actions actions = engine_.response(at(now), Network::answer(500, request));
    EXPECT_EQ(one<action::ArmTimer>(actions).at, at(now + 1800));
    EXPECT_EQ(engine_.state(), RegistrationState::Backoff);
}

}  // namespace
}  // namespace imsaka::daemon::test
