// reg-event NOTIFY bodies (RFC 3680, 24.229 5.1.1.3): what each event on our contact does.
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;

struct ContactEntry {
    std::string state;
    std::string event;
    std::string extra;  // further attributes, e.g. expires="300"
    std::string uri;
};

ContactEntry contact(std::string state, std::string event, std::string extra = "",
                     std::string uri = "sip:10.0.0.2:6101") {
    return ContactEntry{std::move(state), std::move(event), std::move(extra), std::move(uri)};
}

std::string reginfo(const std::vector<ContactEntry>& contacts, std::string aor = std::string(kImpu),
                    std::string registrationState = "active") {
    std::string xml =
        "<?xml version=\"1.0\"?><reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"1\" "
        "state=\"full\"><registration aor=\"" +
        aor + "\" id=\"a1\" state=\"" + registrationState + "\">";
    int id = 0;
    for (const auto& entry : contacts) {
        xml += "<contact id=\"c" + std::to_string(++id) + "\" state=\"" + entry.state +
               "\" event=\"" + entry.event + "\" " + entry.extra + "><uri>" + entry.uri +
               "</uri></contact>";
    }
    return xml + "</registration></reginfo>";
}

class RegEvent : public ::testing::Test {
  protected:
    void SetUp() override { registerFully(engine_, network_, at(0), 3600); }
    RegistrationEngine engine_{testConfig()};
    Network network_;
};

