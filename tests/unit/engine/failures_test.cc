// Failed attempts and their limits (24.229 5.1.1.2.1, 5.1.1.5.1, 5.1.1.5.3): abandoned
// challenges, card answers other than success, 423, 305, error responses, timer F, the
// back-off after five failures, and malformed or unexpected responses.
#include <openssl/evp.h>

#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string base64(ByteView bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                    static_cast<int>(bytes.size()));
    return out;
}

class Failures : public ::testing::Test {
  protected:
    OutgoingRegister start(const SecurityOffer& offer = kOfferA) {
        return startInitial(engine_, at(0), offer);
    }
    RegistrationEngine engine_{testConfig()};
    Network network_;
};

TEST_F(Failures, ChallengeWithoutSecurityServerAbandonsTheAttemptForANewCallId) {
    OutgoingRegister request = start();
    auto vector = network_.nextVector();
    Actions actions = engine_.response(
        at(1),
        Network::answer(401, request, {{"WWW-Authenticate", network_.wwwAuthenticate(vector)}}));
    EXPECT_THAT(describe(actions), ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                                               "ReserveSecurity", "InfoChanged"));
    EXPECT_EQ(engine_.info().lastError, "401 without Security-Server");
    EXPECT_EQ(engine_.state(), RegistrationState::Registering);
    OutgoingRegister again = sent(engine_.securityReserved(at(1), kOfferB));
    EXPECT_NE(header(again, "Call-ID"), header(request, "Call-ID"));
    EXPECT_EQ(header(again, "CSeq"), "1 REGISTER");
    EXPECT_FALSE(again.protectedBySa);
}

TEST_F(Failures, ChallengeWithoutAkaIsAFailedAttempt) {
    OutgoingRegister request = start();
    Actions actions = engine_.response(
        at(1), Network::answer(401, request,
                               {{"WWW-Authenticate", "Digest realm=\"home1.net\", nonce=\"abc\""},
                                {"Security-Server", network_.securityServer()}}));
    EXPECT_THAT(describe(actions), ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                                               "ReserveSecurity", "InfoChanged"));
    EXPECT_THAT(engine_.info().lastError, HasSubstr("401 without an AKA challenge"));
}

TEST_F(Failures, SecurityServerMatchingNothingWeOfferedAbandonsTheAttempt) {
    auto config = testConfig();
    config.integrity = {sip::IntegrityAlgorithm::HmacMd5_96};
    RegistrationEngine engine(config);
    OutgoingRegister request = startInitial(engine, at(0));
    auto vector = network_.nextVector();
    Actions actions = engine.response(at(1), network_.challenge(request, vector));
    EXPECT_THAT(describe(actions), ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                                               "ReserveSecurity", "InfoChanged"));
    EXPECT_THAT(engine.info().lastError, HasSubstr("Security-Server unusable"));
}

TEST_F(Failures, SecurityServerWithoutIpsec3gppOrItsParametersAbandonsTheAttempt) {
    for (std::string server :
         {"tls;q=0.2", "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3"}) {
        RegistrationEngine engine(testConfig());
        OutgoingRegister request = startInitial(engine, at(0));
        auto vector = network_.nextVector();
        Actions actions = engine.response(
            at(1), Network::answer(401, request,
                                   {{"WWW-Authenticate", network_.wwwAuthenticate(vector)},
                                    {"Security-Server", server}}));
        EXPECT_TRUE(has<action::ReserveSecurity>(actions)) << server;
        EXPECT_FALSE(has<action::Authenticate>(actions)) << server;
    }
}

