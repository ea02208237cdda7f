// Initial registration (24.229 5.1.1.2.1) and IMS AKA (5.1.1.5.1): the unprotected
// REGISTER, the 401, the temporary SA set, the protected REGISTER and the 200 OK.
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;

TEST(InitialRegistration, StartsByReservingSpisAndPortsForTheOffer) {
    RegistrationEngine engine(testConfig());
    EXPECT_THAT(describe(engine.registerNow(at(0))),
                ElementsAre("StateChanged(registering)", "ReserveSecurity"));
    EXPECT_EQ(engine.state(), RegistrationState::Registering);
}

TEST(InitialRegistration, UnprotectedRegisterCarriesTheHeadersOf24229) {
    RegistrationEngine engine(testConfig());
    engine.registerNow(at(0));
    Actions actions = engine.securityReserved(at(0), kOfferA);
    EXPECT_THAT(describe(actions), ElementsAre("Send", "ArmTimer(timer-f@128)"));
    OutgoingRegister request = sent(actions);

    EXPECT_EQ(request.requestUri, "sip:home1.net");
    EXPECT_EQ(request.localAddress, "10.0.0.2");
    EXPECT_EQ(request.localPort, 5060);
    EXPECT_EQ(request.remoteAddress, "10.0.0.1");
    EXPECT_EQ(request.remotePort, 5060);
    EXPECT_FALSE(request.protectedBySa);
    EXPECT_EQ(header(request, "Via"), "SIP/2.0/UDP 10.0.0.2:5060;rport");
    EXPECT_EQ(header(request, "From"), "<sip:user1_public1@home1.net>;tag=tok2");
    EXPECT_EQ(header(request, "To"), "<sip:user1_public1@home1.net>");
    EXPECT_EQ(header(request, "Call-ID"), "tok1");
    EXPECT_EQ(engine.callId(), "tok1");
    EXPECT_EQ(header(request, "CSeq"), "1 REGISTER");
    EXPECT_EQ(header(request, "Contact"),
              "<sip:10.0.0.2:6101>;+sip.instance=\"<urn:gsma:imei:35209900-176148-1>\""
              ";expires=600000");
    EXPECT_EQ(header(request, "Expires"), "600000");
    EXPECT_EQ(header(request, "Require"), "sec-agree");
    EXPECT_EQ(header(request, "Proxy-Require"), "sec-agree");
    // 24.229 5.1.1.2.2: "sec-agree" in Supported too, beside Require and Proxy-Require.
    EXPECT_EQ(header(request, "Supported"), "path, gruu, sec-agree");
    EXPECT_TRUE(headers(request, "Security-Verify").empty());

    auto authorization = sip::parseAuthorization(header(request, "Authorization"));
    EXPECT_EQ(authorization.username, kImpi);
    EXPECT_EQ(authorization.realm, "home1.net");
    EXPECT_EQ(authorization.uri, "sip:home1.net");
    EXPECT_EQ(authorization.nonce, "");
    EXPECT_EQ(authorization.response, "");

    // Our ports and SPIs, in buildSecurityClient's order: the strongest pair comes last,
    // where Kamailio 5.6 looks.
    auto client = sip::parseSecurityHeader(header(request, "Security-Client"));
    ASSERT_EQ(client.size(), 4u);  // the short default offer
    for (const auto& mechanism : client) {
        auto parameters = sip::ipsecParameters(mechanism);
        EXPECT_EQ(parameters.spiC, kOfferA.spiUc);
        EXPECT_EQ(parameters.spiS, kOfferA.spiUs);
        EXPECT_EQ(parameters.portC, kOfferA.portUc);
        EXPECT_EQ(parameters.portS, kOfferA.portUs);
    }
    auto last = sip::ipsecParameters(client.back());
    EXPECT_EQ(last.alg, sip::IntegrityAlgorithm::HmacSha1_96);
    EXPECT_EQ(last.ealg, sip::EncryptionAlgorithm::AesCbc);
}

