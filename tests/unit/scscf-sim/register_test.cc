// REGISTER: challenges the virtual card accepts, answers checked against XRES, the 200's
// headers, and each failure switch.
#include "imsaka/sip/reginfo.h"
#include "simulator_fixture.h"

namespace imsaka::scscfsim::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(SimulatorTest, InitialRegisterGetsA401WithAMilenageVectorForSqn32) {
    auto unauthorized = send(ue_.registerText({}));
    EXPECT_EQ(unauthorized.status(), 401);
    EXPECT_EQ(unauthorized.callId(), "reg1@10.46.0.1");
    EXPECT_EQ(unauthorized.cseq(), "1 REGISTER");
    EXPECT_TRUE(unauthorized.toTag());
    EXPECT_EQ(unauthorized.vias().size(), 2u);

    auto challenge = challengeOf(unauthorized);
    EXPECT_EQ(challenge.realm, kRealm);
    EXPECT_EQ(challenge.algorithmText, "AKAv1-MD5");
    EXPECT_EQ(challenge.qop, std::vector<std::string>{"auth"});
    EXPECT_TRUE(challenge.opaque);

    // Independently of the simulator: AUTN carries SQN 32 under AK and the MAC of K/OPc,
    // and ck/ik are what Milenage gives for RAND.
    milenage::Milenage milenage(ue_.profile().k, ue_.profile().opc);
    auto nonce = sip::decodeAkaNonce(challenge.nonce);
    auto keys = milenage.f2345(nonce.rand);
    Bytes sqn(6);
    for (size_t i = 0; i < 6; ++i) sqn[i] = nonce.autn[i] ^ keys.ak[i];
    EXPECT_EQ(milenage::sqnToInt(sqn), 32u);
    Bytes amf(nonce.autn.begin() + 6, nonce.autn.begin() + 8);
    EXPECT_EQ(toHex(amf), "8000");
    EXPECT_EQ(toHex(milenage.f1(nonce.rand, sqn, amf)), toHex(ByteView(nonce.autn.data() + 8, 8)));
    ASSERT_TRUE(challenge.ck && challenge.ik);
    EXPECT_EQ(*challenge.ck, keys.ck);
    EXPECT_EQ(*challenge.ik, keys.ik);

    EXPECT_THAT(
        log_.lines,
        ElementsAre("request method=REGISTER initial=yes integrity-protected=no "
                    "expires=600 call-id=reg1@10.46.0.1",
                    "challenge algorithm=AKAv1-MD5 sqn=32", "response status=401 method=REGISTER"));
}

// RFC 5626 6: a flow (Contact with +sip.instance and reg-id, Supported: outbound) through an
// edge proxy that supports outbound ("ob" in its Path) is accepted with Require: outbound; a
// Path without "ob" gets a plain binding.
TEST_F(SimulatorTest, AFlowThroughAnOutboundEdgeProxyGetsRequireOutbound) {
    for (bool edgeSupportsOutbound : {true, false}) {
        VirtualUe ue("sip:001010000000001@10.46.0.1:5101", kImpu,
                     edgeSupportsOutbound ? "flow1@10.46.0.1" : "flow2@10.46.0.1");
        auto asFlow = [&](std::string text) {
            auto replace = [&](const std::string& from, const std::string& to) {
                auto at = text.find(from);
                ASSERT_NE(at, std::string::npos) << from;
                text.replace(at, from.size(), to);
            };
            replace("Supported: path, sec-agree", "Supported: path, sec-agree, outbound");
            replace("+sip.instance=", "reg-id=1;+sip.instance=");
            if (edgeSupportsOutbound) replace(kPath, "<sip:term@10.46.0.2:5060;lr;ob>");
            return text;
        };
        auto unauthorized = send(asFlow(ue.registerText({})));
        ASSERT_EQ(unauthorized.status(), 401);
        auto ok = send(asFlow(ue.registerText(
            {.cseq = 2, .integrity = "yes", .credentials = ue.answer(unauthorized)})));
        ASSERT_EQ(ok.status(), 200);
        EXPECT_EQ(ok.headerValue("Require"),
                  edgeSupportsOutbound ? std::optional<std::string>("outbound") : std::nullopt);
    }
}