TEST_F(Failures, MacFailureAnswersWithAnEmptyResponseNoAutsAndNoSaSet) {
    OutgoingRegister request = start();
    auto vector = network_.nextVector();
    engine_.response(at(1), network_.challenge(request, vector));
    Actions actions = engine_.authenticated(at(2), sip::AkaMacFailure{});
    EXPECT_THAT(describe(actions), ElementsAre("StateChanged(registering)", "Send",
                                               "ArmTimer(timer-f@130)", "InfoChanged"));
    OutgoingRegister answer = sent(actions);
    EXPECT_FALSE(answer.protectedBySa);
    EXPECT_EQ(answer.localPort, 5060);
    EXPECT_EQ(header(answer, "Via"), "SIP/2.0/UDP 10.0.0.2:5060;rport");
    EXPECT_EQ(header(answer, "Call-ID"), header(request, "Call-ID"));
    EXPECT_EQ(header(answer, "CSeq"), "2 REGISTER");
    EXPECT_EQ(header(answer, "Security-Client"), header(request, "Security-Client"));
    EXPECT_TRUE(headers(answer, "Security-Verify").empty());
    auto authorization = sip::parseAuthorization(header(answer, "Authorization"));
    EXPECT_EQ(authorization.response, "");
    EXPECT_FALSE(authorization.auts);
    EXPECT_FALSE(authorization.nonce.empty());
    EXPECT_TRUE(engine_.saSets().empty());

    // The offer was kept: a new challenge to this REGISTER is answered with it.
    auto next = network_.nextVector();
    Actions challenged = engine_.response(at(3), network_.challenge(answer, next));
    EXPECT_TRUE(has<action::Authenticate>(challenged));
    auto install = one<action::InstallSaSet>(engine_.authenticated(at(4), Network::success(next)));
    EXPECT_EQ(install.set.ours.spiUc, kOfferA.spiUc);
}

TEST_F(Failures, SyncFailureAnswersWithAutsAndAResponseOverAnEmptyPassword) {
    OutgoingRegister request = start();
    auto vector = network_.nextVector();
    engine_.response(at(1), network_.challenge(request, vector));
    Bytes auts = milenage::buildAuts(network_.card(), vector.rand, milenage::sqnFromInt(4096));
    OutgoingRegister answer = sent(engine_.authenticated(at(2), sip::AkaSyncFailure{auts}));
    auto authorization = sip::parseAuthorization(header(answer, "Authorization"));
    EXPECT_EQ(authorization.auts, base64(auts));
    EXPECT_EQ(authorization.response, expectedResponse(answer, authorization, ByteView()));
    EXPECT_EQ(header(answer, "CSeq"), "2 REGISTER");
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_THAT(engine_.info().lastError, HasSubstr("resynchronisation"));
}

TEST_F(Failures, ForbiddenToTheProtectedRegisterRemovesTheTemporarySetAndRetries) {
    OutgoingRegister answer = authenticateInitial(engine_, network_, at(0));
    Actions actions = engine_.response(at(3), Network::answer(403, answer));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)", "RemoveSaSet(1)",
                            "ReserveSecurity", "InfoChanged"));
    EXPECT_TRUE(engine_.saSets().empty());
}

TEST_F(Failures, SaInstallFailureRemovesTheSetAndCountsAsAFailedAttempt) {
    OutgoingRegister request = start();
    auto vector = network_.nextVector();
    engine_.response(at(1), network_.challenge(request, vector));
    auto install =
        one<action::InstallSaSet>(engine_.authenticated(at(2), Network::success(vector)));
    Actions actions = engine_.saSetFailed(at(2), install.set.id, "EPERM");
    EXPECT_THAT(describe(actions), ElementsAre("RemoveSaSet(1)", "StateChanged(registering)",
                                               "ReserveSecurity", "InfoChanged"));
    EXPECT_EQ(engine_.info().lastError, "SA set could not be installed: EPERM");
}

TEST_F(Failures, CardFailureCountsAsAFailedAttempt) {
    OutgoingRegister request = start();
    engine_.response(at(1), network_.challenge(request, network_.nextVector()));
    Actions actions = engine_.authenticationFailed(at(2), "card absent");
    EXPECT_THAT(describe(actions), ElementsAre("ReleaseSecurity(6100)", "StateChanged(registering)",
                                               "ReserveSecurity", "InfoChanged"));
    EXPECT_EQ(engine_.info().lastError, "authentication failed: card absent");
}

