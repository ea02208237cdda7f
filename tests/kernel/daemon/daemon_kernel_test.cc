// imsakad through its D-Bus interface, with real components: a private bus, pcscd with the
// virtual card, and the kernel of user-mode Linux holding the SAs. The network side is
// imsaka::testing::ImsNetwork; requests and responses travel as header lists.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>

#include "imsaka/ipsec/address.h"
#include "scenario.h"

namespace imsaka::daemontest {
namespace {

using namespace std::chrono_literals;
using testing::AuthorizationKind;
using testing::headerValue;
using testing::headerValues;
using testing::ImsNetwork;

std::string hex(uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

bool mentions(const std::vector<std::string>& values, const std::string& word) {
    return std::any_of(values.begin(), values.end(),
                       [&](const auto& value) { return value.find(word) != std::string::npos; });
}

// The hard lifetime in seconds ("expire add: ... hard N(sec)") of each keyed SA that
// `ip -s xfrm state` printed.
std::vector<uint64_t> hardLifetimes(const std::string& ipXfrmState) {
    std::vector<uint64_t> lifetimes;
    size_t stanza = 0;
    while (stanza < ipXfrmState.size()) {
        size_t next = ipXfrmState.find("\nsrc ", stanza);
        std::string text =
            ipXfrmState.substr(stanza, next == std::string::npos ? next : next - stanza);
        auto expire = text.find("expire add:");
        auto hard = expire == std::string::npos ? expire : text.find("hard ", expire);
        if (text.find("auth-trunc") != std::string::npos && hard != std::string::npos)
            lifetimes.push_back(std::stoull(text.substr(hard + 5)));
        if (next == std::string::npos) break;
        stanza = next + 1;
    }
    return lifetimes;
}

// Polls until the kernel holds nothing of ours, up to timeout; returns the last view.
KernelView waitUntilClean(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        auto view = kernelView();
        if ((view.ownSas == 0 && view.ownPolicies == 0) ||
            std::chrono::steady_clock::now() > deadline)
            return view;
        std::this_thread::sleep_for(10ms);
    }
}

// A child of this test program (exec'd again, so that it has its own D-Bus connection and no
// inherited threads) whose output lines the parent reads.
class Child {
  public:
    explicit Child(std::vector<std::string> args) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            dup2(fds[1], STDOUT_FILENO);
            std::vector<char*> argv{const_cast<char*>("/proc/self/exe")};
            for (auto& arg : args) argv.push_back(arg.data());
            argv.push_back(nullptr);
            execv("/proc/self/exe", argv.data());
            _exit(127);
        }
        close(fds[1]);
        output_ = fdopen(fds[0], "r");
    }
    ~Child() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (output_) fclose(output_);
    }
    // The next line the child printed, or "" when it ended.
    std::string line() {
        char buffer[512];
        if (!fgets(buffer, sizeof buffer, output_)) return "";
        std::string text(buffer);
        if (!text.empty() && text.back() == '\n') text.pop_back();
        return text;
    }
    void killNow() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

  private:
    pid_t pid_ = -1;
    FILE* output_ = nullptr;
};

class DaemonKernelTest : public ::testing::Test {
  protected:
    void start(const testing::CardProfile& profile = {}, const std::string& extraPolicy = "",
               const std::string& extraConfig = "") {
        if (auto error = startSandbox(sandbox_, profile, extraPolicy, extraConfig); !error.empty())
            FAIL() << error;
    }
    void TearDown() override {
        if (HasFailure() && sandbox_) std::cerr << sandbox_->diagnostics();
    }

    Sandbox& sandbox() { return *sandbox_; }
    sdbus::IConnection& bus() { return *sandbox_->connection; }

    std::unique_ptr<Sandbox> sandbox_;
};

