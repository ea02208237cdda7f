// Failures of the initial registration (TS 24.229 5.1.1.2.1, 5.1.1.5.1; 24.228 6.9) and the
// deregistration the network challenges (5.1.1.6, 5.1.1.5.1). Retry-After and back-off are
// checked one way only: nothing before the time (load only delays); afterwards a generous
// bound for the next attempt.
#include <signal.h>

#include "conformance_case.h"

namespace imsaka::conformance {
namespace {

double secondsBetween(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

class InitialFailureCase : public ConformanceCase {
  protected:
    // Finishes an initial registration from its unprotected REGISTER.
    void completeFrom(const Inbound& initial) {
        Challenge challenge = ss().challenge(initial);
        Inbound answer = expectChallengeAnswer(challenge);
        ss().acceptRegister(answer, 600000);
        client().waitFor("registered", 30s);
        checkWire();
    }
};

class Ts24228_6_9_3_AuthenticationFailure : public InitialFailureCase {};
class Ts24229_5_1_1_2_1_InitialFailure : public InitialFailureCase {};

// 24.228 6.9.3: on 403 to the REGISTER answering the challenge the UE "ceases registration
// and authentication attempts"; 24.229 5.1.1.5.1 deletes the temporary set.
TEST_F(Ts24228_6_9_3_AuthenticationFailure, ForbiddenAfterAuthenticationEndsTheAttempts) {
    if (!start({})) return;
    run([&] {
        std::string path = client().waitFor("created").at("path");
        Inbound initial = expectInitialRegister();
        Challenge challenge = ss().challenge(initial);
        Inbound answer = expectChallengeAnswer(challenge);
        ss().respond(answer, 403, "Forbidden");
        expectUeSpis({}, "24.229 5.1.1.5.1: the temporary set is deleted after 403");
        expectQuiet("REGISTER", 10s, "24.228 6.9.3: the UE ceases registration attempts after 403");
        checkWire();
    });
}

// 24.229 5.1.1.2.1: 403 to every attempt (an unknown or barred subscriber, 24.228 6.9.2): at
// most 5 consecutive initial attempts, then none for at least 5 minutes (Retry-After absent).
TEST_F(Ts24229_5_1_1_2_1_InitialFailure, ForbiddenStopsAfterFiveAttempts) {
    if (!start({})) return;
    run([&] {
        client().waitFor("created");
        int attempts = 0;
        while (auto request = ss().waitForRequest("REGISTER", attempts == 0 ? 30s : 10s)) {
            ++attempts;
            ASSERT_LE(attempts, 5) << "24.229 5.1.1.2.1: more than 5 consecutive initial attempts\n"
                                   << diagnostics();
            expectUnprotected(*request, "an initial REGISTER");
            ss().respond(*request, 403, "Forbidden",
                         {{"Warning", "399 scscf.3gpp.org \"not allowed\""}});
        }
        EXPECT_GE(attempts, 1);
        expectUeSpis({}, "no SAs after the failed attempts");
        checkWire();
    });
}

// RFC 3261 21.5.4 with 24.229 5.1.1.2.1: 503 with Retry-After to the initial REGISTER: the
// UE does not try again before the time given.
TEST_F(Ts24229_5_1_1_2_1_InitialFailure, ServiceUnavailableWaitsForRetryAfter) {
    if (!start({})) return;
    run([&] {
        client().waitFor("created");
        Inbound first = expectInitialRegister();
        ss().respond(first, 503, "Service Unavailable", {{"Retry-After", "6"}});
        auto answeredAt = Clock::now();
        Inbound again = expectInitialRegister(60s);
        EXPECT_GE(secondsBetween(answeredAt, again.at), 6 * 0.95)
            << "a new REGISTER before Retry-After";
        completeFrom(again);
    });
}

// 24.229 5.1.1.2.1: after 500 to an initial registration the UE may try again.
TEST_F(Ts24229_5_1_1_2_1_InitialFailure, ServerErrorThenRegisters) {
    if (!start({})) return;
    run([&] {
        client().waitFor("created");
        Inbound first = expectInitialRegister();
        ss().respond(first, 500, "Server Internal Error");
        completeFrom(expectInitialRegister(60s));
    });
}

// 24.229 5.1.1.2.1: timer F (shortened by configuration) expires without an answer; the
// UE performs the initial registration again. Over UDP the first REGISTER is retransmitted
// meanwhile (RFC 3261 17.1.2.2), which the SS does not answer either.
TEST_F(Ts24229_5_1_1_2_1_InitialFailure, TimerFThenRegistersAgain) {
    CaseSetup setup;
    setup.ue.timers = {{"timer_f", "8"}};
    setup.clientArgs = {"--timer-f", "4"};
    if (!start(setup)) return;
    run([&] {
        client().waitFor("created");
        Inbound ignored = expectInitialRegister();
        Inbound again = expectInitialRegister(60s);
        EXPECT_NE(topViaBranch(again), topViaBranch(ignored))
            << "a new REGISTER transaction (RFC 3261 17.1.1.3: a new branch), not a retransmission";
        completeFrom(again);
    });
}

// 24.229 5.1.1.2.1: after 5 consecutive failed initial attempts the UE waits at least the
// back-off (here configured to 8 s instead of 5 minutes), then tries again; with
// Retry-After in the last answer, that time (here 6 s of a configured 600).
class Ts24229_5_1_1_2_1_Backoff : public InitialFailureCase,
                                  public ::testing::WithParamInterface<bool> {};

TEST_P(Ts24229_5_1_1_2_1_Backoff, WaitsAfterFiveFailedAttempts) {
    const bool retryAfter = GetParam();
    CaseSetup setup;
    setup.ue.timers = {{"max_initial_attempts", "5"},
                       {"backoff_after_initial", retryAfter ? "600" : "8"}};
    if (!start(setup)) return;
    run([&] {
        client().waitFor("created");
        for (int attempt = 1; attempt <= 5; ++attempt) {
            Inbound request = expectInitialRegister(60s);
            Headers extra;
            if (retryAfter && attempt == 5) extra.push_back({"Retry-After", "6"});
            ss().respond(request, 500, "Server Internal Error", extra);
        }
        auto lastAnswer = Clock::now();
        double wait = retryAfter ? 6 : 8;
        Inbound sixth = expectInitialRegister(90s);
        EXPECT_GE(secondsBetween(lastAnswer, sixth.at), wait * 0.95)
            << "24.229 5.1.1.2.1: the sixth attempt came before the back-off ended";
        completeFrom(sixth);
    });
}

INSTANTIATE_TEST_SUITE_P(, Ts24229_5_1_1_2_1_Backoff, ::testing::Bool(), [](const auto& tested) {
    return std::string(tested.param ? "retry_after" : "configured");
});

class Ts24229_5_1_1_6_Deregistration : public ConformanceCase {};

// 24.229 5.1.1.6 and 5.1.1.5.1: "a UE can be re-authenticated during ... deregistrations":
// the 401 to the de-REGISTER is answered over a new temporary set with Expires 0, and after
// the 200 nothing is left.
TEST_F(Ts24229_5_1_1_6_Deregistration, ChallengedDeregistrationIsAnswered) {
    if (!start({})) return;
    run([&] {
        Registration registration = registerUe();
        kill(client().pid(), SIGTERM);
        Inbound request = ss().expectRequest("REGISTER");
        expectOnSet(request, registration.set, "the deregistration");
        Challenge challenge = ss().challenge(request);
        Inbound answer = ss().expectRequest("REGISTER");
        ASSERT_TRUE(challenge.set.has_value());
        expectOnSet(answer, *challenge.set, "the deregistration answering the 401");
        RegisterExpectation expected = protectedExpectation(*challenge.set, &challenge);
        expected.authorization = ss().verify(answer, challenge);
        expected.deregistration = true;
        expectRegister(answer, expected);
        ss().acceptRegister(answer, 0);
        client().waitFor("deregistered", 20s);
        EXPECT_EQ(client().waitExit(20s), 0);
        expectNothingLeft(registration.path);
        checkWire();
    });
}

}  // namespace
}  // namespace imsaka::conformance