// Kamailio 5.6 keeps the first offer of a pending contact (matched by address and port) for
// the SAs it makes on the next 401: the retry after a 423 repeats the offer it has.
TEST_F(Failures, IntervalTooBriefRetriesWithMinExpiresAndTheSameOffer) {
    OutgoingRegister request = start();
    Actions actions =
        engine_.response(at(1), Network::answer(423, request, {{"Min-Expires", "700000"}}));
    EXPECT_FALSE(has<action::ReserveSecurity>(actions));
    EXPECT_FALSE(has<action::ReleaseSecurity>(actions));
    OutgoingRegister again = sent(actions);
    EXPECT_EQ(header(again, "Expires"), "700000");
    EXPECT_THAT(header(again, "Contact"), HasSubstr(";expires=700000"));
    EXPECT_EQ(header(again, "Security-Client"), header(request, "Security-Client"));
    EXPECT_EQ(again.localPort, request.localPort);
}

TEST_F(Failures, IntervalTooBriefWithoutAHigherMinimumIsAFailedAttempt) {
    OutgoingRegister request = start();
    Actions actions =
        engine_.response(at(1), Network::answer(423, request, {{"Min-Expires", "3600"}}));
    EXPECT_TRUE(has<action::ReserveSecurity>(actions));
    EXPECT_THAT(engine_.info().lastError, HasSubstr("423"));
}

TEST_F(Failures, UseProxyMovesToTheNextPcscfAndFailsWhenNoneIsLeft) {
    OutgoingRegister request = start();
    EXPECT_EQ(engine_.pcscfAddress(), "10.0.0.1");
    Actions actions = engine_.response(at(1), Network::answer(305, request));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)", "ReserveSecurity"));
    // The reservation asked for is for the new P-CSCF.
    EXPECT_EQ(engine_.pcscfAddress(), "10.0.0.9");
    OutgoingRegister second = sent(engine_.securityReserved(at(1), kOfferB));
    EXPECT_EQ(second.remoteAddress, "10.0.0.9");
    Actions last = engine_.response(at(2), Network::answer(305, second));
    EXPECT_THAT(describe(last), ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6200)",
                                            "StateChanged(failed)", "InfoChanged"));
    EXPECT_EQ(engine_.state(), RegistrationState::Failed);
}

TEST_F(Failures, TransportErrorCountsAsAFailedAttemptAndRetriesAtOnce) {
    start();
    EXPECT_THAT(describe(engine_.transportError(at(1))),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)", "ReserveSecurity",
                            "InfoChanged"));
    EXPECT_EQ(engine_.info().lastError, "transport error");
}

TEST_F(Failures, TimerFCountsAsAFailedAttemptAndAsksForRegisterNow) {
    start();
    // A timer has no caller to hand a REGISTER to: it asks for one instead.
    EXPECT_THAT(describe(engine_.timerFired(at(128), TimerKind::TimerF)),
                ElementsAre("ReleaseSecurity(6100)", "StateChanged(unregistered)",
                            "RefreshDue(retry)", "InfoChanged"));
    EXPECT_EQ(engine_.info().lastError, "no final response before timer F");
    for (int attempt = 2; attempt < 5; ++attempt) {
        startInitial(engine_, at(128 * attempt));
        EXPECT_TRUE(has<action::RefreshDue>(
            engine_.timerFired(at(128 * attempt + 128), TimerKind::TimerF)));
    }
    startInitial(engine_, at(1000));
    EXPECT_THAT(describe(engine_.timerFired(at(1128), TimerKind::TimerF)),
                ElementsAre("ReleaseSecurity(6100)", "StateChanged(backoff)",
                            "ArmTimer(backoff@1428)", "InfoChanged"));
}