TEST_F(DaemonKernelTest, ChallengeRoundTripInstallsTheSaSetAndRegisters) {
    ASSERT_NO_FATAL_FAILURE(start());
    ImsNetwork network;
    auto installed = static_cast<uint64_t>(std::time(nullptr));  // no later than the install
    auto registration = createAndChallenge(bus(), network, sandbox().registrationOptions());

    // The unprotected REGISTER.
    const auto& initial = registration.initial;
    EXPECT_FALSE(initial.protectedBySa());
    auto first = initial.headers();
    auto emptyAnswer = sip::parseAuthorization(headerValue(first, "Authorization").value_or(""));
    EXPECT_EQ(emptyAnswer.username, kImpi);
    EXPECT_TRUE(emptyAnswer.response.empty());
    EXPECT_TRUE(headerValue(first, "Security-Client").has_value());
    EXPECT_TRUE(mentions(headerValues(first, "Require"), "sec-agree"));
    EXPECT_TRUE(mentions(headerValues(first, "Proxy-Require"), "sec-agree"));
    EXPECT_TRUE(mentions(headerValues(first, "Contact"), "+sip.instance"));

    // The protected REGISTER answering the 401.
    const auto& answer = registration.answer;
    const auto& challenge = registration.challenge;
    ASSERT_EQ(answer.next, "send");
    EXPECT_TRUE(answer.protectedBySa());
    EXPECT_EQ(answer.localPort(), challenge.ue.portC);
    EXPECT_EQ(answer.remotePort(), challenge.pcscf.portS);
    EXPECT_EQ(answer.remoteAddress(), kPcscfAddress);
    auto check = network.checkAuthorization(answer.headers(), answer.uri());
    EXPECT_EQ(check.kind, AuthorizationKind::Valid);
    EXPECT_EQ(check.credentials.response, check.expectedResponse);
    EXPECT_TRUE(check.securityVerifyMatches);
    EXPECT_TRUE(check.securityClientMatches);

    // The temporary SA set, in the kernel and on the bus.
    auto kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 4u) << kernel.ipXfrmState;
    EXPECT_EQ(kernel.ownPolicies, 8u) << "four policies and four guards:\n" << kernel.ipXfrmPolicy;
    EXPECT_EQ(hardLifetimes(kernel.ipXfrmState), std::vector<uint64_t>(4, kRegAwaitAuth))
        << kernel.ipXfrmState;
    for (uint32_t spi :
         {challenge.ue.spiC, challenge.ue.spiS, challenge.pcscf.spiC, challenge.pcscf.spiS})
        EXPECT_NE(kernel.ipXfrmState.find("spi " + hex(spi)), std::string::npos) << hex(spi);
    // The 33.203 pairs: uc <-> ps (SAs A and B), us <-> pc (C and D).
    for (auto [from, to] : {std::pair{challenge.ue.portC, challenge.pcscf.portS},
                            std::pair{challenge.pcscf.portS, challenge.ue.portC},
                            std::pair{challenge.pcscf.portC, challenge.ue.portS},
                            std::pair{challenge.ue.portS, challenge.pcscf.portC}}) {
        std::string selector = "sport " + std::to_string(from) + " dport " + std::to_string(to);
        EXPECT_NE(kernel.ipXfrmPolicy.find(selector), std::string::npos) << selector << " in\n"
                                                                         << kernel.ipXfrmPolicy;
    }
    auto sets = saObjects(bus(), registration.path);
    ASSERT_EQ(sets.size(), 1u);
    SecurityAssociationProxy set(bus(), sets[0]);
    EXPECT_EQ(set.State(), "temporary");
    EXPECT_EQ(set.SpiUc(), challenge.ue.spiC);
    EXPECT_EQ(set.SpiUs(), challenge.ue.spiS);
    EXPECT_EQ(set.SpiPc(), challenge.pcscf.spiC);
    EXPECT_EQ(set.SpiPs(), challenge.pcscf.spiS);
    EXPECT_EQ(set.PortPs(), challenge.pcscf.portS);
    EXPECT_EQ(set.PcscfAddress(), kPcscfAddress);

    // 200 OK: registered, the set established with the registration's lifetime.
    std::vector<std::string> uris = {kImpu, "tel:+15550000001"};
    auto ok = network.ok(answer.headers(), 3600, uris, {"sip:orig@scscf.example.org;lr"});
    auto now = static_cast<uint64_t>(std::time(nullptr));
    auto done = step(registration.registration->HandleResponse(200, toDbus(ok)));
    auto answered = static_cast<uint64_t>(std::time(nullptr));
    EXPECT_TRUE(done.next == "done" || done.next == "wait") << done.next;
    EXPECT_EQ(registration.registration->State(), "registered");
    // Bounds from the clock around the call, however long it took on a busy host.
    EXPECT_GE(registration.registration->Expires(), now + 3600 - 1);
    EXPECT_LE(registration.registration->Expires(), answered + 3600 + 1);
    EXPECT_EQ(registration.registration->AssociatedUris(), uris);
    auto serviceRoute = registration.registration->ServiceRoute();
    ASSERT_EQ(serviceRoute.size(), 1u);
    EXPECT_NE(serviceRoute[0].find("sip:orig@scscf.example.org;lr"), std::string::npos);
    EXPECT_EQ(set.State(), "established");
    EXPECT_GE(set.Expires(), now + 3600);
    // The kernel counts from when each SA was added: the seconds since then come on top.
    kernel = kernelView();
    auto lifetimes = hardLifetimes(kernel.ipXfrmState);
    EXPECT_EQ(lifetimes.size(), 4u) << kernel.ipXfrmState;
    for (uint64_t lifetime : lifetimes) {
        EXPECT_GE(lifetime, 3600 + kSaGrace);
        EXPECT_LE(lifetime, 3600 + kSaGrace + (answered - installed) + 1);
    }

    // ESP through SA A: a datagram from port_uc to the P-CSCF's port_ps on the daemon's
    // socket, counted by the SA and seen as ESP with spi_ps at the P-CSCF's end.
    auto socket = registration.registration->OpenSocket("udp", "client");
    sdbus::UnixFd esp(pcscfEspSocket(), sdbus::adopt_fd);
    const std::string_view payload = "REGISTER over ESP";
    ASSERT_EQ(sendToPcscf(socket.get(), challenge.pcscf.portS, payload),
              static_cast<ssize_t>(payload.size()))
        << std::strerror(errno);
    uint64_t packetsOnA = 0;
    for (const auto& counter : set.GetCounters())
        if (counter.get<0>() == "A") packetsOnA = counter.get<3>();
    EXPECT_GE(packetsOnA, 1u);
    EXPECT_EQ(nextEspSpi(esp.get(), 2s), std::optional(challenge.pcscf.spiS));

    // SIGTERM: the daemon ends cleanly and takes its SAs with it.
    int status = sandbox().daemon->stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
    auto after = kernelView();
    EXPECT_EQ(after.ownSas, 0u) << after.ipXfrmState;
    EXPECT_EQ(after.ownPolicies, 0u) << after.ipXfrmPolicy;
}

