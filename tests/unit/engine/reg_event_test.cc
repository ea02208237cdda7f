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

// A full-state document of version 0 (the first of a subscription, RFC 3680) unless told.
std::string reginfo(const std::vector<ContactEntry>& contacts, std::string aor = std::string(kImpu),
                    std::string registrationState = "active", unsigned version = 0,
                    std::string documentState = "full") {
    std::string xml =
        "<?xml version=\"1.0\"?><reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
        "version=\"" +
        std::to_string(version) + "\" state=\"" + documentState + "\"><registration aor=\"" + aor +
        "\" id=\"a1\" state=\"" + registrationState + "\">";
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
    network_.spiPc = 6001;  // the new set's SPIs at the P-CSCF
    network_.spiPs = 6002;
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
    network_.spiPc = 6001;
    network_.spiPs = 6002;
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

TEST_F(RegEvent, ATerminatedIdentityOfThisRegistrationIsDeregisteredNotBarred) {
    // 24.229 5.1.2.1: "terminated" means deregistered; barring is 5.1.1.2.1 c)'s (an
    // identity the 200 OK leaves out of P-Associated-URI).
    const std::string other = "tel:+358504821437";  // in the 200 OK's P-Associated-URI
    Actions actions = engine_.notify(
        at(100), reginfo({contact("terminated", "unregistered", "", "sip:10.0.0.2:6101")}, other,
                         "terminated"));
    EXPECT_THAT(describe(actions), ElementsAre("InfoChanged"));
    EXPECT_THAT(engine_.info().deregisteredUris, ElementsAre(other));
    EXPECT_TRUE(engine_.info().barredUris.empty());
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);  // our IMPU is untouched
    engine_.notify(at(200), reginfo({contact("active", "registered")}, other, "active", 1));
    EXPECT_TRUE(engine_.info().deregisteredUris.empty());
}

