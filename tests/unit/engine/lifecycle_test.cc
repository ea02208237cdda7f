// Deregistration (24.229 5.1.1.6), close(), and several registrations of one instance
// (RFC 5626 reg-id, one SA set per registration).
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Deregistration, SendsExpiresZeroOverTheEstablishedSet) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister last = registerFully(engine, network, at(0), 3600);
    // The de-REGISTER offers new SPIs and a new client port, keeping port_us (TS 33.203 7.4):
    // a 401 to it needs a new temporary set.
    EXPECT_THAT(
        describe(engine.deregister(at(100))),
        ElementsAre("CancelTimer(refresh)", "StateChanged(deregistering)", "ReserveSecurity(6101)"));
    Actions actions = engine.securityReserved(at(100), kOfferB);
    EXPECT_THAT(describe(actions), ElementsAre("Send", "ArmTimer(timer-f@228)"));
    OutgoingRegister request = sent(actions);
    EXPECT_TRUE(request.protectedBySa);
    EXPECT_EQ(request.localPort, kOfferA.portUc);
    EXPECT_EQ(header(request, "Expires"), "0");
    EXPECT_THAT(header(request, "Contact"), HasSubstr("<sip:10.0.0.2:6101>;"));
    EXPECT_THAT(header(request, "Contact"), HasSubstr(";expires=0"));
    EXPECT_EQ(header(request, "Call-ID"), header(last, "Call-ID"));
    EXPECT_EQ(header(request, "CSeq"), "3 REGISTER");
    EXPECT_NE(header(request, "Security-Client"), header(last, "Security-Client"));
    EXPECT_EQ(header(request, "Security-Verify"), header(last, "Security-Verify"));
}

TEST(Deregistration, WithoutPortsForANewOfferStillGoesOutWithTheSetsOwn) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister last = registerFully(engine, network, at(0), 3600);
    engine.deregister(at(100));
    OutgoingRegister request = sent(engine.securityUnavailable(at(100), "no free port"));
    EXPECT_TRUE(request.protectedBySa);
    EXPECT_EQ(header(request, "Expires"), "0");
    EXPECT_EQ(header(request, "Security-Client"), header(last, "Security-Client"));
    EXPECT_EQ(engine.state(), RegistrationState::Deregistering);
}

TEST(Deregistration, OkRemovesEverySetAndEndsUnregistered) {
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    engine.deregister(at(100));
    OutgoingRegister request = sent(engine.securityReserved(at(100), kOfferB));
    Actions actions = engine.response(at(101), Network::answer(200, request));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "RemoveSaSet(1)", "ReleaseSecurity(6200)",
                            "StateChanged(unregistered)", "InfoChanged"));
    EXPECT_TRUE(engine.saSets().empty());
    EXPECT_FALSE(engine.info().expiresAt);
    EXPECT_TRUE(engine.info().serviceRoute.empty());
}

TEST(Deregistration, TimeoutAlsoRemovesEverySet) {
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    engine.deregister(at(100));
    engine.securityReserved(at(100), kOfferB);
    Actions actions = engine.timerFired(at(228), TimerKind::TimerF);
    EXPECT_THAT(describe(actions), ElementsAre("ReleaseSecurity(6200)", "RemoveSaSet(1)",
                                               "StateChanged(unregistered)", "InfoChanged"));
}

TEST(Deregistration, WithoutSaSetsRemovesTheContactThatWasRegistered) {
    // The network registered the unprotected REGISTER without a challenge: its Contact
    // named the offer's port_us, and that binding is the one to refresh and to remove.
    RegistrationEngine engine(testConfig());
    OutgoingRegister initial = startInitial(engine, at(0));
    engine.response(at(1),
                    Network::answer(200, initial,
                                    {{"Contact", header(initial, "Contact")}, {"Expires", "600"}}));
    const std::string registered = "<sip:10.0.0.2:6101>";
    ASSERT_EQ(header(initial, "Contact").substr(0, registered.size()), registered);

    engine.registerNow(at(301));
    OutgoingRegister refresh = sent(engine.securityReserved(at(301), kOfferB));
    EXPECT_EQ(header(refresh, "Contact").substr(0, registered.size()), registered);
    engine.response(at(302),
                    Network::answer(200, refresh,
                                    {{"Contact", header(refresh, "Contact")}, {"Expires", "600"}}));

    OutgoingRegister request = sent(engine.deregister(at(400)));
    EXPECT_FALSE(request.protectedBySa);
    EXPECT_EQ(header(request, "Contact"),
              registered + ";+sip.instance=\"<urn:gsma:imei:35209900-176148-1>\";expires=0");
    // No Security-Client to go with it: no sec-agree option tags either (RFC 3329 2.3.1).
    EXPECT_TRUE(headers(request, "Security-Client").empty());
    EXPECT_TRUE(headers(request, "Require").empty());
    EXPECT_TRUE(headers(request, "Proxy-Require").empty());
    EXPECT_EQ(header(request, "Supported"), "path, gruu");
}

TEST(Deregistration, WithNothingRegisteredIsWrongStateAndAbandonsAnInitialAttempt) {
    RegistrationEngine engine(testConfig());
    EXPECT_THROW(engine.deregister(at(0)), EngineError);
    startInitial(engine, at(0));
    EXPECT_THAT(describe(engine.deregister(at(1))),
                ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                            "StateChanged(unregistered)", "InfoChanged"));
}