TEST_F(DaemonKernelTest, SyncFailureAnswersWithAutsAndInstallsNothing) {
    testing::CardProfile ahead;
    ahead.sqn = 0x10000;  // the card has seen far more than the network's SQN 32
    ASSERT_NO_FATAL_FAILURE(start(ahead));
    ImsNetwork network;
    auto registration = createAndChallenge(bus(), network, sandbox().registrationOptions());
    ASSERT_EQ(registration.answer.next, "send");
    EXPECT_FALSE(registration.answer.protectedBySa());
    auto check =
        network.checkAuthorization(registration.answer.headers(), registration.answer.uri());
    EXPECT_EQ(check.kind, AuthorizationKind::SyncFailure);
    EXPECT_EQ(check.sqnMs, 0x10000u);
    auto kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 0u) << kernel.ipXfrmState;
    EXPECT_EQ(kernel.ownPolicies, 0u) << kernel.ipXfrmPolicy;
    EXPECT_TRUE(saObjects(bus(), registration.path).empty());

    // The network resynchronises; the next challenge succeeds.
    network.resynchronise(*check.sqnMs);
    auto again = network.challenge(registration.answer.headers());
    auto answer = step(registration.registration->HandleResponse(401, toDbus(again.headers)));
    EXPECT_EQ(network.checkAuthorization(answer.headers(), answer.uri()).kind,
              AuthorizationKind::Valid);
    EXPECT_EQ(kernelView().keyedSas, 4u);
}