TEST_F(Failures, RegAwaitAuthExpiryOnAnInitialRegistrationRemovesTheTemporarySet) {
    OutgoingRegister request = start();
    auto vector = network_.nextVector();
    engine_.response(at(1), network_.challenge(request, vector));
    answerWithSuccess(engine_, at(2), vector);
    EXPECT_THAT(describe(engine_.timerFired(at(242), TimerKind::RegAwaitAuth)),
                ElementsAre("CancelTimer(timer-f)", "RemoveSaSet(1)", "StateChanged(unregistered)",
                            "RefreshDue(retry)", "InfoChanged"));
    EXPECT_TRUE(engine_.saSets().empty());
}

TEST_F(Failures, StaleTimersAreIgnored) {
    start();
    EXPECT_TRUE(engine_.timerFired(at(5), TimerKind::Backoff).empty());
    EXPECT_TRUE(engine_.timerFired(at(5), TimerKind::RegAwaitAuth).empty());
}

class FailedAttempts : public ::testing::TestWithParam<uint16_t> {};

TEST_P(FailedAttempts, FiveFailedInitialAttemptsBackOffForFiveMinutes) {
    RegistrationEngine engine(testConfig());
    OutgoingRegister request = startInitial(engine, at(0));
    for (int attempt = 1; attempt < 5; ++attempt) {
        Actions actions = engine.response(at(attempt), Network::answer(GetParam(), request));
        ASSERT_TRUE(has<action::ReserveSecurity>(actions)) << "attempt " << attempt;
        request = sent(engine.securityReserved(at(attempt), kOfferA));
    }
    Actions actions = engine.response(at(5), Network::answer(GetParam(), request));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                            "StateChanged(backoff)", "ArmTimer(backoff@305)", "InfoChanged"));
    EXPECT_EQ(errorOf([&] { engine.registerNow(at(6)); }), EngineErrc::WrongState);
    EXPECT_EQ(errorOf([&] { engine.deregister(at(6)); }), EngineErrc::WrongState);
    EXPECT_THAT(describe(engine.timerFired(at(305), TimerKind::Backoff)),
                ElementsAre("StateChanged(unregistered)", "RefreshDue(retry)"));
    EXPECT_TRUE(has<action::ReserveSecurity>(engine.registerNow(at(306))));
}

INSTANTIATE_TEST_SUITE_P(ErrorResponses, FailedAttempts,
                         ::testing::Values(403, 408, 480, 500, 503, 504, 600));

TEST_F(Failures, BackOffFollowsRetryAfterWhenPresent) {
    OutgoingRegister request = start();
    for (int attempt = 1; attempt < 5; ++attempt) {
        engine_.response(at(attempt), Network::answer(503, request));
        request = sent(engine_.securityReserved(at(attempt), kOfferA));
    }
    Actions actions = engine_.response(
        at(5), Network::answer(503, request, {{"Retry-After", "120 (maintenance);duration=60"}}));
    EXPECT_EQ(one<action::ArmTimer>(actions).at, at(125));
}

TEST_F(Failures, BackOffIsThirtyMinutesWhenInitialRegistrationFollowsAFailedReregistration) {
    registerFully(engine_, network_, at(0), 3600);
    engine_.registerNow(at(3000));
    OutgoingRegister refresh = sent(engine_.securityReserved(at(3000), kOfferB));
    engine_.response(at(3000), Network::answer(500, refresh));
    EXPECT_TRUE(has<action::RefreshDue>(engine_.timerFired(at(3600), TimerKind::Refresh)));
    OutgoingRegister request = startInitial(engine_, at(3600));
    for (int attempt = 1; attempt < 5; ++attempt) {
        engine_.response(at(3600), Network::answer(500, request));
        request = sent(engine_.securityReserved(at(3600), kOfferA));
    }
    Actions actions = engine_.response(at(3600), Network::answer(500, request));
    EXPECT_EQ(one<action::ArmTimer>(actions).at, at(3600 + 1800));
    EXPECT_EQ(engine_.state(), RegistrationState::Backoff);
}