TEST_F(SimulatorTest, ResponsesGoToTheTopViaOfThePcscf) {
    auto datagrams = sim_->receive(ue_.registerText({}));
    ASSERT_EQ(datagrams.size(), 1u);
    EXPECT_EQ(datagrams.front().to, kPcscf);  // no port in Kamailio's Via: 5060
    auto withRport =
        ue_.registerText({.cseq = 2, .branch = "z9hG4bKx;received=127.0.0.2;rport=5070"});
    auto second = sim_->receive(withRport);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second.front().to, (Endpoint{"127.0.0.2", 5070}));
}

TEST_F(SimulatorTest, TheCardsAnswerGets200WithTheRegistrationsHeaders) {
    auto ok = registerWith(ue_);
    EXPECT_EQ(ok.status(), 200);
    ASSERT_EQ(ok.contacts().size(), 1u);
    EXPECT_EQ(ok.contacts()[0].uri, ue_.contactUri());
    EXPECT_EQ(ok.contacts()[0].expires, 600u);
    EXPECT_EQ(ok.contacts()[0].instance, "\"<urn:gsma:imei:35209900-176148-1>\"");
    EXPECT_EQ(ok.headerValue("Expires"), "600");
    EXPECT_THAT(ok.headerValues("Path"), ElementsAre(kPath));
    EXPECT_THAT(ok.headerValues("P-Associated-URI"),
                ElementsAre("<" + kImpu + ">", "<tel:+15550000001>"));
    EXPECT_THAT(ok.headerValues("Service-Route"), ElementsAre("<sip:orig@127.0.0.1:6060;lr>"));
    EXPECT_THAT(ok.headerValues("Supported"), ElementsAre("path"));
    EXPECT_TRUE(
        log_.has("request method=REGISTER initial=yes integrity-protected=yes "
                 "expires=600 call-id=reg1@10.46.0.1"));
    EXPECT_TRUE(log_.has("auth result=ok"));
    EXPECT_TRUE(log_.has("registered contact=" + ue_.contactUri() + " expires=600"));
    EXPECT_TRUE(log_.has("response status=200 method=REGISTER"));
    EXPECT_EQ(sim_->nextSqn(kImpi), 64u);
}

TEST_F(SimulatorTest, GrantsNoMoreThanTheLargestExpiry) {
    start({.maxExpires = 300});
    auto ok = registerWith(ue_, 1, 600000);
    EXPECT_EQ(ok.contacts().at(0).expires, 300u);
    EXPECT_EQ(ok.headerValue("Expires"), "300");
}

TEST_F(SimulatorTest, AReRegistrationIsChallengedAgainAndKeepsOneBinding) {
    registerWith(ue_);
    auto again = send(ue_.registerText({.cseq = 3, .integrity = "yes"}));
    EXPECT_EQ(again.status(), 401);
    EXPECT_TRUE(log_.has("challenge algorithm=AKAv1-MD5 sqn=64"));
    EXPECT_TRUE(
        log_.has("request method=REGISTER initial=no integrity-protected=yes "
                 "expires=600 call-id=reg1@10.46.0.1"));
    auto ok =
        send(ue_.registerText({.cseq = 4, .integrity = "yes", .credentials = ue_.answer(again)}));
    EXPECT_EQ(ok.status(), 200);
    EXPECT_EQ(ok.contacts().size(), 1u);
}

TEST_F(SimulatorTest, NoChallengeRefreshAnswersAProtectedReRegisterAtOnce) {
    start({.challengeRefresh = false});
    registerWith(ue_);
    EXPECT_EQ(send(ue_.registerText({.cseq = 3, .integrity = "yes"})).status(), 200);
    // Unprotected, it is still challenged.
    EXPECT_EQ(send(ue_.registerText({.cseq = 4, .integrity = "no"})).status(), 401);
}

TEST_F(SimulatorTest, AWrongResponseGets403) {
    auto unauthorized = send(ue_.registerText({}));
    auto credentials = ue_.answer(unauthorized);
    credentials.response[0] = credentials.response[0] == '0' ? '1' : '0';
    auto forbidden = send(ue_.registerText({.cseq = 2, .credentials = credentials}));
    EXPECT_EQ(forbidden.status(), 403);
    EXPECT_TRUE(log_.has("auth result=mismatch"));
    // The challenge is used up: answering it again is challenged afresh.
    EXPECT_EQ(send(ue_.registerText({.cseq = 3, .credentials = credentials})).status(), 401);
}

TEST_F(SimulatorTest, AnAnswerWithoutTheOpaqueGets403) {
    auto unauthorized = send(ue_.registerText({}));
    auto credentials = ue_.answer(unauthorized);
    credentials.opaque.reset();
    EXPECT_EQ(send(ue_.registerText({.cseq = 2, .credentials = credentials})).status(), 403);
}