TEST_F(DaemonKernelTest, MacFailureAnswersWithAnEmptyResponseAndInstallsNothing) {
    ASSERT_NO_FATAL_FAILURE(start());
    ImsNetwork impostor({.k = "000102030405060708090a0b0c0d0e0f"});
    auto registration = createAndChallenge(bus(), impostor, sandbox().registrationOptions());
    ASSERT_EQ(registration.answer.next, "send") << registration.registration->LastError();
    auto check =
        impostor.checkAuthorization(registration.answer.headers(), registration.answer.uri());
    EXPECT_EQ(check.kind, AuthorizationKind::MacFailure);
    EXPECT_FALSE(check.credentials.auts.has_value());
    auto kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 0u) << kernel.ipXfrmState;
    EXPECT_EQ(kernel.ownPolicies, 0u) << kernel.ipXfrmPolicy;
}

TEST_F(DaemonKernelTest, CardPulledDuringAChallengeIsANamedErrorAndInstallsNothing) {
    ASSERT_NO_FATAL_FAILURE(start());
    ImsNetwork network;
    ManagerProxy manager(bus(), "/org/imsaka");
    std::string path = manager.CreateRegistration(sandbox().registrationOptions());
    RegistrationProxy registration(bus(), path);
    auto initial = step(registration.Register());
    auto challenge = network.challenge(initial.headers());
    sandbox().card->pull();
    auto error = errorNameOf([&] { registration.HandleResponse(401, toDbus(challenge.headers)); });
    EXPECT_EQ(error, "org.imsaka.Error.CardAbsent");
    auto kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 0u) << kernel.ipXfrmState;
    EXPECT_EQ(kernel.ownPolicies, 0u) << kernel.ipXfrmPolicy;
    // The bus interface still answers while the reader is empty.
    CardProxy card(bus(), sandbox().cardPath);
    EXPECT_EQ(card.State(), "absent");
}

TEST_F(DaemonKernelTest, AClientThatCrashesLosesItsSas) {
    ASSERT_NO_FATAL_FAILURE(start());
    Child client({"--challenged-client", sandbox().cardPath});
    std::string ready = client.line();
    ASSERT_EQ(ready.rfind("challenged ", 0), 0u) << "the client said: " << ready;
    std::string path = ready.substr(std::strlen("challenged "));
    ASSERT_EQ(kernelView().keyedSas, 4u);

    client.killNow();
    auto view = waitUntilClean(30s);  // a bound, not a promise of speed: the host may be busy
    EXPECT_EQ(view.ownSas, 0u) << view.ipXfrmState;
    EXPECT_EQ(view.ownPolicies, 0u) << view.ipXfrmPolicy;
    ObjectsProxy objects(bus());
    EXPECT_EQ(objects.GetManagedObjects().count(sdbus::ObjectPath(path)), 0u);
}

// "nobody" is stopped by the bus policy (dbus/org.imsaka.conf). "daemon" (uid 1), let
// through by this test's bus, reaches imsakad, which checks raw AUTHENTICATE itself.
const char* kLetDaemonUserThrough =
    "<policy user=\"daemon\"><allow send_destination=\"org.imsaka\"/></policy>";

TEST_F(DaemonKernelTest, UnprivilegedCallersAreRefused) {
    ASSERT_NO_FATAL_FAILURE(start({}, kLetDaemonUserThrough));
    {
        Child nobody({"--unprivileged-client", "nobody", sandbox().cardPath});
        EXPECT_EQ(nobody.line(), "org.freedesktop.DBus.Error.AccessDenied");  // CreateRegistration
        EXPECT_EQ(nobody.line(), "org.freedesktop.DBus.Error.AccessDenied");  // Authenticate
    }
    {
        Child daemonUser({"--unprivileged-client", "daemon", sandbox().cardPath});
        // CreateRegistration: "daemon" is not in the access group (root in this test).
        EXPECT_EQ(daemonUser.line(), "org.imsaka.Error.NotAllowed");
        EXPECT_EQ(daemonUser.line(), "org.imsaka.Error.NotAllowed");  // Authenticate
    }
    EXPECT_EQ(kernelView().ownPolicies, 0u);

    // Root may: the card answers the network's vector.
    ImsNetwork network;
    auto vector = milenage::generateVector(
        milenage::Milenage(*fromHex(network.options().k), *fromHex(network.options().opc)),
        milenage::sqnFromInt(32), *fromHex("8000"));
    CardProxy card(bus(), sandbox().cardPath);
    auto [result, res, ck, ik, auts] = card.Authenticate(vector.rand, vector.autn);
    EXPECT_EQ(result, "success");
    EXPECT_EQ(secureCopy(res), vector.xres);
}

