// TS 34.229-1 8.2, User Initiated Re-Registration, with and without a new challenge, and
// the failures of a re-registration of TS 24.229 5.1.1.4.1 (408, 500, 504, timer F, a
// transport error): an initial registration follows, not a lapse.
//
// 8.2 grants 120, 1200 and 1800 s; the UE refreshes at half of a registration of up to
// 1200 s and 600 s before the end of a longer one. The cases keep the rule and shrink the
// numbers: imsakad's refresh_threshold (1200) and refresh_margin (600) are set to 10 and
// 5 s, and the SS grants 10 s (refresh at half: 5 s) and then 16 s (refresh 5 s before the
// end: 11 s). Time is checked one way only: never earlier than the rule (load only delays);
// "before the registration expires" is the bound of the wait.
#include <signal.h>

#include "conformance_case.h"

namespace imsaka::conformance {
namespace {

double secondsBetween(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

CaseSetup scaledRefresh() {
    CaseSetup setup;
    setup.ue.timers = {{"refresh_threshold", "10"}, {"refresh_margin", "5"}};
    return setup;
}

class Ts34229_8_2_UserInitiatedReregistration : public ConformanceCase {
  protected:
    // 8.2 steps 9, 11, 13: a re-REGISTER over the set in use, when the rule says, with the
    // headers of A.1.1 A2/A17 and 8.2's exceptions for Security-Client.
    Inbound expectRefresh(const Registration& registration, const Inbound& previous,
                          double earliestSeconds) {
        // The wait is bounded by the registration's lifetime: no refresh by then is a lapse.
        auto bound = std::chrono::seconds(registration.expires);
        Inbound refresh = ss().expectRequest("REGISTER", bound);
        double after = secondsBetween(registration.acceptedAt, refresh.at);
        EXPECT_GE(after, earliestSeconds * 0.95)
            << "24.229 5.1.1.4.1: the re-registration came " << after << " s after the 200 OK";
        expectOnSet(refresh, registration.set, "the re-REGISTER (8.2.5)");
        RegisterExpectation expected = protectedExpectation(registration.set, nullptr);
        expected.lastNonce = registration.challenge.vector.nonce;
        expected.lastRealm = ss().options().domain;
        expectRegister(refresh, expected);
        EXPECT_EQ(refresh.message.cseqNumber(), previous.message.cseqNumber() + 1)
            << "A.1.1 A2: CSeq incremented from the previous REGISTER";
        const Inbound& step3 = registration.answer;
        for (const char* name : {"spi-c", "spi-s", "port-c"})
            EXPECT_NE(securityClientParameter(refresh, name), securityClientParameter(step3, name))
                << "34.229-1 8.2.4 (Security-Client " << name
                << "): new, different from the REGISTER that set up the set in use";
        EXPECT_EQ(securityClientParameter(refresh, "port-s"),
                  securityClientParameter(previous, "port-s"))
            << "34.229-1 8.2.4 (Security-Client port-s): same value as in the previous REGISTER";
        return refresh;
    }
};

TEST_F(Ts34229_8_2_UserInitiatedReregistration,
       AtHalfThenBeforeExpiryWithoutNewChallenge) {
    if (!start(scaledRefresh())) return;
    run([&] {
        RegisterSteps steps;
        steps.expires = 10;
        Registration registration = registerUe(steps);
        Inbound step9 = expectRefresh(registration, registration.answer, 5);
        ss().acceptRegister(step9, 16);  // C.46: 200 without a challenge
        registration.acceptedAt = Clock::now();
        registration.expires = 16;
        Inbound step11 = expectRefresh(registration, step9, 11);
        ss().acceptRegister(step11, 600000);
        client().waitFor("registered", 20s);
        checkWire();
        deregisterUe(registration);
    });
}

TEST_F(Ts34229_8_2_UserInitiatedReregistration, WithNewChallengeOverANewSet) {
    if (!start(scaledRefresh())) return;
    run([&] {
        RegisterSteps steps;
        steps.expires = 10;
        Registration registration = registerUe(steps);
        Inbound refresh = expectRefresh(registration, registration.answer, 5);
        Challenge challenge = ss().challenge(refresh);  // over the set in use
        Inbound answer = expectChallengeAnswer(challenge);
        EXPECT_EQ(challenge.set->portUs, registration.set.portUs)
            << "34.229-1 8.2.4: the new set keeps the protected server port";
        ss().acceptRegister(answer, 600000);
        client().waitFor("registered", 30s);
        const SaSet old = registration.set;
        registration.movedTo(challenge, answer);
        // 24.229 5.1.1.5.1: the first message the P-CSCF sends over the new set retires the
        // old one once its transactions are over.
        Sent message =
            ss().message(registration.set, transport(), contactUri(answer.message), "hello");
        Inbound reply = ss().expectResponse(message);
        auto verdict = checkResponseTo(reply, message, 200);
        EXPECT_TRUE(verdict.ok()) << verdict.report(reply.message.text());
        expectOnSet(reply, registration.set, "the 200 to the MESSAGE over the new set");
        const SaSet& now = registration.set;
        expectUeSpis(
            {now.spiUc, now.spiUs, now.spiPc, now.spiPs},
            "24.229 5.1.1.5.1: only the new set after the first message on it; the old one was " +
                old.describe());
        checkWire();
        deregisterUe(registration);
    });
}

struct Failure {
    const char* name;
    int status;  // 0: none (timer F); -1: the connection is reset (transport error)
    Transport transport;
    std::optional<uint32_t> retryAfter;
};

void PrintTo(const Failure& failure, std::ostream* out) {
    *out << failure.name;
}

class Ts24229_5_1_1_4_1_ReregistrationFailure : public ConformanceCase,
                                                public ::testing::WithParamInterface<Failure> {};

// 24.229 5.1.1.4.1: a re-registration answered 408, 500 or 504, or without a final answer
// (timer F, a transport error), is followed by an initial registration (5.1.1.2: empty nonce
// and response), honouring Retry-After; the registration does not just lapse. The refresh
// comes 5 s after the 200 (refresh_margin 115 s of a 120 s registration, longer than the
// 119 s threshold; imsakad.conf(5) keeps the margin within the threshold), so the initial
// registration must come long before the old registration ends.
TEST_P(Ts24229_5_1_1_4_1_ReregistrationFailure, InitialRegistrationFollows) {
    const Failure& failure = GetParam();
    CaseSetup setup;
    setup.transport = failure.transport;
    setup.ue.timers = {{"refresh_threshold", "119"}, {"refresh_margin", "115"}, {"timer_f", "8"}};
    setup.clientArgs = {"--timer-f", "4"};
    if (!start(setup)) return;
    run([&] {
        RegisterSteps steps;
        steps.expires = 120;
        Registration registration = registerUe(steps);
        Inbound refresh = ss().expectRequest("REGISTER", 30s);
        expectOnSet(refresh, registration.set, "the re-REGISTER");
        auto failedAt = Clock::now();
        if (failure.status > 0) {
            Headers extra;
            if (failure.retryAfter)
                extra.push_back({"Retry-After", std::to_string(*failure.retryAfter)});
            ss().respond(refresh, failure.status,
                         failure.status == 408   ? "Request Timeout"
                         : failure.status == 504 ? "Server Time-out"
                                                 : "Server Internal Error",
                         extra);
        } else if (failure.status < 0) {
            ss().network().closeConnection(refresh.connection, true);
        }
        Inbound next = ss().expectRequest("REGISTER", 60s);
        if (failure.retryAfter) {
            EXPECT_GE(secondsBetween(failedAt, next.at), *failure.retryAfter * 0.95)
                << "RFC 3261 21.5.4, 24.229 5.1.1.2.1: not before Retry-After";
        }
        auto credentials = parseCredentials(next.message.first("Authorization").value_or(""));
        const auto* nonce = findParameter(credentials.parameters, "nonce");
        const auto* response = findParameter(credentials.parameters, "response");
        EXPECT_TRUE(nonce && nonce->value.value_or("x").empty() && response &&
                    response->value.value_or("x").empty())
            << "24.229 5.1.1.4.1: an initial registration (5.1.1.2.2 a): empty nonce and "
               "response)\n"
            << next.message.text();
        if (next.local.port == ss().options().unprotectedPort)
            expectRegister(next, initialExpectation());
        else
            expectOnSet(next, registration.set,
                        "an initial REGISTER over the existing set (5.1.1.2.1)");
        Challenge challenge = ss().challenge(next);
        Inbound answer = expectChallengeAnswer(challenge);
        ss().acceptRegister(answer, 600000);
        client().waitFor("registered", 30s);
        registration.movedTo(challenge, answer);
        const SaSet& now = registration.set;
        Sent message =
            ss().message(now, transport(), contactUri(answer.message), "after the failure");
        Inbound reply = ss().expectResponse(message);
        expectOnSet(reply, now, "the 200 to the MESSAGE over the new set");
        expectUeSpis({now.spiUc, now.spiUs, now.spiPc, now.spiPs},
                     "24.229 5.1.1.2.1: the new set replaced the old one");
        checkWire();
        deregisterUe(registration);
    });
}

INSTANTIATE_TEST_SUITE_P(, Ts24229_5_1_1_4_1_ReregistrationFailure,
                         ::testing::Values(Failure{"408", 408, Transport::Udp, std::nullopt},
                                           Failure{"500", 500, Transport::Udp, std::nullopt},
                                           Failure{"500_retry_after", 500, Transport::Udp, 6u},
                                           Failure{"504", 504, Transport::Tcp, std::nullopt},
                                           Failure{"timer_f", 0, Transport::Udp, std::nullopt},
                                           Failure{"transport_error", -1, Transport::Tcp,
                                                   std::nullopt}),
                         [](const auto& tested) { return std::string(tested.param.name); });

}  // namespace
}  // namespace imsaka::conformance