TEST_F(SimulatorTest, WrongKMakesTheCardReportAMacFailureAnd403) {
    start({.wrongK = true});
    auto unauthorized = send(ue_.registerText({}));
    // The vector does not verify with the subscriber's real K.
    auto nonce = sip::decodeAkaNonce(challengeOf(unauthorized).nonce);
    milenage::Milenage real(ue_.profile().k, ue_.profile().opc);
    auto ak = real.f2345(nonce.rand).ak;
    Bytes sqn(6);
    for (size_t i = 0; i < 6; ++i) sqn[i] = nonce.autn[i] ^ ak[i];
    EXPECT_NE(toHex(real.f1(nonce.rand, sqn, Bytes{0x80, 0x00})),
              toHex(ByteView(nonce.autn.data() + 8, 8)));

    auto credentials = ue_.answer(unauthorized);
    EXPECT_TRUE(std::holds_alternative<sip::AkaMacFailure>(ue_.lastResult()));
    auto forbidden = send(ue_.registerText({.cseq = 2, .credentials = credentials}));
    EXPECT_EQ(forbidden.status(), 403);
    EXPECT_TRUE(log_.has("auth result=mac-failure"));
    EXPECT_TRUE(log_.starting("registered").empty());
}

TEST_F(SimulatorTest, SqnBehindMakesTheCardAskForResyncThenSqnMsPlus32) {
    start({.sqnBehind = true});
    auto unauthorized = send(ue_.registerText({}));
    EXPECT_TRUE(log_.has("challenge algorithm=AKAv1-MD5 sqn=0"));
    auto resync = ue_.answer(unauthorized);
    ASSERT_TRUE(std::holds_alternative<sip::AkaSyncFailure>(ue_.lastResult()));
    ASSERT_TRUE(resync.auts);
    auto again = send(ue_.registerText({.cseq = 2, .credentials = resync}));
    EXPECT_EQ(again.status(), 401);
    EXPECT_TRUE(log_.has("auth result=sync-failure"));
    EXPECT_TRUE(log_.has("resync sqn-ms=0"));
    EXPECT_TRUE(log_.has("challenge algorithm=AKAv1-MD5 sqn=32"));
    auto ok =
        send(ue_.registerText({.cseq = 3, .integrity = "yes", .credentials = ue_.answer(again)}));
    EXPECT_EQ(ok.status(), 200);
    EXPECT_EQ(ue_.card().highestAcceptedSqn(), 32u);
}

TEST_F(SimulatorTest, ACardFarAheadIsResynchronisedFromItsSqnMs) {
    // The card has already taken SQN 0x10000 from another network element.
    milenage::Milenage milenage(ue_.profile().k, ue_.profile().opc);
    auto earlier =
        milenage::generateVector(milenage, milenage::sqnFromInt(0x10000), Bytes{0x80, 0});
    sip::AkaNonce nonce;
    std::copy(earlier.rand.begin(), earlier.rand.end(), nonce.rand.begin());
    std::copy(earlier.autn.begin(), earlier.autn.end(), nonce.autn.begin());
    sip::DigestChallenge challenge;
    challenge.nonce = sip::encodeAkaNonce(nonce);
    ASSERT_TRUE(std::holds_alternative<sip::AkaSuccess>(ue_.authenticate(challenge)));

    auto unauthorized = send(ue_.registerText({}));
    auto again = send(ue_.registerText({.cseq = 2, .credentials = ue_.answer(unauthorized)}));
    EXPECT_TRUE(log_.has("resync sqn-ms=65536"));
    EXPECT_TRUE(log_.has("challenge algorithm=AKAv1-MD5 sqn=65568"));
    auto ok =
        send(ue_.registerText({.cseq = 3, .integrity = "yes", .credentials = ue_.answer(again)}));
    EXPECT_EQ(ok.status(), 200);
}

TEST_F(SimulatorTest, TooShortAnExpiryGets423WithMinExpires) {
    start({.minExpires = 1200});
    auto brief = send(ue_.registerText({.expires = 600}));
    EXPECT_EQ(brief.status(), 423);
    EXPECT_EQ(brief.headerValue("Min-Expires"), "1200");
    EXPECT_TRUE(log_.starting("challenge").empty());
    EXPECT_EQ(registerWith(ue_, 2, 1200).status(), 200);
}