// The application's Contact feature tags and extra headers (TS 24.229 5.1.1.2.1 c), h)) on
// every REGISTER, changed with Update; a changed tag set registers at once (5.1.1.4.1).
TEST_F(DaemonKernelTest, FeatureTagsAndHeadersGoOnEveryRegisterAndUpdateChangesThem) {
    ASSERT_NO_FATAL_FAILURE(start());
    ImsNetwork network;
    const std::string mmtel = "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"";
    const std::string lte = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=2620100010000001A";
    using Pairs = std::vector<sdbus::Struct<std::string, std::string>>;
    auto options = sandbox().registrationOptions();
    options["feature_tags"] = sdbus::Variant(std::vector<std::string>{mmtel, "+g.3gpp.smsip"});
    options["headers"] =
        sdbus::Variant(Pairs{{"User-Agent", "imsaka-test/1"}, {"P-Access-Network-Info", lte}});
    auto registration = createAndChallenge(bus(), network, options);
    auto& proxy = *registration.registration;
    EXPECT_EQ(proxy.FeatureTags(), (std::vector<std::string>{mmtel, "+g.3gpp.smsip"}));

    auto initial = registration.initial.headers();
    auto contact = headerValue(initial, "Contact").value_or("");
    EXPECT_NE(contact.find(";" + mmtel + ";+g.3gpp.smsip"), std::string::npos) << contact;
    EXPECT_EQ(headerValue(initial, "User-Agent"), "imsaka-test/1");
    EXPECT_FALSE(headerValue(initial, "P-Access-Network-Info")) << "no SA exists yet";
    auto answer = registration.answer.headers();
    EXPECT_EQ(headerValue(answer, "P-Access-Network-Info"), lte);
    EXPECT_NE(headerValue(answer, "Contact").value_or("").find(mmtel), std::string::npos);
    step(proxy.HandleResponse(200, toDbus(network.ok(answer, 3600, {kImpu}, {}))));
    ASSERT_EQ(proxy.State(), "registered");

    // A new access: the next REGISTER carries it, nothing is sent for it.
    const std::string wifi = "IEEE-802.11; i-wlan-node-id=ffeeddccbbaa";
    Options change;
    change["headers"] = sdbus::Variant(Pairs{{"P-Access-Network-Info", wifi}});
    EXPECT_EQ(step(proxy.Update(change)).next, "done");
    ASSERT_EQ(proxy.Headers().size(), 1u);
    EXPECT_EQ(proxy.Headers()[0].get<1>(), wifi);

    // New feature tags: registered at once, over the set in use.
    Options tags;
    tags["feature_tags"] = sdbus::Variant(std::vector<std::string>{"+g.3gpp.smsip"});
    auto refresh = step(proxy.Update(tags));
    ASSERT_EQ(refresh.next, "send");
    EXPECT_TRUE(refresh.protectedBySa());
    auto again = refresh.headers();
    contact = headerValue(again, "Contact").value_or("");
    EXPECT_EQ(contact.find("icsi-ref"), std::string::npos) << contact;
    EXPECT_NE(contact.find("+g.3gpp.smsip"), std::string::npos) << contact;
    EXPECT_EQ(headerValue(again, "P-Access-Network-Info"), wifi);
    EXPECT_FALSE(headerValue(again, "User-Agent"));

    // What the daemon writes is refused, by name, and changes nothing.
    Options owned;
    owned["headers"] = sdbus::Variant(Pairs{{"Security-Client", "ipsec-3gpp"}});
    try {
        proxy.Update(owned);
        ADD_FAILURE() << "Update took a Security-Client";
    } catch (const sdbus::Error& error) {
        EXPECT_EQ(error.getName(), "org.imsaka.Error.InvalidArguments");
        EXPECT_NE(error.getMessage().find("Security-Client"), std::string::npos)
            << error.getMessage();
    }
    EXPECT_EQ(proxy.Headers()[0].get<1>(), wifi);
    auto refused = sandbox().registrationOptions(kUeAddress2);
    refused["feature_tags"] = sdbus::Variant(std::vector<std::string>{"reg-id=7"});
    EXPECT_EQ(errorNameOf([&] { sandbox().manager->CreateRegistration(refused); }),
              "org.imsaka.Error.InvalidArguments");
}