TEST_F(Failures, MalformedContactInTheOkIsNamedAndChangesNothing) {
    OutgoingRegister answer = authenticateInitial(engine_, network_, at(0));
    try {
        engine_.response(at(3), Network::answer(200, answer, {{"Contact", "<sip:10.0.0.2:6101"}}));
        FAIL() << "expected EngineError";
    } catch (const EngineError& error) {
        EXPECT_EQ(error.code(), EngineErrc::MalformedHeader);
        EXPECT_THAT(error.what(), HasSubstr("Contact"));
    }
    EXPECT_EQ(engine_.state(), RegistrationState::Registering);
    EXPECT_EQ(engine_.saSets().at(0).state, SaSetState::Temporary);
    // The same transaction still completes.
    engine_.response(at(4), network_.ok(answer, 3600));
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

TEST_F(Failures, MalformedHeadersOfA401AreNamedAndChangeNothing) {
    OutgoingRegister request = start();
    auto vector = network_.nextVector();
    struct Case {
        std::string header;
        std::vector<Header> headers;
    };
    std::vector<Case> cases{
        {"Security-Server",
         {{"WWW-Authenticate", network_.wwwAuthenticate(vector)},
          {"Security-Server", "ipsec-3gpp;alg="}}},
        {"WWW-Authenticate",
         {{"WWW-Authenticate", "Digest realm=\"home1.net\", nonce=\"AAAA\", algorithm=AKAv1-MD5"},
          {"Security-Server", network_.securityServer()}}},
        {"CSeq", {{"CSeq", "x REGISTER"}}},
    };
    for (const auto& entry : cases) {
        SipResponse response = Network::answer(401, request);
        if (entry.header == "CSeq") response.headers.clear();
        for (const auto& extra : entry.headers) response.headers.push_back(extra);
        try {
            engine_.response(at(1), response);
            ADD_FAILURE() << "expected EngineError for " << entry.header;
        } catch (const EngineError& error) {
            EXPECT_EQ(error.code(), EngineErrc::MalformedHeader) << entry.header;
            EXPECT_THAT(error.what(), HasSubstr(entry.header));
        }
        EXPECT_EQ(engine_.state(), RegistrationState::Registering);
    }
    EXPECT_TRUE(
        has<action::Authenticate>(engine_.response(at(2), network_.challenge(request, vector))));
}

TEST_F(Failures, MalformedMinExpiresAndRetryAfterAreNamed) {
    OutgoingRegister request = start();
    for (auto [status, name, value] :
         {std::tuple<uint16_t, std::string, std::string>{423, "Min-Expires", "soon"},
          {503, "Retry-After", "(later)"}}) {
        try {
            engine_.response(at(1), Network::answer(status, request, {{name, value}}));
            ADD_FAILURE() << "expected EngineError for " << name;
        } catch (const EngineError& error) {
            EXPECT_EQ(error.code(), EngineErrc::MalformedHeader);
            EXPECT_THAT(error.what(), HasSubstr(name));
        }
    }
    EXPECT_EQ(engine_.state(), RegistrationState::Registering);
}

TEST_F(Failures, ResponseWithNothingOutstandingIsWrongState) {
    SipResponse response;
    response.status = 200;
    EXPECT_EQ(errorOf([&] { engine_.response(at(0), response); }), EngineErrc::WrongState);
    OutgoingRegister request = start();
    engine_.response(at(1), Network::answer(100, request));
    auto vector = network_.nextVector();
    engine_.response(at(1), network_.challenge(request, vector));
    // The 401 ended the transaction: a retransmitted 401 is unexpected now.
    EXPECT_EQ(errorOf([&] { engine_.response(at(2), network_.challenge(request, vector)); }),
              EngineErrc::WrongState);
}

TEST_F(Failures, ResponsesToOtherTransactionsAreWrongState) {
    OutgoingRegister request = start();
    SipResponse otherCallId = Network::answer(200, request);
    otherCallId.headers[0].second = "someone-else";
    EXPECT_EQ(errorOf([&] { engine_.response(at(1), otherCallId); }), EngineErrc::WrongState);
    SipResponse earlier = Network::answer(200, request);
    earlier.headers[1].second = "7 REGISTER";
    EXPECT_EQ(errorOf([&] { engine_.response(at(1), earlier); }), EngineErrc::WrongState);
    EXPECT_EQ(engine_.state(), RegistrationState::Registering);
}

TEST_F(Failures, CSeqIsReadAcrossWhiteSpace) {
    OutgoingRegister request = start();
    SipResponse response = Network::answer(500, request);
    response.headers[1].second = "  1\tREGISTER";
    EXPECT_TRUE(has<action::ReserveSecurity>(engine_.response(at(1), response)));
}

TEST_F(Failures, ResultsNobodyAskedForAreWrongState) {
    EXPECT_EQ(errorOf([&] { engine_.securityReserved(at(0), kOfferA); }), EngineErrc::WrongState);
    EXPECT_EQ(errorOf([&] { engine_.authenticated(at(0), sip::AkaMacFailure{}); }),
              EngineErrc::WrongState);
    EXPECT_EQ(errorOf([&] { engine_.saSetInstalled(at(0), 1); }), EngineErrc::WrongState);
    EXPECT_EQ(errorOf([&] { engine_.transportError(at(0)); }), EngineErrc::WrongState);
    EXPECT_EQ(errorOf([&] { engine_.inboundTraffic(at(0), 9); }), EngineErrc::WrongState);
}

TEST_F(Failures, SecretsNeverReachLastError) {
    OutgoingRegister request = start();
    auto vector = network_.nextVector();
    engine_.response(at(1), network_.challenge(request, vector));
    auto success = Network::success(vector);
    success.res.resize(2);  // too short: the answer cannot be computed
    engine_.authenticated(at(2), success);
    const auto& error = engine_.info().lastError;
    EXPECT_THAT(error, HasSubstr("cannot answer the challenge"));
    for (const auto* secret : {&vector.xres, &vector.ck, &vector.ik}) {
        std::string hex = toHex(ByteView(secret->data(), secret->size()));
        EXPECT_EQ(error.find(hex), std::string::npos);
    }
}

TEST(Configuration, InvalidConfigurationsAreRejected) {
    auto expectInvalid = [](RegistrationConfig config) {
        EXPECT_EQ(errorOf([&] { RegistrationEngine engine(std::move(config)); }),
                  EngineErrc::InvalidConfig);
    };
    auto config = testConfig();
    config.impi.clear();
    expectInvalid(config);
    config = testConfig();
    config.pcscfs.clear();
    expectInvalid(config);
    config = testConfig();
    config.impu += "\r\nVia: x";
    expectInvalid(config);
    config = testConfig();
    config.expires = 0;
    expectInvalid(config);
}

TEST(Configuration, AddressesMustBeIpLiterals) {
    // A Kamailio 5.6 P-CSCF takes the Contact host as an IP literal; the engine writes
    // localAddress there (bracketing IPv6 itself), and the SA sets carry both addresses.
    for (std::string address :
         {"ue.home1.net", "10.0.0", "10.0.0.2:5060", "2001:db8::g", "[2001:db8::2]", ""}) {
        auto config = testConfig(address);
        EXPECT_EQ(errorOf([&] { RegistrationEngine engine(config); }), EngineErrc::InvalidConfig)
            << address;
        config = testConfig();
        config.pcscfs = {"10.0.0.1", address};
        EXPECT_EQ(errorOf([&] { RegistrationEngine engine(config); }), EngineErrc::InvalidConfig)
            << address;
    }
    for (std::string address : {"10.0.0.2", "2001:db8::2"}) {
        auto config = testConfig(address);
        config.pcscfs = {address};
        EXPECT_NO_THROW(RegistrationEngine engine(config)) << address;
    }
}

}  // namespace
}  // namespace imsaka::daemon::test
