// Challenges the UE must answer otherwise than C.2 does: TS 34.229-1 9.1 (MAC invalid) and
// 9.2 (SQN out of range), and the TS 24.229 rules that have no 34.229-1 text we could read:
// a 401 without a usable Security-Server (5.1.1.5.1 3)), a second 401 to the protected
// REGISTER (5.1.1.5.1), and 423 Interval Too Brief (5.1.1.2.1, 34.229-1 A.1.7).
#include "conformance_case.h"

namespace imsaka::conformance {
namespace {

// 24.229 5.1.1.5.3 (34.229-1 9.1.2, 9.2.2): the REGISTER after a challenge the UE found
// invalid goes without SAs, with a new Security-Client: new spi_uc, spi_us and port_uc.
void expectNewSecurityClient(const Inbound& request, const std::vector<const Inbound*>& earlier,
                             const std::string& clause) {
    for (const Inbound* before : earlier)
        for (const char* name : {"spi-c", "spi-s", "port-c"})
            EXPECT_NE(securityClientParameter(request, name),
                      securityClientParameter(*before, name))
                << clause << ": Security-Client " << name
                << " must be new (24.229 5.1.1.5.3), as it was in the REGISTER of CSeq "
                << before->message.cseqNumber();
}

void expectSameDialog(const Inbound& request, const Inbound& first, const Inbound& previous,
                      const std::string& clause) {
    EXPECT_EQ(request.message.first("Call-ID"), first.message.first("Call-ID"))
        << clause << ": Call-ID as in step 1";
    EXPECT_EQ(request.message.cseqNumber(), previous.message.cseqNumber() + 1)
        << clause << ": CSeq incremented";
}

class Ts34229_9_1_InvalidMac : public ConformanceCase {};

// 34.229-1 9.1: two 401s whose AUTN has a wrong MAC, then a valid one (steps 1-12).
TEST_F(Ts34229_9_1_InvalidMac, AnswersEachWithAnEmptyResponseAndNoSets) {
    if (!start({})) return;
    run([&] {
        std::string path = client().waitFor("created").at("path");
        Inbound step1 = expectInitialRegister();
        ChallengeOptions wrongMac;
        wrongMac.kind = ChallengeKind::WrongMac;
        Challenge step2 = ss().challenge(step1, wrongMac);
        std::vector<const Inbound*> earlier{&step1};
        Inbound step3 = ss().expectRequest("REGISTER");
        expectUnprotected(step3, "9.1.5: the REGISTER after an invalid MAC, sent using no SAs");
        RegisterExpectation invalid = initialExpectation();  // A.1.1 A1 with 9.1.4's exceptions
        invalid.answersInvalidChallenge = true;
        expectRegister(step3, invalid);
        auto check = ss().verify(step3, step2);
        EXPECT_TRUE(check.has("response") && check.parameter("response").empty())
            << "9.1.5: the response directive present and empty";
        EXPECT_FALSE(check.has("auts")) << "9.1.5: no auts directive";
        expectSameDialog(step3, step1, step1, "9.1.4 step 3");
        expectNewSecurityClient(step3, earlier, "9.1.4 step 3");
        expectUeSpis({}, "9.1.5: no temporary set of SAs after an invalid MAC");

        Challenge step4 = ss().challenge(step3, wrongMac);
        Inbound step5 = ss().expectRequest("REGISTER");
        expectUnprotected(step5, "9.1.5: the REGISTER after the second invalid MAC");
        expectRegister(step5, invalid);
        auto check5 = ss().verify(step5, step4);
        EXPECT_TRUE(check5.has("response") && check5.parameter("response").empty())
            << "9.1.5 step 5: empty response";
        EXPECT_FALSE(check5.has("auts")) << "9.1.5 step 5: no auts";
        expectSameDialog(step5, step1, step3, "9.1.4 step 5");
        earlier.push_back(&step3);
        expectNewSecurityClient(step5, earlier, "9.1.4 step 5");
        expectUeSpis({}, "9.1.5: no temporary set after the second invalid MAC");

        // Steps 6-12: a valid challenge and C.2's end.
        Challenge step6 = ss().challenge(step5);
        Registration registration = accept(path, step6, expectChallengeAnswer(step6));
        registration.subscription = subscribeSteps(registration.set, step6.securityServer);
        checkWire();
        deregisterUe(registration);
    });
}

class Ts34229_9_2_SqnOutOfRange : public ConformanceCase {};

// 34.229-1 9.2: a 401 whose SQN the card finds out of range (SQN 0: SEQ 0 is never fresh,
// TS 33.102 C.2.2), the AUTS answer, the network resynchronising from it, a valid 401.
TEST_F(Ts34229_9_2_SqnOutOfRange, AnswersWithAutsThenRegisters) {
    if (!start({})) return;
    run([&] {
        std::string path = client().waitFor("created").at("path");
        Inbound step1 = expectInitialRegister();
        ChallengeOptions stale;
        stale.sqn = 0;
        Challenge step2 = ss().challenge(step1, stale);
        Inbound step3 = ss().expectRequest("REGISTER");
        expectUnprotected(step3, "9.2.5: the REGISTER with AUTS, sent using no SAs");
        RegisterExpectation invalid = initialExpectation();  // A.1.1 A1 with 9.2.4's exceptions
        invalid.answersInvalidChallenge = true;
        expectRegister(step3, invalid);
        auto check = ss().verify(step3, step2);
        ASSERT_TRUE(check.auts.has_value()) << "9.2.5 step 3: the auts directive\n"
                                            << step3.message.text();
        ASSERT_TRUE(check.sqnMs.has_value())
            << "9.2.5 step 3: an AUTS whose MAC-S verifies (TS 33.102 6.3.5)";
        EXPECT_EQ(check.parameter("nonce"), step2.vector.nonce)
            << "9.2.4 step 3: the nonce of the 401";
        EXPECT_EQ(check.parameter("opaque"), step2.opaque) << "9.2.4 step 3: the opaque of the 401";
        expectSameDialog(step3, step1, step1, "9.2.4 step 3");
        expectNewSecurityClient(step3, {&step1}, "9.2.4 step 3");
        expectUeSpis({}, "9.2.5: no temporary set of SAs after an SQN failure");

        ss().resynchronise(*check.sqnMs);
        Challenge step4 = ss().challenge(step3);
        // 9.2.5 step 5: over the temporary set.
        Registration registration = accept(path, step4, expectChallengeAnswer(step4));
        registration.subscription = subscribeSteps(registration.set, step4.securityServer);
        checkWire();
        deregisterUe(registration);
    });
}

struct UnusableServer {
    const char* name;
    std::optional<std::string> text;  // nothing: no Security-Server at all
};

void PrintTo(const UnusableServer& server, std::ostream* out) {
    *out << server.name;
}

class Ts24229_5_1_1_5_1_UnusableSecurityServer
    : public ConformanceCase,
      public ::testing::WithParamInterface<UnusableServer> {};

// 24.229 5.1.1.5.1 3): a 401 without Security-Server, or with one that lacks what Annex H
// of 33.203 needs for the SAs, makes the UE abandon the authentication and send a new
// REGISTER with a new Call-ID.
TEST_P(Ts24229_5_1_1_5_1_UnusableSecurityServer, NewRegisterWithANewCallId) {
    if (!start({})) return;
    run([&] {
        client().waitFor("created");
        Inbound first = expectInitialRegister();
        ChallengeOptions options;
        if (GetParam().text)
            options.securityServerText = *GetParam().text;
        else
            options.securityServer = false;
        ss().challenge(first, options);
        Inbound again = expectInitialRegister();
        EXPECT_NE(again.message.first("Call-ID"), first.message.first("Call-ID"))
            << "24.229 5.1.1.5.1 3): a new Call-ID";
        expectUeSpis({}, "no SAs from a 401 without a usable Security-Server");
        Challenge challenge = ss().challenge(again);
        Inbound answer = expectChallengeAnswer(challenge);
        ss().acceptRegister(answer, 600000);
        client().waitFor("registered", 30s);
        checkWire();
    });
}

INSTANTIATE_TEST_SUITE_P(
    , Ts24229_5_1_1_5_1_UnusableSecurityServer,
    ::testing::Values(
        UnusableServer{"absent", std::nullopt},
        UnusableServer{
            "without_spi_and_ports",
            std::string("ipsec-3gpp;q=0.9;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=trans")}),
    [](const auto& tested) { return std::string(tested.param.name); });

class Ts24229_5_1_1_5_1_ChallengedTwice : public ConformanceCase {};

// 24.229 5.1.1.5.1: any 401 to a REGISTER is a challenge to answer, the second one to the
// protected REGISTER too: a new temporary set from the new Security-Server, the old
// temporary set gone, the REGISTER over the new one with the new nonce.
TEST_F(Ts24229_5_1_1_5_1_ChallengedTwice, AnswersTheSecondChallengeOverANewSet) {
    if (!start({})) return;
    run([&] {
        std::string path = client().waitFor("created").at("path");
        Inbound initial = expectInitialRegister();
        Challenge first = ss().challenge(initial);
        Inbound answer = expectChallengeAnswer(first);
        Challenge second = ss().challenge(answer);
        Inbound again = expectChallengeAnswer(second);
        EXPECT_EQ(again.message.cseqNumber(), answer.message.cseqNumber() + 1)
            << "CSeq incremented";
        Registration registration = accept(path, second, again);
        expectUeSpis({second.set->spiUc, second.set->spiUs, second.set->spiPc, second.set->spiPs},
                     "only the set of the second challenge is left");
        checkWire();
        registration.subscription = subscribeSteps(*second.set, second.securityServer);
        deregisterUe(registration);
    });
}

class Ts24229_5_1_1_2_1_IntervalTooBrief : public ConformanceCase {};

// 24.229 5.1.1.2.1: after 423 the UE asks again for at least Min-Expires (34.229-1 A.1.7).
TEST_F(Ts24229_5_1_1_2_1_IntervalTooBrief, AsksAgainForAtLeastMinExpires) {
    CaseSetup setup;
    setup.clientArgs = {"--expires", "300"};
    if (!start(setup)) return;
    run([&] {
        client().waitFor("created");
        Inbound first = ss().expectRequest("REGISTER");
        RegisterExpectation expected = initialExpectation();
        expected.expires = 300;
        expectRegister(first, expected);
        ss().respond(first, 423, "Interval Too Brief", {{"Min-Expires", "3600"}});
        Inbound again = ss().expectRequest("REGISTER");
        expectUnprotected(again, "the REGISTER after 423");
        expected.expires = 3600;
        expectRegister(again, expected);
        if (again.message.first("Call-ID") == first.message.first("Call-ID")) {
            EXPECT_EQ(again.message.cseqNumber(), first.message.cseqNumber() + 1)
                << "RFC 3261 10.2: CSeq incremented within a Call-ID";
        }
        Challenge challenge = ss().challenge(again);
        Inbound answer = expectChallengeAnswer(challenge, 3600);
        ss().acceptRegister(answer, 3600);
        client().waitFor("registered", 30s);
        checkWire();
    });
}

}  // namespace
}  // namespace imsaka::conformance
