// What the network starts: deregistration and re-authentication by reg-event NOTIFY
// (TS 24.229 5.1.1.7, 5.1.2.1; 24.228 flows), each with the SA sets checked on the wire, and
// re-authentication while requests are in flight over the old set (24.229 5.1.1.5.1: the
// old set is deleted only after the first message on the new one and after its own
// transactions end; TS 33.203 7.4), over UDP and TCP.
#include "conformance_case.h"

namespace imsaka::conformance {
namespace {

std::set<uint32_t> spisOf(const SaSet& set) {
    return {set.spiUc, set.spiUs, set.spiPc, set.spiPs};
}

std::set<uint32_t> spisOf(const SaSet& a, const SaSet& b) {
    auto both = spisOf(a);
    both.merge(spisOf(b));
    return both;
}

class NetworkInitiatedCase : public ConformanceCase {
  protected:
    // A reg-event NOTIFY over set, answered 200 over the same set.
    void notifyAndExpectAnswer(const SaSet& set, Subscription& subscription,
                               const std::string& state, const std::string& body) {
        Sent notify = ss().notify(set, transport(), subscription, state, body);
        Inbound answer = ss().expectResponse(notify);
        auto verdict = checkResponseTo(answer, notify, 200);
        EXPECT_TRUE(verdict.ok()) << verdict.report(answer.message.text());
        expectOnSet(answer, set, "the 200 to the NOTIFY (24.229 5.1.1.5.1 NOTE 2)");
    }

    // A MESSAGE from the network over set, answered 200 over it.
    void messageOver(const SaSet& set, const std::string& contact, const std::string& what) {
        Sent message = ss().message(set, transport(), contact, what);
        auto answer = ss().waitForResponse(message, 20s);
        ASSERT_TRUE(answer.has_value())
            << "no answer to the MESSAGE " << what << " over " << set.describe() << "\n"
            << diagnostics();
        auto verdict = checkResponseTo(*answer, message, 200);
        EXPECT_TRUE(verdict.ok()) << verdict.report(answer->message.text());
        expectOnSet(*answer, set, "the 200 to the MESSAGE " + what);
    }