TEST_F(SimulatorTest, FailProtectedAnswersTheChallengeAnswerWithTheStatusAsked) {
    start({.failProtected = 403});
    auto forbidden = registerWith(ue_);
    EXPECT_EQ(forbidden.status(), 403);
    EXPECT_TRUE(log_.has("auth result=ok"));
    EXPECT_TRUE(log_.starting("registered").empty());
}

TEST_F(SimulatorTest, ARetransmissionGetsTheSameResponseAndNoNewChallenge) {
    auto text = ue_.registerText({});
    auto first = sim_->receive(text);
    auto second = sim_->receive(text);
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(first.front().text, second.front().text);
    EXPECT_EQ(log_.starting("challenge").size(), 1u);
    EXPECT_TRUE(log_.has("retransmission method=REGISTER call-id=reg1@10.46.0.1"));
    // Another branch is another transaction.
    EXPECT_EQ(send(ue_.registerText({.branch = "z9hG4bKother"})).status(), 401);
    EXPECT_EQ(log_.starting("challenge").size(), 2u);
}

TEST_F(SimulatorTest, AKAv2ChallengesAndChecksThePasswordOfRfc4169) {
    start({.algorithm = sip::DigestAlgorithm::AkaV2Md5});
    auto unauthorized = send(ue_.registerText({}));
    EXPECT_EQ(challengeOf(unauthorized).algorithmText, "AKAv2-MD5");
    auto credentials = ue_.answer(unauthorized);
    EXPECT_EQ(send(ue_.registerText({.cseq = 2, .integrity = "yes", .credentials = credentials}))
                  .status(),
              200);
    EXPECT_TRUE(log_.has("challenge algorithm=AKAv2-MD5 sqn=32"));
}

TEST_F(SimulatorTest, AnAKAv1AnswerToAnAKAv2ChallengeIsWrong) {
    start({.algorithm = sip::DigestAlgorithm::AkaV2Md5});
    auto unauthorized = send(ue_.registerText({}));
    auto challenge = challengeOf(unauthorized);
    challenge.algorithm = sip::DigestAlgorithm::AkaV1Md5;
    challenge.algorithmText = "AKAv1-MD5";
    auto result = ue_.authenticate(challenge);
    sip::DigestRequest request;
    request.username = kImpi;
    request.uri = "sip:" + kRealm;
    request.cnonce = "ab";
    auto credentials = sip::answerAkaChallenge(challenge, request, result);
    EXPECT_EQ(send(ue_.registerText({.cseq = 2, .credentials = credentials})).status(), 403);
}

TEST_F(SimulatorTest, AProtectedDeregistrationRemovesTheBindingWithoutChallenge) {
    registerWith(ue_);
    auto ok = send(ue_.registerText({.cseq = 3, .expires = 0, .integrity = "yes"}));
    EXPECT_EQ(ok.status(), 200);
    ASSERT_EQ(ok.contacts().size(), 1u);
    EXPECT_EQ(ok.contacts()[0].expires, 0u);
    EXPECT_TRUE(log_.has("deregistered contact=" + ue_.contactUri()));
    EXPECT_EQ(log_.starting("challenge").size(), 1u);
    // Gone: a SUBSCRIBE now is refused.
    EXPECT_EQ(send(ue_.subscribeText(1)).status(), 403);
}

TEST_F(SimulatorTest, AWildcardDeregistrationRemovesEveryBindingOfTheAor) {
    VirtualUe second("sip:001010000000001@10.46.0.3:5201", kImpu, "reg2@10.46.0.3");
    registerWith(ue_);
    registerWith(second);
    auto text = ue_.registerText({.cseq = 3, .expires = std::nullopt, .integrity = "yes"});
    auto contact = text.find("Contact: ");
    text.replace(contact, text.find("\r\n", contact) - contact, "Contact: *");
    text.replace(text.find("Expires: 600"), 12, "Expires: 0");
    auto ok = send(text);
    EXPECT_EQ(ok.status(), 200);
    EXPECT_EQ(ok.contacts().size(), 2u);
    EXPECT_EQ(log_.starting("deregistered").size(), 2u);
    EXPECT_EQ(send(ue_.subscribeText(1)).status(), 403);
}

TEST_F(SimulatorTest, AnIpv6ContactIsRegisteredAsWritten) {
    VirtualUe ue("sip:001010000000001@[fd46::1]:5101");
    auto ok = registerWith(ue);
    ASSERT_EQ(ok.status(), 200);
    EXPECT_EQ(ok.contacts().at(0).uri, "sip:001010000000001@[fd46::1]:5101");
    EXPECT_TRUE(log_.has("registered contact=sip:001010000000001@[fd46::1]:5101 expires=600"));
    EXPECT_EQ(uriEndpoint(ok.contacts().at(0).uri), (Endpoint{"fd46::1", 5101}));
}

