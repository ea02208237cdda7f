#include "conformance_case.h"

#include <signal.h>

#include <iostream>
#include <map>
#include <thread>

namespace imsaka::conformance {
namespace {

// TS 23.003 13.2 to 13.4: a 2-digit MNC gets a leading 0.
std::string derivedDomain(const testing::CardProfile& card) {
    std::string mcc = card.imsi.substr(0, 3);
    std::string mnc = card.imsi.substr(3, static_cast<size_t>(card.mncLength));
    if (mnc.size() == 2) mnc = "0" + mnc;
    return "ims.mnc" + mnc + ".mcc" + mcc + ".3gppnetwork.org";
}

}  // namespace

std::string topViaBranch(const Inbound& message) {
    try {
        auto vias = message.message.values("Via");
        if (vias.empty()) return {};
        const Via via = parseVia(vias.front());
        const auto* branch = findParameter(via.parameters, "branch");
        return branch ? branch->value.value_or("") : std::string();
    } catch (const SipSyntaxError&) {
        return {};
    }
}

std::string securityClientParameter(const Inbound& request, const char* name) {
    try {
        auto mechanisms =
            parseSecurityMechanisms(request.message.first("Security-Client").value_or(""));
        if (mechanisms.empty()) return {};
        const auto* parameter = findParameter(mechanisms.front().parameters, name);
        return parameter ? parameter->value.value_or("") : std::string();
    } catch (const SipSyntaxError&) {
        return {};
    }
}

void Registration::movedTo(const Challenge& newChallenge, const Inbound& newAnswer) {
    challenge = newChallenge;
    answer = newAnswer;
    set = *newChallenge.set;
}

UeIdentity ConformanceCase::identity() const {
    const auto& card = setup_.ue.card;
    UeIdentity id;
    id.address = setup_.addresses.ue;
    if (card.isim) {
        id.impi = card.impi;
        id.impu = card.impus.front();
        id.domain = card.domain;
    } else {
        id.domain = derivedDomain(card);
        id.impi = card.imsi + "@" + id.domain;
        id.impu = "sip:" + id.impi;
    }
    return id;
}

bool ConformanceCase::start(CaseSetup setup) {
    setup_ = std::move(setup);
    SsOptions& ss = setup_.ss;
    if (ss.k.empty()) ss.k = testing::kK;
    if (ss.opc.empty()) ss.opc = testing::kOpc;
    if (ss.domain.empty()) ss.domain = identity().domain;
    if (ss.associatedUris.empty()) {
        // 34.229-1 A.1.3: the IMPUs of the ISIM and a TEL URI; without an ISIM, the same kind
        // of set, never the temporary identity (NOTE 1).
        if (usesIsim())
            ss.associatedUris = setup_.ue.card.impus;
        else
            ss.associatedUris = {"sip:+15551230001@" + ss.domain, "tel:+15551230001"};
    }
    try {
        network_ = std::make_unique<ConformanceNetwork>(setup_.addresses, setup_.ue, ss);
        std::vector<std::string> args = setup_.clientArgs;
        network_->startClient(setup_.transport == Transport::Udp ? "udp" : "tcp", args);
        return true;
    } catch (const daemontest::MissingPrerequisite& missing) {
        ADD_FAILURE() << "missing prerequisite: " << missing.what();
    } catch (const std::exception& error) {
        ADD_FAILURE() << "cannot start the conformance network: " << error.what() << "\n"
                      << diagnostics();
    }
    return false;
}

void ConformanceCase::TearDown() {
    // A failed case shows every log of its network once (the SS's, the client's, imsakad's,
    // both sides' SAs and the wire).
    if (HasFailure() && network_) std::cout << "--- diagnostics ---\n" << diagnostics();
    network_.reset();
}

void ConformanceCase::expectRegister(const Inbound& request, const RegisterExpectation& expected) {
    auto verdict = checkRegister(request, expected);
    EXPECT_TRUE(verdict.ok()) << verdict.report(request.message.text());
}

RegisterExpectation ConformanceCase::initialExpectation() const {
    RegisterExpectation expected;
    expected.identity = identity();
    expected.transport = setup_.transport;
    return expected;
}

RegisterExpectation ConformanceCase::protectedExpectation(const SaSet& over,
                                                          const Challenge* answering) const {
    RegisterExpectation expected = initialExpectation();
    expected.over = over;
    expected.answering = answering;
    return expected;
}

void ConformanceCase::expectUnprotected(const Inbound& message, const std::string& what) {
    EXPECT_EQ(message.local.port, ss().options().unprotectedPort)
        << what << " must reach the P-CSCF's unprotected port (24.229 5.1.1.2.1)";
    EXPECT_FALSE(ss().setOf(message).has_value()) << what << " travelled on an SA set";
}

void ConformanceCase::expectOnSet(const Inbound& message, const SaSet& set,
                                  const std::string& what) {
    auto on = ss().setOf(message);
    ASSERT_TRUE(on.has_value()) << what
                                << " did not travel between the protected ports of any set: "
                                << message.remote.text() << " > " << message.local.text();
    EXPECT_EQ(on->id, set.id) << what << " travelled on " << on->describe() << ", not on "
                              << set.describe();
    // ESP toward the P-CSCF with the SPI of the inbound SA it must have used.
    uint32_t spi = message.local.port == set.portPs ? set.spiPs : set.spiPc;
    auto deadline = Clock::now() + 10s;
    while (network_->capture().espCount(spi) == 0 && Clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    EXPECT_GT(network_->capture().espCount(spi), 0u)
        << what << ": no ESP packet with SPI " << spi << " on the wire";
}

Inbound ConformanceCase::expectInitialRegister(Clock::duration timeout) {
    Inbound request = ss().expectRequest("REGISTER", timeout);
    expectUnprotected(request, "the unprotected REGISTER");
    expectRegister(request, initialExpectation());
    return request;
}

Inbound ConformanceCase::expectChallengeAnswer(const Challenge& challenge,
                                               std::optional<uint32_t> expires,
                                               Clock::duration timeout) {
    Inbound request = ss().expectRequest("REGISTER", timeout);
    if (!challenge.set) {
        ADD_FAILURE() << "the SS installed no set for this challenge";
        return request;
    }
    // 34.229-1 8.1.5 step 3: sent over the temporary set, between the announced ports.
    expectOnSet(request, *challenge.set, "the REGISTER answering the 401");
    RegisterExpectation expected = protectedExpectation(*challenge.set, &challenge);
    expected.authorization = ss().verify(request, challenge);
    expected.expires = expires;
    expectRegister(request, expected);
    return request;
}

Registration ConformanceCase::registerUe(const RegisterSteps& steps) {
    std::string path = client().waitFor("created").at("path");
    Inbound initial = expectInitialRegister();
    Challenge challenge = ss().challenge(initial, steps.challenge);
    Inbound answer = expectChallengeAnswer(challenge);
    Registration registration = accept(path, challenge, answer, steps.expires);
    registration.initial = initial;
    if (steps.subscribe)
        registration.subscription = subscribeSteps(registration.set, challenge.securityServer);
    return registration;
}

Registration ConformanceCase::accept(const std::string& path, const Challenge& challenge,
                                     const Inbound& answer, uint32_t expires) {
    Registration registration;
    registration.path = path;
    registration.challenge = challenge;
    registration.answer = answer;
    registration.set = *challenge.set;
    registration.expires = expires;
    ss().acceptRegister(answer, expires);
    registration.acceptedAt = Clock::now();
    client().waitFor("registered", 30s);
    return registration;
}

Subscription ConformanceCase::subscribeSteps(const SaSet& set, const std::string& securityServer) {
    Inbound subscribe = ss().expectRequest("SUBSCRIBE");
    // 34.229-1 8.1.5 step 5: over the newly established set.
    expectOnSet(subscribe, set, "the SUBSCRIBE");
    SubscribeExpectation expected;
    expected.identity = identity();
    // 24.229 5.1.1.3 / A.1.4 NOTE 2: without an ISIM, the default public user identity.
    expected.subscribedIdentity =
        usesIsim() ? identity().impu : ss().options().associatedUris.front();
    expected.over = set;
    expected.transport = setup_.transport;
    expected.securityServer = securityServer;
    expected.serviceRoute = ss().options().serviceRoute;
    auto verdict = checkSubscribe(subscribe, expected);
    EXPECT_TRUE(verdict.ok()) << verdict.report(subscribe.message.text());

    Subscription subscription = ss().acceptSubscribe(subscribe);
    std::string body = reginfoDocument(
        reginfoVersion_++, {{identity().impu,
                             "a100",
                             "active",
                             {{"980", "active", "registered", contactUri(subscribe.message),
                               std::nullopt, "", std::nullopt}}}});
    Sent notify = ss().notify(set, setup_.transport, subscription, "active;expires=600000", body);
    Inbound answer = ss().expectResponse(notify);
    auto answered = checkResponseTo(answer, notify, 200);
    EXPECT_TRUE(answered.ok()) << answered.report(answer.message.text());
    expectOnSet(answer, set, "the 200 to the NOTIFY");
    client().waitFor("notify", 20s);
    return subscription;
}

void ConformanceCase::deregisterUe(const Registration& registration) {
    kill(client().pid(), SIGTERM);
    Inbound request = ss().expectRequest("REGISTER");
    expectOnSet(request, registration.set, "the deregistration");
    RegisterExpectation expected = protectedExpectation(registration.set, nullptr);
    expected.deregistration = true;
    expected.lastNonce = registration.challenge.vector.nonce;
    expected.lastRealm = ss().options().domain;
    expectRegister(request, expected);
    ss().acceptRegister(request, 0);
    client().waitFor("deregistered", 20s);
    EXPECT_EQ(client().waitExit(20s), 0) << "the client's exit after deregistering";
    expectNothingLeft(registration.path);
}

void ConformanceCase::expectNothingLeft(const std::string& path, Clock::duration timeout) {
    auto deadline = Clock::now() + timeout;
    UeKernel kernel = ueKernel();
    while ((!kernel.keyedSpis.empty() || kernel.policies != 0) && Clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
        kernel = ueKernel();
    }
    EXPECT_TRUE(kernel.keyedSpis.empty()) << "SAs left in the UE's kernel\n" << kernel.text;
    EXPECT_EQ(kernel.policies, 0u) << "policies left in the UE's kernel\n" << kernel.text;
    try {
        auto objects = daemontest::saObjects(*network_->ue().connection, path);
        EXPECT_TRUE(objects.empty()) << objects.size() << " SA set object(s) left under " << path;
    } catch (const sdbus::Error&) {
        // The registration object itself is gone (closed): nothing under it either.
    }
}

void ConformanceCase::expectUeSpis(const std::set<uint32_t>& spis, const std::string& what,
                                   Clock::duration timeout) {
    auto deadline = Clock::now() + timeout;
    UeKernel kernel = ueKernel();
    while (kernel.keyedSpis != spis && Clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
        kernel = ueKernel();
    }
    EXPECT_EQ(kernel.keyedSpis, spis) << what << "\n" << kernel.text;
}

void ConformanceCase::expectQuiet(std::string_view method, Clock::duration duration,
                                  const std::string& why) {
    auto request = ss().waitForRequest(method, duration);
    EXPECT_FALSE(request.has_value()) << why << ": yet the UE sent\n"
                                      << (request ? request->message.text() : "");
}

void ConformanceCase::checkWire() {
    const auto& handedOut = ss().handedOut();
    auto clear = network_->capture().clearSipOn(handedOut.ports);
    EXPECT_TRUE(clear.empty()) << clear.size()
                               << " SIP message(s) in clear on protected ports, first: "
                               << (clear.empty() ? "" : clear.front().describe());
    // Every ESP packet to the P-CSCF carries an SPI the SS handed out for its inbound SAs.
    for (const auto& packet : network_->capture().packets()) {
        if (packet.toPcscf && packet.esp()) {
            EXPECT_TRUE(handedOut.spis.count(packet.spi))
                << "ESP to the P-CSCF with an SPI the P-CSCF never gave: " << packet.describe();
        }
    }
}

std::string ConformanceCase::reginfo(const Registration& registration, const std::string& state,
                                     const std::string& event, std::optional<uint32_t> expires,
                                     const std::string& contact) {
    std::string uri = contact.empty() ? contactUri(registration.answer.message) : contact;
    std::vector<ReginfoRegistration> registrations;
    int id = 100;
    for (const auto& aor : ss().options().associatedUris) {
        registrations.push_back(
            {aor,
             "a" + std::to_string(id),
             state == "active" ? "active" : "terminated",
             {{std::to_string(id + 880), state, event, uri, expires, "", std::nullopt}}});
        ++id;
    }
    if (!usesIsim())
        registrations.insert(registrations.begin(),
                             {identity().impu,
                              "a99",
                              state == "active" ? "active" : "terminated",
                              {{"979", state, event, uri, expires, "", std::nullopt}}});
    return reginfoDocument(reginfoVersion_++, registrations);
}

}  // namespace imsaka::conformance