TEST(InitialRegistration, UnprotectedRegisterLeavesFromTheConfiguredUnprotectedPort) {
    auto config = testConfig("2001:db8::2");
    config.unprotectedPort = 5070;
    config.pcscfs = {{"2001:db8::1", 5080}};
    config.transport = Transport::Tcp;
    RegistrationEngine engine(config);
    OutgoingRegister request = startInitial(engine, at(0));
    EXPECT_EQ(request.localPort, 5070);
    EXPECT_EQ(request.remotePort, 5080);
    EXPECT_EQ(request.transport, Transport::Tcp);
    EXPECT_EQ(header(request, "Via"), "SIP/2.0/TCP [2001:db8::2]:5070;rport");
    EXPECT_EQ(header(request, "Contact").substr(0, 25), "<sip:[2001:db8::2]:6101>;");
}

TEST(InitialRegistration, ValidChallengeAsksTheCardWithRandAndAutnOfTheNonce) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister request = startInitial(engine, at(0));
    auto vector = network.nextVector();
    Actions actions = engine.response(at(1), network.challenge(request, vector));
    EXPECT_THAT(describe(actions), ElementsAre("CancelTimer(timer-f)",
                                               "StateChanged(authenticating)", "Authenticate"));
    auto authenticate = one<action::Authenticate>(actions);
    EXPECT_EQ(Bytes(authenticate.rand.begin(), authenticate.rand.end()), vector.rand);
    EXPECT_EQ(Bytes(authenticate.autn.begin(), authenticate.autn.end()), vector.autn);
}

TEST(InitialRegistration, AkaSuccessInstallsATemporarySetForRegAwaitAuth) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister request = startInitial(engine, at(0));
    auto vector = network.nextVector();
    engine.response(at(1), network.challenge(request, vector));
    Actions actions = engine.authenticated(at(2), Network::success(vector));
    EXPECT_THAT(describe(actions), ElementsAre("InstallSaSet(1)", "InfoChanged"));
    auto install = one<action::InstallSaSet>(actions);
    EXPECT_EQ(install.set.state, SaSetState::Temporary);
    EXPECT_EQ(install.set.lifetime, Seconds(240));
    EXPECT_EQ(install.set.pcscfAddress, "10.0.0.1");
    EXPECT_EQ(install.set.ours.portUc, kOfferA.portUc);
    EXPECT_EQ(install.set.ours.spiUs, kOfferA.spiUs);
    EXPECT_EQ(install.set.theirs.alg, sip::IntegrityAlgorithm::HmacSha1_96);
    EXPECT_EQ(install.set.theirs.ealg, sip::EncryptionAlgorithm::AesCbc);
    EXPECT_EQ(install.set.theirs.spiC, network.spiPc);
    EXPECT_EQ(install.set.theirs.portS, network.portPs);
    EXPECT_TRUE(
        std::equal(install.ck.begin(), install.ck.end(), vector.ck.begin(), vector.ck.end()));
    EXPECT_TRUE(
        std::equal(install.ik.begin(), install.ik.end(), vector.ik.begin(), vector.ik.end()));
    ASSERT_TRUE(engine.currentSet());
    EXPECT_EQ(engine.currentSet()->state, SaSetState::Temporary);
}