TEST_F(SimulatorTest, ABindingLeftToExpireIsDropped) {
    registerWith(ue_, 1, 600);
    now_ += std::chrono::seconds(100);
    auto datagrams = sim_->receive(ue_.subscribeText(1));
    ASSERT_EQ(datagrams.size(), 2u);
    auto reginfo = sip::parseReginfo(SipMessage::parse(datagrams[1].text).body());
    EXPECT_EQ(reginfo.registrations.at(0).contacts.at(0).expires, 500u);  // what is left

    now_ += std::chrono::seconds(500);
    EXPECT_TRUE(sim_->command("notify active").empty());  // gone, with its subscription
    EXPECT_TRUE(log_.has("expired contact=" + ue_.contactUri()));
    send(ue_.registerText({.cseq = 5}));
    EXPECT_EQ(log_.starting("request").back(),
              "request method=REGISTER initial=yes integrity-protected=no expires=600 "
              "call-id=reg1@10.46.0.1");
}

TEST_F(SimulatorTest, AnUnprotectedDeregistrationIsChallenged) {
    registerWith(ue_);
    EXPECT_EQ(send(ue_.registerText({.cseq = 3, .expires = 0, .integrity = "no"})).status(), 401);
}

TEST_F(SimulatorTest, TwoContactsOfOneSubscriberAreBothRegistered) {
    VirtualUe second("sip:001010000000001@10.46.0.3:5201", kImpu, "reg2@10.46.0.3");
    registerWith(ue_);
    // The second flow's card is another copy of the same profile: its SQN state starts at 0,
    // so the next SQN (64) is fresh to it too.
    auto ok = registerWith(second, 1);
    EXPECT_EQ(ok.status(), 200);
    std::vector<std::string> uris;
    for (const auto& contact : ok.contacts()) uris.push_back(contact.uri);
    EXPECT_THAT(uris, ElementsAre(ue_.contactUri(), second.contactUri()));
}

TEST_F(SimulatorTest, InterleavedChallengesOfOneImpiAreEachAnswerable) {
    VirtualUe second("sip:001010000000001@10.46.0.3:5201", kImpu, "reg2@10.46.0.3");
    auto first401 = send(ue_.registerText({}));
    auto second401 = send(second.registerText({}));
    EXPECT_EQ(send(ue_.registerText({.cseq = 2, .credentials = ue_.answer(first401)})).status(),
              200);
    EXPECT_EQ(
        send(second.registerText({.cseq = 2, .credentials = second.answer(second401)})).status(),
        200);
}

TEST_F(SimulatorTest, GarbageIsANamedErrorAndChangesNothing) {
    EXPECT_EQ(errorOf([&] { sim_->receive("this is not SIP\r\n\r\n"); }), SimErrc::BadMessage);
    EXPECT_TRUE(log_.lines.empty());
    EXPECT_EQ(sim_->nextSqn(kImpi), 32u);
    EXPECT_EQ(send(ue_.registerText({})).status(), 401);
}

TEST_F(SimulatorTest, AnUnparsableAuthorizationGets400) {
    auto text = ue_.registerText({});
    auto at = text.find("Authorization: Digest");
    text.replace(at, 21, "Authorization: Basic");
    EXPECT_EQ(send(text).status(), 400);
}

TEST_F(SimulatorTest, OtherMethodsGet405) {
    auto text = ue_.subscribeText(1);
    text.replace(0, 9, "PUBLISH");
    text.replace(text.find("SUBSCRIBE\r\n"), 9, "PUBLISH");
    auto response = send(text);
    EXPECT_EQ(response.status(), 405);
    EXPECT_THAT(response.rawHeaders("Allow"), ::testing::Contains(HasSubstr("REGISTER")));
}

TEST_F(SimulatorTest, UnknownCommandsAreNamedErrors) {
    EXPECT_EQ(errorOf([&] { sim_->command("notify sideways"); }), SimErrc::UnknownCommand);
    EXPECT_FALSE(sim_->quitRequested());
    EXPECT_TRUE(sim_->command("quit").empty());
    EXPECT_TRUE(sim_->quitRequested());
}

}  // namespace
}  // namespace imsaka::scscfsim::test