TEST(Close, RemovesEverySetReleasesTheOfferAndCancelsTimers) {
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    engine.registerNow(at(3000));
    engine.securityReserved(at(3000), kOfferB);
    Actions actions = engine.close(at(3001));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "RemoveSaSet(1)", "ReleaseSecurity(6200)",
                            "CancelTimer(refresh)", "StateChanged(unregistered)", "InfoChanged"));
    EXPECT_TRUE(engine.close(at(3002)).empty());
    EXPECT_THROW(engine.registerNow(at(3003)), EngineError);
}

TEST(Close, ReleasesAnOfferWaitingForAChallenge) {
    RegistrationEngine engine(testConfig());
    startInitial(engine, at(0));
    EXPECT_TRUE(has<action::ReleaseSecurity>(engine.close(at(1))));
}

TEST(Close, TimersFiringAfterCloseAreIgnored) {
    // close() cancelled every timer; one already on its way when it did is ignored, as any
    // cancelled timer is.
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    engine.close(at(1));
    for (auto kind :
         {TimerKind::TimerF, TimerKind::RegAwaitAuth, TimerKind::Refresh, TimerKind::Backoff}) {
        EXPECT_TRUE(engine.timerFired(at(3000), kind).empty());
    }
    EXPECT_EQ(engine.state(), RegistrationState::Unregistered);
}

TEST(MultipleRegistrations, EachEngineHasItsOwnRegIdCallIdAndSaSets) {
    RegistrationEngine first(testConfig("10.0.0.2", 1, "a"));
    RegistrationEngine second(testConfig("10.0.0.3", 2, "b"));
    Network network;
    OutgoingRegister one = registerFully(first, network, at(0), 3600, kOfferA);
    OutgoingRegister two = registerFully(second, network, at(0), 3600, kOfferB);

    auto contactOne = header(one, "Contact");
    auto contactTwo = header(two, "Contact");
    EXPECT_THAT(contactOne, HasSubstr("<sip:10.0.0.2:6101>;+sip.instance=\"<urn:gsma:imei:"));
    EXPECT_THAT(contactOne, HasSubstr(";reg-id=1;"));
    EXPECT_THAT(contactTwo, HasSubstr("<sip:10.0.0.3:6201>;+sip.instance=\"<urn:gsma:imei:"));
    EXPECT_THAT(contactTwo, HasSubstr(";reg-id=2;"));
    EXPECT_EQ(header(one, "Supported"), "path, gruu, outbound, sec-agree");
    EXPECT_NE(first.callId(), second.callId());
    EXPECT_EQ(header(one, "Call-ID"), first.callId());
    EXPECT_EQ(header(two, "Call-ID"), second.callId());

    ASSERT_EQ(first.saSets().size(), 1u);
    ASSERT_EQ(second.saSets().size(), 1u);
    EXPECT_EQ(first.saSets()[0].ours.spiUc, kOfferA.spiUc);
    EXPECT_EQ(second.saSets()[0].ours.spiUc, kOfferB.spiUc);
    EXPECT_EQ(one.localPort, kOfferA.portUc);
    EXPECT_EQ(two.localPort, kOfferB.portUc);

    // A reg-event naming both flows by instance and reg-id ends only the second.
    auto contact = [](const std::string& uri, int regId, const std::string& event) {
        return "<contact id=\"c" + std::to_string(regId) + "\" state=\"" +
               (event == "registered" ? "active" : "terminated") + "\" event=\"" + event +
               "\"><uri>" + uri +
               "</uri><unknown-param name=\"+sip.instance\">&lt;urn:gsma:imei:"
               "35209900-176148-1&gt;</unknown-param><unknown-param name=\"reg-id\">" +
               std::to_string(regId) + "</unknown-param></contact>";
    };
    std::string body =
        "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"2\" state=\"full\">"
        "<registration aor=\"sip:user1_public1@home1.net\" id=\"a1\" state=\"active\">" +
        contact("sip:10.0.0.2:6101", 1, "registered") +
        contact("sip:10.0.0.3:6201", 2, "deactivated") + "</registration></reginfo>";
    EXPECT_TRUE(first.notify(at(10), body).empty());
    EXPECT_TRUE(has<action::RefreshDue>(second.notify(at(10), body)));
    EXPECT_EQ(first.state(), RegistrationState::Registered);
    EXPECT_EQ(second.state(), RegistrationState::Unregistered);
}

// RFC 5626 4.2.1: the registrar says it accepted the flow with Require: outbound in the 2xx.
TEST(MultipleRegistrations, TheOkSaysWhetherTheRegistrarAcceptedOutbound) {
    for (bool accepted : {true, false}) {
        RegistrationEngine engine(testConfig("10.0.0.2", 1));
        Network network;
        OutgoingRegister request = authenticateInitial(engine, network, at(0));
        SipResponse ok = network.ok(request, 3600);
        if (accepted) ok.headers.emplace_back("Require", "outbound");
        ok.headers.emplace_back("Supported", "outbound");  // only Require counts
        engine.response(at(0), ok);
        EXPECT_EQ(engine.state(), RegistrationState::Registered);
        EXPECT_EQ(engine.info().outbound, accepted);
    }
}

TEST(MultipleRegistrations, AFlowWithoutInstanceIdIsRefused) {
    auto config = testConfig("10.0.0.2", 1);
    config.instanceId.clear();
    EXPECT_EQ(errorOf([&] { RegistrationEngine engine(config); }), EngineErrc::InvalidConfig);
}

}  // namespace
}  // namespace imsaka::daemon::test