TEST_F(RegEvent, IdentitiesOfOtherRegistrationsAreIgnored) {
    Actions actions = engine_.notify(at(100), reginfo({contact("terminated", "rejected")},
                                                      "sip:stranger@home1.net", "terminated"));
    EXPECT_TRUE(actions.empty());
    EXPECT_TRUE(engine_.info().deregisteredUris.empty());
    EXPECT_TRUE(engine_.info().barredUris.empty());
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

TEST_F(RegEvent, BodiesFullOfTerminatedStrangersKeepNothing) {
    // What once grew BarredUris without bound: thousands of terminated AoRs per NOTIFY.
    for (unsigned round = 0; round < 5; ++round) {
        std::string body = "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"" +
                           std::to_string(round) + "\" state=\"" +
                           (round == 0 ? "full" : "partial") + "\">";
        for (unsigned i = 0; i < 700; ++i)
            body += "<registration aor=\"sip:u" + std::to_string(round * 700 + i) +
                    "@home1.net\" id=\"r" + std::to_string(i) + "\" state=\"terminated\"/>";
        body += "</reginfo>";
        EXPECT_TRUE(engine_.notify(at(100 + round), body).empty());
    }
    EXPECT_TRUE(engine_.info().deregisteredUris.empty());
    EXPECT_TRUE(engine_.info().barredUris.empty());
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

TEST_F(RegEvent, OurImpuTerminatedWithoutOurContactEndsTheRegistration) {
    // RFC 3680: a terminated <registration> has no active contact left, ours included.
    Actions actions = engine_.notify(
        at(100), reginfo({contact("terminated", "expired", "", "sip:10.0.0.77:6101")},
                         std::string(kImpu), "terminated"));
    EXPECT_THAT(describe(actions),
                ElementsAre("RemoveSaSet(1)", "CancelTimer(refresh)", "StateChanged(unregistered)",
                            "RefreshDue(register-again)", "InfoChanged"));
    EXPECT_TRUE(engine_.saSets().empty());
    EXPECT_THAT(engine_.info().lastError, ::testing::HasSubstr("terminated"));

    RegistrationEngine bare(testConfig());
    registerFully(bare, network_, at(0), 3600);
    EXPECT_TRUE(has<action::RefreshDue>(
        bare.notify(at(100), reginfo({}, std::string(kImpu), "terminated"))));
    EXPECT_EQ(bare.state(), RegistrationState::Unregistered);
}

TEST(RegEventOverIpv6, ContactsAreComparedAsUrisNotAsText) {
    RegistrationEngine engine(testConfig("2001:db8::2"));
    Network network;
    OutgoingRegister last = registerFully(engine, network, at(0), 3600);
    ASSERT_THAT(header(last, "Contact"), ::testing::HasSubstr("[2001:db8::2]:6101"));
    // The same address written out in full, with a host in capitals and an explicit user part.
    Actions actions = engine.notify(
        at(100), reginfo({contact("terminated", "deactivated", "",
                                  "sip:[2001:0DB8:0000:0000:0000:0000:0000:0002]:6101")}));
    EXPECT_TRUE(has<action::RefreshDue>(actions));
    EXPECT_EQ(engine.state(), RegistrationState::Unregistered);
}

TEST_F(RegEvent, StaleAndDuplicateVersionsChangeNothing) {
    engine_.notify(at(100),
                   reginfo({contact("active", "registered")}, std::string(kImpu), "active", 0));
    engine_.notify(at(101), reginfo({contact("active", "refreshed")}, std::string(kImpu), "active",
                                    3, "partial"));
    // RFC 3680: a version not above the last one is a duplicate or arrived out of order.
    for (unsigned version : {3u, 2u}) {
        Actions actions =
            engine_.notify(at(102), reginfo({contact("terminated", "deactivated")},
                                            std::string(kImpu), "active", version, "partial"));
        EXPECT_TRUE(actions.empty()) << "version " << version;
        EXPECT_EQ(engine_.state(), RegistrationState::Registered) << "version " << version;
    }
    // The next one counts.
    EXPECT_TRUE(has<action::RefreshDue>(
        engine_.notify(at(103), reginfo({contact("terminated", "deactivated")}, std::string(kImpu),
                                        "active", 4, "partial"))));
    EXPECT_EQ(engine_.state(), RegistrationState::Unregistered);
}

TEST_F(RegEvent, AGapInPartialVersionsAppliesTheNewsAndAsksToResubscribe) {
    engine_.notify(at(100),
                   reginfo({contact("active", "registered")}, std::string(kImpu), "active", 0));
    // Version 1 was lost: what version 2 says still holds, and a full state fetched by a
    // refresh of the subscription brings back what was missed.
    Actions actions =
        engine_.notify(at(101), reginfo({contact("active", "shortened", "expires=\"300\"")},
                                        std::string(kImpu), "active", 2, "partial"));
    EXPECT_THAT(describe(actions),
                ElementsAre("ArmTimer(refresh@251)", "RefreshDue(reauthenticate)",
                            "RefreshDue(resubscribe)", "InfoChanged"));
    // A full state after a gap needs no refresh of the subscription.
    actions = engine_.notify(
        at(102), reginfo({contact("active", "registered")}, std::string(kImpu), "active", 9));
    EXPECT_FALSE(has<action::RefreshDue>(actions));
}

TEST_F(RegEvent, ANewSubscriptionStartsAgainAtVersionZero) {
    engine_.notify(at(100),
                   reginfo({contact("active", "registered")}, std::string(kImpu), "active", 7));
    EXPECT_TRUE(has<action::RefreshDue>(
        engine_.notify(at(101), reginfo({contact("terminated", "deactivated")}))));
}

TEST(RegEventWhileNotRegistered, IsWrongStateAndChangesNothing) {
    RegistrationEngine engine(testConfig());
    Network network;
    std::string body =
        reginfo({contact("terminated", "rejected")}, std::string(kImpu), "terminated");
    auto expectWrongState = [&](const char* when) {
        try {
            engine.notify(at(0), body);
            ADD_FAILURE() << "a NOTIFY was taken " << when;
        } catch (const EngineError& error) {
            EXPECT_EQ(error.code(), EngineErrc::WrongState) << when;
        }
    };
    expectWrongState("before any REGISTER");
    startInitial(engine, at(0));
    expectWrongState("during the initial registration");
    EXPECT_EQ(engine.state(), RegistrationState::Registering);
    EXPECT_TRUE(engine.info().deregisteredUris.empty());
    EXPECT_TRUE(engine.info().barredUris.empty());
}

TEST_F(RegEvent, HostileBodiesAreRefusedByName) {
    // Larger than any registration's state needs (100 KiB).
    std::string huge =
        "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"1\" "
        "state=\"full\">" +
        std::string(100 << 10, ' ') + "</reginfo>";
    // One element with thousands of attributes (each namespace lookup would scan them).
    std::string attributes =
        "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"1\" "
        "state=\"full\"";
    for (int i = 0; i < 5000; ++i) attributes += " a" + std::to_string(i) + "=\"x\"";
    attributes += "><registration aor=\"sip:a@b\" id=\"r\" state=\"active\"/></reginfo>";
    for (const std::string* body : {&huge, &attributes}) {
        try {
            engine_.notify(at(100), *body);
            ADD_FAILURE() << "a hostile body of " << body->size() << " bytes was taken";
        } catch (const EngineError& error) {
            EXPECT_EQ(error.code(), EngineErrc::MalformedBody);
        }
    }
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
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