// Multiple registrations as TS 24.229 5.1.1.2.1 asks, with RFC 5626: every registration is a
// flow, the first one too (+sip.instance and reg-id in Contact, Supported: outbound); a
// further flow of the identity is refused while the registrar took the registered one
// without outbound (no Require: outbound in its 200 OK, RFC 5626 4.2.1).
TEST_F(DaemonKernelTest, EveryFlowCarriesItsRegIdAndAFurtherOneNeedsOutbound) {
    ASSERT_NO_FATAL_FAILURE(start({}, "", "[registration]\nmultiple_registrations = yes\n"));
    ImsNetwork network;
    auto one = createAndChallenge(bus(), network, sandbox().registrationOptions());
    EXPECT_EQ(one.registration->RegId(), 1u);
    for (const auto& request : {one.initial.headers(), one.answer.headers()}) {
        auto contact = headerValue(request, "Contact").value_or("");
        EXPECT_NE(contact.find(";+sip.instance=\""), std::string::npos) << contact;
        EXPECT_NE(contact.find(";reg-id=1"), std::string::npos) << contact;
        EXPECT_TRUE(mentions(headerValues(request, "Supported"), "outbound"));
    }
    step(one.registration->HandleResponse(
        200, toDbus(network.ok(one.answer.headers(), 3600, {kImpu}, {}))));
    ASSERT_EQ(one.registration->State(), "registered");
    EXPECT_FALSE(one.registration->Outbound());

    ManagerProxy manager(bus(), "/org/imsaka");
    RegistrationProxy two(bus(),
                          manager.CreateRegistration(sandbox().registrationOptions(kUeAddress2)));
    EXPECT_EQ(two.RegId(), 2u);
    try {
        two.Register();
        ADD_FAILURE() << "a second flow registered though the first had no outbound";
    } catch (const sdbus::Error& error) {
        EXPECT_EQ(error.getName(), "org.imsaka.Error.OutboundNotAccepted") << error.getMessage();
    }
    EXPECT_EQ(two.State(), "idle");
    EXPECT_EQ(kernelView().keyedSas, 4u) << "nothing reserved or installed for the refused flow";

    // The network accepts outbound when the first flow refreshes: the second may register.
    auto refresh = step(one.registration->Register());
    ASSERT_EQ(refresh.next, "send");
    auto ok = network.ok(refresh.headers(), 3600, {kImpu}, {});
    ok.emplace_back("Require", "outbound");
    step(one.registration->HandleResponse(200, toDbus(ok)));
    EXPECT_TRUE(one.registration->Outbound());
    auto initial = step(two.Register());
    ASSERT_EQ(initial.next, "send");
    EXPECT_NE(headerValue(initial.headers(), "Contact").value_or("").find(";reg-id=2"),
              std::string::npos);
}