TEST(InitialRegistration, ProtectedRegisterAnswersTheChallengeOverTheTemporarySet) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister initial = startInitial(engine, at(0));
    auto vector = network.nextVector();
    engine.response(at(1), network.challenge(initial, vector));
    auto install = one<action::InstallSaSet>(engine.authenticated(at(2), Network::success(vector)));
    Actions actions = engine.saSetInstalled(at(3), install.set.id);
    EXPECT_THAT(describe(actions),
                ElementsAre("ArmTimer(reg-await-auth@243)", "StateChanged(registering)", "Send",
                            "ArmTimer(timer-f@131)"));
    OutgoingRegister request = sent(actions);

    EXPECT_TRUE(request.protectedBySa);
    EXPECT_EQ(request.localPort, kOfferA.portUc);
    EXPECT_EQ(request.remoteAddress, "10.0.0.1");
    EXPECT_EQ(request.remotePort, network.portPs);
    EXPECT_EQ(header(request, "Via"), "SIP/2.0/UDP 10.0.0.2:6101");
    EXPECT_EQ(header(request, "Call-ID"), header(initial, "Call-ID"));
    EXPECT_EQ(header(request, "CSeq"), "2 REGISTER");
    EXPECT_EQ(header(request, "From"), header(initial, "From"));
    EXPECT_EQ(header(request, "Contact"), header(initial, "Contact"));
    EXPECT_EQ(header(request, "Security-Client"), header(initial, "Security-Client"));
    EXPECT_EQ(header(request, "Security-Verify"), network.securityServer());
    EXPECT_EQ(header(request, "Require"), "sec-agree");
    EXPECT_EQ(header(request, "Proxy-Require"), "sec-agree");

    auto authorization = sip::parseAuthorization(header(request, "Authorization"));
    EXPECT_EQ(authorization.username, kImpi);
    EXPECT_EQ(authorization.realm, "home1.net");
    EXPECT_EQ(authorization.uri, "sip:home1.net");
    EXPECT_EQ(authorization.algorithmText, "AKAv1-MD5");
    EXPECT_EQ(authorization.qop, "auth");
    EXPECT_FALSE(authorization.auts);
    EXPECT_EQ(authorization.response, expectedResponse(request, authorization, vector.xres));
}

TEST(InitialRegistration, OkPromotesTheSetAndStoresWhatTheNetworkSaid) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister request = authenticateInitial(engine, network, at(0));
    Actions actions = engine.response(at(10), network.ok(request, 3600));
    // 3600 > 1200: refresh 600 s before expiry. SA lifetime 3600 + 30 beats reg-await-auth.
    EXPECT_THAT(
        describe(actions),
        ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)", "SetSaLifetime(1,3630)",
                    "ArmTimer(refresh@3010)", "StateChanged(registered)", "InfoChanged"));
    const auto& info = engine.info();
    EXPECT_EQ(info.expiresAt, at(3610));  // the Contact's expires, not the Expires header
    EXPECT_THAT(info.associatedUris,
                ElementsAre("sip:user1_public1@home1.net", "tel:+358504821437"));
    EXPECT_THAT(info.serviceRoute, ElementsAre("sip:orig@scscf1.home1.net;lr"));
    EXPECT_EQ(info.publicGruu, "sip:user1_public1@home1.net;gr=urn:gsma:imei:35209900-176148-1");
    EXPECT_EQ(info.temporaryGruu, "sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@home1.net;gr");
    EXPECT_TRUE(info.barredUris.empty());
    EXPECT_TRUE(info.lastError.empty());
    ASSERT_EQ(engine.saSets().size(), 1u);
    EXPECT_EQ(engine.saSets()[0].state, SaSetState::Established);
    EXPECT_EQ(engine.saSets()[0].lifetime, Seconds(3630));
}

TEST(InitialRegistration, ExpiresHeaderCountsWhenOurContactHasNoExpires) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister request = authenticateInitial(engine, network, at(0));
    // Another contact of the AoR has an expires; ours has none.
    auto ok = Network::answer(
        200, request,
        {{"Contact", "<sip:10.0.0.7:5060>;expires=50, <sip:10.0.0.2:6101>"}, {"Expires", "1000"}});
    Actions actions = engine.response(at(0), ok);
    EXPECT_EQ(engine.info().expiresAt, at(1000));
    // 1000 <= 1200: refresh at half the registration.
    EXPECT_EQ(one<action::ArmTimer>(actions).at, at(500));
}