    // A re-REGISTER over the set in use with a Security-Client for the next set: 34.229-1
    // 8.2.4's rules (new spi-c, spi-s, port-c; the same port-s).
    Inbound expectReauthenticationRegister(const Registration& registration,
                                           Clock::duration bound) {
        Inbound refresh = ss().expectRequest("REGISTER", bound);
        expectOnSet(refresh, registration.set, "the re-REGISTER");
        RegisterExpectation expected = protectedExpectation(registration.set, nullptr);
        expected.lastNonce = registration.challenge.vector.nonce;
        expected.lastRealm = ss().options().domain;
        expectRegister(refresh, expected);
        for (const char* name : {"spi-c", "spi-s", "port-c"})
            EXPECT_NE(securityClientParameter(refresh, name),
                      securityClientParameter(registration.answer, name))
                << "34.229-1 8.2.4: Security-Client " << name << " new";
        EXPECT_EQ(securityClientParameter(refresh, "port-s"),
                  securityClientParameter(registration.answer, "port-s"))
            << "34.229-1 8.2.4: Security-Client port-s kept";
        return refresh;
    }
};

class Ts24229_5_1_1_7_NetworkDeregistration : public NetworkInitiatedCase {};
class Ts24229_5_1_2_1_NetworkReauthentication : public NetworkInitiatedCase {};

// 24.229 5.1.1.7: all registrations terminated with event "deactivated": the UE answers,
// removes the registration and its SAs, and starts an initial registration (with a new
// subscription, 5.1.1.3).
TEST_F(Ts24229_5_1_1_7_NetworkDeregistration, DeactivatedRegistersAgainFromScratch) {
    if (!start({})) return;
    run([&] {
        Registration registration = registerUe();
        notifyAndExpectAnswer(registration.set, *registration.subscription,
                              "terminated;reason=deactivated",
                              reginfo(registration, "terminated", "deactivated", std::nullopt));
        Inbound again = expectInitialRegister();
        expectUeSpis({}, "24.229 5.1.1.7: the SAs of the ended registration are deleted");
        Challenge challenge = ss().challenge(again);
        Inbound answer = expectChallengeAnswer(challenge);
        ss().acceptRegister(answer, 600000);
        client().waitFor("registered", 30s);
        registration.movedTo(challenge, answer);
        registration.subscription = subscribeSteps(registration.set, challenge.securityServer);
        checkWire();
        deregisterUe(registration);
    });
}

// 24.229 5.1.1.7: event "rejected": the UE answers, removes everything, and does not
// register again by itself.
TEST_F(Ts24229_5_1_1_7_NetworkDeregistration, RejectedEndsWithNothingLeft) {
    if (!start({})) return;
    run([&] {
        Registration registration = registerUe();
        notifyAndExpectAnswer(registration.set, *registration.subscription,
                              "terminated;reason=rejected",
                              reginfo(registration, "terminated", "rejected", std::nullopt));
        client().waitFor("failed", 20s, {{"error", "terminated"}});
        expectNothingLeft(registration.path);
        expectQuiet("REGISTER", 8s, "24.229 5.1.1.7: no new registration after \"rejected\"");
        checkWire();
    });
}

// The same as "deactivated", the NOTIFY naming the contact in another, equivalent form of
// its IPv6 address (RFC 3261 19.1.4 compares hosts, not text; RFC 5952 forms differ).
TEST_F(Ts24229_5_1_1_7_NetworkDeregistration, ContactMatchedWhateverTheIpv6Form) {
    CaseSetup setup;
    setup.addresses = kIpv6;
    if (!start(setup)) return;
    run([&] {
        Registration registration = registerUe();
        std::string contact = contactUri(registration.answer.message);
        auto uri = parseUri(contact);
        std::string expanded =
            "sip:[fd46:0:0:0:0:0:0:1]:" + std::to_string(uri.port.value_or(5060));
        ASSERT_EQ(uri.host, "fd46::1");
        notifyAndExpectAnswer(
            registration.set, *registration.subscription, "terminated;reason=deactivated",
            reginfo(registration, "terminated", "deactivated", std::nullopt, expanded));
        Inbound again = expectInitialRegister();
        expectUeSpis({}, "24.229 5.1.1.7: the SAs of the ended registration are deleted");
        checkWire();
    });
}

// 24.229 5.1.2.1 (event "shortened"): the UE re-authenticates before the shortened expiry:
// a re-REGISTER over the set in use, a 401, a new set, the 200; the first message over the
// new set retires the old one.
TEST_F(Ts24229_5_1_2_1_NetworkReauthentication, ShortenedReauthenticatesOverANewSet) {
    if (!start({})) return;
    run([&] {
        Registration registration = registerUe();
        notifyAndExpectAnswer(registration.set, *registration.subscription, "active;expires=600000",
                              reginfo(registration, "active", "shortened", 30u));
        Inbound refresh = expectReauthenticationRegister(registration, 30s);
        Challenge challenge = ss().challenge(refresh);
        Inbound answer = expectChallengeAnswer(challenge);
        ss().acceptRegister(answer, 600000);
        client().waitFor("registered", 30s);
        const SaSet old = registration.set;
        registration.movedTo(challenge, answer);
        messageOver(registration.set, contactUri(answer.message), "over the new set");
        expectUeSpis(spisOf(registration.set),
                     "only the new set once it carried a message; the old was " + old.describe());
        checkWire();
        deregisterUe(registration);
    });
}

class Ts24229_5_1_1_5_1_InFlight : public NetworkInitiatedCase,
                                   public ::testing::WithParamInterface<Transport> {};

// Re-authentication (NOTIFY shortened) while the network sends over the old set: a MESSAGE
// over it while the new set is temporary, and another once the new set is established but
// before anything arrived on it. The UE answers both over the old set, which lives until
// the first message over the new set (24.229 5.1.1.5.1, TS 33.203 7.4).
TEST_P(Ts24229_5_1_1_5_1_InFlight, OldSetServesItsTransactionsUntilTheNewOneIsUsed) {
    CaseSetup setup;
    setup.transport = GetParam();
    if (!start(setup)) return;
    run([&] {
        Registration registration = registerUe();
        const SaSet old = registration.set;
        const std::string oldContact = contactUri(registration.answer.message);
        notifyAndExpectAnswer(old, *registration.subscription, "active;expires=600000",
                              reginfo(registration, "active", "shortened", 30u));
        Inbound refresh = expectReauthenticationRegister(registration, 30s);
        Challenge challenge = ss().challenge(refresh);
        Inbound answer = expectChallengeAnswer(challenge);
        messageOver(old, oldContact, "over the old set while the new one is temporary");
        ss().acceptRegister(answer, 600000);
        client().waitFor("registered", 30s);
        registration.movedTo(challenge, answer);
        messageOver(old, oldContact, "over the old set after the new one is established");
        expectUeSpis(spisOf(old, registration.set),
                     "both sets while nothing came over the new one");
        messageOver(registration.set, contactUri(answer.message), "over the new set");
        expectUeSpis(spisOf(registration.set), "only the new set after a message came over it");
        checkWire();
        deregisterUe(registration);
    });
}

INSTANTIATE_TEST_SUITE_P(, Ts24229_5_1_1_5_1_InFlight,
                         ::testing::Values(Transport::Udp, Transport::Tcp), [](const auto& tested) {
                             return std::string(tested.param == Transport::Udp ? "udp" : "tcp");
                         });

}  // namespace
}  // namespace imsaka::conformance