TEST_F(DaemonKernelTest, ASecondRegistrationHasItsOwnSaSet) {
    ASSERT_NO_FATAL_FAILURE(start());
    ImsNetwork network;
    ImsNetwork second(
        {.sqn = 32 * 1000, .spiC = 0x5000, .spiS = 0x5001, .portC = 6300, .portS = 6301});
    auto one = createAndChallenge(bus(), network, sandbox().registrationOptions());
    auto two = createAndChallenge(bus(), second, sandbox().registrationOptions(kUeAddress2, 2));
    ASSERT_EQ(two.answer.next, "send") << two.registration->LastError();
    EXPECT_EQ(second.checkAuthorization(two.answer.headers(), two.answer.uri()).kind,
              AuthorizationKind::Valid);
    EXPECT_EQ(two.registration->RegId(), 2u);
    EXPECT_NE(one.path, two.path);
    EXPECT_NE(one.challenge.ue.spiC, two.challenge.ue.spiC);

    for (auto* registration : {&one, &two}) {
        auto& net = registration == &one ? network : second;
        auto ok = net.ok(registration->answer.headers(), 3600, {kImpu}, {});
        step(registration->registration->HandleResponse(200, toDbus(ok)));
        EXPECT_EQ(registration->registration->State(), "registered");
        auto sets = saObjects(bus(), registration->path);
        ASSERT_EQ(sets.size(), 1u);
        SecurityAssociationProxy set(bus(), sets[0]);
        EXPECT_EQ(set.State(), "established");
        EXPECT_EQ(set.SpiUc(), registration->challenge.ue.spiC);
    }
    SecurityAssociationProxy secondSet(bus(), saObjects(bus(), two.path).at(0));
    EXPECT_EQ(secondSet.LocalAddress(), kUeAddress2);
    auto kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 8u) << kernel.ipXfrmState;
    EXPECT_EQ(kernel.ownPolicies, 16u) << kernel.ipXfrmPolicy;

    // Closing one leaves the other's set alone.
    one.registration->Close();
    kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 4u) << kernel.ipXfrmState;
    EXPECT_NE(kernel.ipXfrmState.find("spi " + hex(two.challenge.ue.spiC)), std::string::npos);
}

TEST_F(DaemonKernelTest, ARestartAfterSigkillLeavesNoStaleSas) {
    ASSERT_NO_FATAL_FAILURE(start());
    ImsNetwork network;
    {
        auto registration = createAndChallenge(bus(), network, sandbox().registrationOptions());
        ASSERT_EQ(registration.answer.next, "send");
        sandbox().daemon->stop(SIGKILL);
    }
    auto left = kernelView();
    ASSERT_EQ(left.keyedSas, 4u) << "SIGKILL should leave the set behind:\n" << left.ipXfrmState;

    sandbox().daemon->start();
    auto view = kernelView();
    EXPECT_EQ(view.ownSas, 0u) << view.ipXfrmState;
    EXPECT_EQ(view.ownPolicies, 0u) << view.ipXfrmPolicy;
}

// Child: creates a registration, gets its temporary SA set, says so, and waits to be killed.
int challengedClient(const std::string& cardPath) {
    auto connection = sdbus::createSystemBusConnection();
    ImsNetwork network;
    Options options;
    options["card"] = sdbus::Variant(sdbus::ObjectPath(cardPath));
    options["pcscf"] = sdbus::Variant(std::string(kPcscfAddress));
    options["local_address"] = sdbus::Variant(std::string(kUeAddress));
    auto registration = createAndChallenge(*connection, network, options);
    std::printf("challenged %s\n", registration.path.c_str());
    std::fflush(stdout);
    pause();
    return 0;
}

// Child: becomes user, then prints the error of CreateRegistration and of Card1.Authenticate.
int unprivilegedClient(const std::string& user, const std::string& cardPath) {
    passwd* account = getpwnam(user.c_str());
    if (!account || setgroups(0, nullptr) != 0 || setgid(account->pw_gid) != 0 ||
        setuid(account->pw_uid) != 0) {
        std::printf("cannot become %s\n", user.c_str());
        return 1;
    }
    auto connection = sdbus::createSystemBusConnection();
    ManagerProxy manager(*connection, "/org/imsaka");
    Options options;
    options["pcscf"] = sdbus::Variant(std::string(kPcscfAddress));
    std::string error = errorNameOf([&] { manager.CreateRegistration(options); });
    std::printf("%s\n", error.empty() ? "allowed" : error.c_str());
    CardProxy card(*connection, cardPath);
    std::vector<uint8_t> zeros(16, 0);
    error = errorNameOf([&] { card.Authenticate(zeros, zeros); });
    std::printf("%s\n", error.empty() ? "allowed" : error.c_str());
    return 0;
}

}  // namespace
}  // namespace imsaka::daemontest

int main(int argc, char** argv) {
    using namespace imsaka::daemontest;
    if (argc == 3 && std::string(argv[1]) == "--challenged-client")
        return challengedClient(argv[2]);
    if (argc == 4 && std::string(argv[1]) == "--unprivileged-client")
        return unprivilegedClient(argv[2], argv[3]);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