TEST(InitialRegistration, AnotherBindingOfOurInstanceIsNotOurs) {
    // Without a reg-id, bindings are keyed by Contact URI: an older one with our
    // +sip.instance (another address) lends neither its expires nor its GRUUs.
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister request = authenticateInitial(engine, network, at(0));
    auto ok = Network::answer(
        200, request,
        {{"Contact",
          "<sip:10.0.0.7:6101>;expires=50;+sip.instance=\"<urn:gsma:imei:35209900-176148-1>\""
          ";temp-gruu=\"sip:old@home1.net;gr\", <sip:10.0.0.2:6101>"},
         {"Expires", "1000"}});
    engine.response(at(0), ok);
    EXPECT_EQ(engine.info().expiresAt, at(1000));
    EXPECT_EQ(engine.info().temporaryGruu, "");
}

TEST(InitialRegistration, IdentityMissingFromPAssociatedUriIsBarred) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister request = authenticateInitial(engine, network, at(0));
    engine.response(at(0), Network::answer(200, request,
                                           {{"Contact", header(request, "Contact")},
                                            {"Expires", "3600"},
                                            {"P-Associated-URI", "<sip:other@home1.net>"}}));
    EXPECT_THAT(engine.info().barredUris, ElementsAre(std::string(kImpu)));
    EXPECT_THAT(engine.info().associatedUris, ElementsAre("sip:other@home1.net"));
}

TEST(InitialRegistration, RefreshTimerAsksForARefreshBeforeExpiry) {
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    EXPECT_THAT(describe(engine.timerFired(at(3000), TimerKind::Refresh)),
                ElementsAre("RefreshDue(expiry)"));
}

TEST(InitialRegistration, OkWithoutChallengeRegistersWithoutSaSets) {
    RegistrationEngine engine(testConfig());
    OutgoingRegister request = startInitial(engine, at(0));
    Actions actions = engine.response(
        at(1),
        Network::answer(200, request, {{"Contact", "<sip:10.0.0.2:6101>"}, {"Expires", "600"}}));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                            "ArmTimer(refresh@301)", "StateChanged(registered)", "InfoChanged"));
    EXPECT_TRUE(engine.saSets().empty());
    EXPECT_FALSE(engine.currentSet());
    // Its refresh is unprotected too, with the same Call-ID.
    engine.registerNow(at(301));
    OutgoingRegister refresh = sent(engine.securityReserved(at(301), kOfferB));
    EXPECT_FALSE(refresh.protectedBySa);
    EXPECT_EQ(header(refresh, "Call-ID"), header(request, "Call-ID"));
    EXPECT_EQ(header(refresh, "CSeq"), "2 REGISTER");
}

// 24.229 5.1.1.2.1 e): the UE finds, in the 200 OK, the Contact matching the one it sent.
// Without it (or with it expired) the network bound something else: not registered.
TEST(InitialRegistration, OkWithoutOurContactIsAFailedAttempt) {
    for (std::string contact :
         {"", "<sip:10.0.0.7:5060>;expires=3600", "<sip:10.0.0.2:6101>;expires=0"}) {
        RegistrationEngine engine(testConfig());
        Network network;
        OutgoingRegister request = authenticateInitial(engine, network, at(0));
        std::vector<Header> extra{{"Expires", "3600"}};
        if (!contact.empty()) extra.emplace_back("Contact", contact);
        Actions actions = engine.response(at(1), Network::answer(200, request, extra));
        EXPECT_THAT(
            describe(actions),
            ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)", "RemoveSaSet(1)",
                        "StateChanged(backoff)", "ArmTimer(backoff@61)", "InfoChanged"))
            << contact;
        EXPECT_EQ(engine.info().lastError, "200 OK without our Contact") << contact;
        EXPECT_FALSE(engine.info().expiresAt);
        EXPECT_TRUE(engine.saSets().empty());
    }
}

TEST(InitialRegistration, ProvisionalResponsesChangeNothing) {
    RegistrationEngine engine(testConfig());
    OutgoingRegister request = startInitial(engine, at(0));
    EXPECT_TRUE(engine.response(at(1), Network::answer(100, request)).empty());
    EXPECT_EQ(engine.state(), RegistrationState::Registering);
}

}  // namespace
}  // namespace imsaka::daemon::test