TEST_F(RegEvent, ShortenedAsksForReauthenticationBeforeTheNewExpiry) {
    Actions actions =
        engine_.notify(at(100), reginfo({contact("active", "shortened", "expires=\"300\"")}));
    EXPECT_THAT(describe(actions),
                ElementsAre("ArmTimer(refresh@250)", "RefreshDue(reauthenticate)", "InfoChanged"));
    EXPECT_EQ(engine_.info().expiresAt, at(400));
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

TEST_F(RegEvent, DeactivatedEndsTheRegistrationAndAsksToRegisterAgain) {
    Actions actions = engine_.notify(at(100), reginfo({contact("terminated", "deactivated")}));
    EXPECT_THAT(describe(actions),
                ElementsAre("RemoveSaSet(1)", "CancelTimer(refresh)", "StateChanged(unregistered)",
                            "RefreshDue(register-again)", "InfoChanged"));
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_FALSE(engine_.info().expiresAt);
    EXPECT_TRUE(engine_.info().associatedUris.empty());
    EXPECT_TRUE(has<action::ReserveSecurity>(engine_.registerNow(at(101))));
}

TEST_F(RegEvent, ExpiredAlsoAsksToRegisterAgain) {
    Actions actions = engine_.notify(at(100), reginfo({contact("terminated", "expired")}));
    EXPECT_TRUE(has<action::RefreshDue>(actions));
    EXPECT_EQ(engine_.state(), RegistrationState::Unregistered);
}

TEST(RegEventWhileDeregistering, DeactivatedDoesNotAskToRegisterAgain) {
    // The user asked to deregister; the network ending the registration at the same time
    // completes that wish rather than starting a new registration.
    for (const char* event : {"deactivated", "probation"}) {
        RegistrationEngine engine(testConfig());
        Network network;
        registerFully(engine, network, at(0), 3600);
        engine.deregister(at(100));
        Actions actions =
            engine.notify(at(101), reginfo({contact("terminated", event, "retry-after=\"60\"")}));
        EXPECT_FALSE(has<action::RefreshDue>(actions)) << event;
        EXPECT_FALSE(has<action::ArmTimer>(actions)) << event;
        EXPECT_TRUE(has<action::RemoveSaSet>(actions)) << event;
        EXPECT_EQ(engine.state(), RegistrationState::Unregistered) << event;
    }
}

// RFC 3680 5.3: probation asks the UA to register again after retry-after; the reason
// says so ("register-again", as for deactivated), after the wait.
TEST_F(RegEvent, ProbationWaitsForItsRetryAfterBeforeRegisteringAgain) {
    Actions actions = engine_.notify(
        at(100), reginfo({contact("terminated", "probation", "retry-after=\"60\"")}));
    EXPECT_THAT(describe(actions),
                ElementsAre("RemoveSaSet(1)", "CancelTimer(refresh)", "StateChanged(backoff)",
                            "ArmTimer(backoff@160)", "InfoChanged"));
    EXPECT_THROW(engine_.registerNow(at(120)), EngineError);
    EXPECT_THAT(describe(engine_.timerFired(at(160), TimerKind::Backoff)),
                ElementsAre("StateChanged(unregistered)", "RefreshDue(register-again)"));
}

TEST_F(RegEvent, ProbationWithoutRetryAfterAsksToRegisterAgainAtOnce) {
    Actions actions = engine_.notify(at(100), reginfo({contact("terminated", "probation")}));
    EXPECT_THAT(describe(actions),
                ElementsAre("RemoveSaSet(1)", "CancelTimer(refresh)", "StateChanged(unregistered)",
                            "RefreshDue(register-again)", "InfoChanged"));
}

TEST_F(RegEvent, RejectedRemovesEverySetAndStopsRegistering) {
    // A re-authentication in progress: an established and a temporary set.
    engine_.registerNow(at(3000));
    OutgoingRegister refresh = sent(engine_.securityReserved(at(3000), kOfferB));
    auto vector = network_.nextVector();
    engine_.response(at(3000), network_.challenge(refresh, vector));
    answerWithSuccess(engine_, at(3000), vector);
    ASSERT_EQ(engine_.saSets().size(), 2u);

    Actions actions = engine_.notify(at(3001), reginfo({contact("terminated", "rejected")}));
    EXPECT_THAT(describe(actions),
                ElementsAre("CancelTimer(timer-f)", "CancelTimer(reg-await-auth)", "RemoveSaSet(1)",
                            "RemoveSaSet(2)", "CancelTimer(refresh)", "StateChanged(failed)",
                            "InfoChanged"));
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_EQ(engine_.info().lastError, "the network ended the registration (rejected)");
    // The REGISTER in flight is forgotten.
    EXPECT_THROW(engine_.response(at(3002), network_.ok(refresh, 3600)), EngineError);
}

TEST_F(RegEvent, UnregisteredEndsInUnregisteredWithoutRegisteringAgain) {
    Actions actions = engine_.notify(at(100), reginfo({contact("terminated", "unregistered")}));
    EXPECT_FALSE(has<action::RefreshDue>(actions));
    EXPECT_TRUE(has<action::RemoveSaSet>(actions));
    EXPECT_EQ(engine_.state(), RegistrationState::Unregistered);
}

TEST_F(RegEvent, EventsOnOtherContactsChangeNothing) {
    Actions actions = engine_.notify(
        at(100), reginfo({contact("terminated", "deactivated", "", "sip:10.0.0.77:6101"),
                          contact("active", "refreshed")}));
    EXPECT_TRUE(actions.empty());
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

TEST_F(RegEvent, AnOldBindingOfOurInstanceEndingIsNotOurRegistrationEnding) {
    // Re-authentication moved our binding to the new set's port_us (6201). Without a
    // reg-id the registrar keys bindings by Contact URI (RFC 3261 10.3), so the old one
    // (6101) lives on until it expires, with the same +sip.instance. Its expiry says
    // nothing about the registration in use.
    engine_.registerNow(at(3000));
    OutgoingRegister refresh = sent(engine_.securityReserved(at(3000), kOfferB));
    auto vector = network_.nextVector();
    engine_.response(at(3000), network_.challenge(refresh, vector));
    OutgoingRegister answer = answerWithSuccess(engine_, at(3000), vector);
    engine_.response(at(3001), network_.ok(answer, 3600));
    ASSERT_EQ(engine_.state(), RegistrationState::Registered);

    auto contact = [](const std::string& uri, const std::string& state, const std::string& event) {
        return "<contact id=\"" + uri + "\" state=\"" + state + "\" event=\"" + event + "\"><uri>" +
               uri +
               "</uri><unknown-param name=\"+sip.instance\">&lt;urn:gsma:imei:"
               "35209900-176148-1&gt;</unknown-param></contact>";
    };
    std::string body =
        "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"3\" state=\"full\">"
        "<registration aor=\"sip:user1_public1@home1.net\" id=\"a1\" state=\"active\">" +
        contact("sip:10.0.0.2:6101", "terminated", "expired") +
        contact("sip:10.0.0.2:6201", "active", "registered") + "</registration></reginfo>";
    EXPECT_TRUE(engine_.notify(at(3700), body).empty());
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
    EXPECT_EQ(engine_.saSets().size(), 2u);

    // The binding in use ending still counts, with or without the instance.
    body =
        "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"4\" state=\"partial\">"
        "<registration aor=\"sip:user1_public1@home1.net\" id=\"a1\" state=\"active\">" +
        contact("sip:10.0.0.2:6201", "terminated", "deactivated") + "</registration></reginfo>";
    EXPECT_TRUE(has<action::RefreshDue>(engine_.notify(at(3800), body)));
    EXPECT_EQ(engine_.state(), RegistrationState::Unregistered);
}

TEST_F(RegEvent, TerminatedIdentitiesAreBarredUntilActiveAgain) {
    const std::string other = "sip:user1_public2@home1.net";
    Actions actions =
        engine_.notify(at(100), reginfo({contact("terminated", "rejected")}, other, "terminated"));
    EXPECT_THAT(describe(actions), ElementsAre("InfoChanged"));
    EXPECT_THAT(engine_.info().barredUris, ElementsAre(other));
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);  // our IMPU is untouched
    engine_.notify(at(200), reginfo({contact("active", "registered")}, other, "active"));
    EXPECT_TRUE(engine_.info().barredUris.empty());
}

TEST(RegEventWhileUnregistered, OnlyBarredIdentitiesChange) {
    RegistrationEngine engine(testConfig());
    Actions actions = engine.notify(
        at(0), reginfo({contact("terminated", "rejected")}, std::string(kImpu), "terminated"));
    EXPECT_THAT(describe(actions), ElementsAre("InfoChanged"));
    EXPECT_EQ(engine.state(), RegistrationState::Idle);
    EXPECT_THAT(engine.info().barredUris, ElementsAre(std::string(kImpu)));
}

TEST_F(RegEvent, MalformedBodyIsNamedAndChangesNothing) {
    try {
        engine_.notify(at(100), "<reginfo");
        FAIL() << "expected EngineError";
    } catch (const EngineError& error) {
        EXPECT_EQ(error.code(), EngineErrc::MalformedBody);
        EXPECT_THAT(error.what(), ::testing::HasSubstr("reg-event body"));
    }
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

}  // namespace
}  // namespace imsaka::daemon::test
