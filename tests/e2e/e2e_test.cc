// The scenarios of a registration through a real P-CSCF (Kamailio 5.6) with imsakad and the
// reference client, inside user-mode Linux (see fixture/test_network.h). Each test case gets
// its own Kamailio: it matches a new REGISTER to an old contact by source address.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>

#include "test_network.h"

namespace imsaka::e2e {

void PrintTo(const Family& family, std::ostream* out) {
    *out << family.name;
}

namespace {

// A registration as the client reported it.
struct Registered {
    std::string path;
    Event event;  // "registered ..."
};

// Reads until done(reading) or the timeout has passed; returns the last reading. The
// timeout is a generous bound for a busy host, never what a test asserts.
template <typename Read, typename Done>
auto readUntil(Read read, Done done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every = 50ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto reading = read();
    while (!done(reading) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(every);
        reading = read();
    }
    return reading;
}

NetworkOptions simulator(std::vector<std::string> args) {
    NetworkOptions options;
    options.simulatorArgs = std::move(args);
    return options;
}

class E2eTest : public ::testing::Test {
  protected:
    // Starts the network; a missing prerequisite or a start that fails ends the test.
    bool start(NetworkOptions options = {}) {
        try {
            network_ = std::make_unique<TestNetwork>(std::move(options));
            return true;
        } catch (const daemontest::MissingPrerequisite& missing) {
            ADD_FAILURE() << "missing prerequisite: " << missing.what();
        } catch (const std::exception& error) {
            ADD_FAILURE() << "cannot start the test network: " << error.what();
        }
        return false;
    }

    // Runs the scenario; a wait that times out throws with every log, which fails the test.
    template <typename Body>
    void run(Body&& body) {
        try {
            body();
        } catch (const std::exception& error) {
            ADD_FAILURE() << error.what();
        }
        if (HasFailure() && network_) std::cerr << network_->diagnostics();
    }

    TestNetwork& network() { return *network_; }

    Registered waitRegistered(Program& client) {
        Registered registered;
        registered.path = client.waitFor("created").at("path");
        registered.event = client.waitFor("registered", 30s);
        return registered;
    }

    // The one set of a registration in state, or a failure naming what there is.
    SaSetInfo onlySet(const std::string& path, const std::string& state = "established") {
        auto sets = network().saSets(path);
        std::string seen;
        for (const auto& set : sets) seen += " " + set.path + "=" + set.state;
        if (sets.size() != 1 || sets[0].state != state)
            throw std::runtime_error("expected one " + state + " SA set under " + path +
                                     ", found:" + seen);
        return sets[0];
    }

    // The protected REGISTER crossed as ESP on SA A and its 200 OK on SA C (UDP) or SA B
    // (TCP, same connection), with the SPIs the daemon negotiated; no SIP crossed in clear
    // on the protected ports, and SIP in clear only ever used the P-CSCF's port 5060. A
    // REGISTER over 1300 bytes goes over TCP on a UDP registration too (RFC 3261 18.1.1):
    // the transport is the one the client says it sent the set's first REGISTER over.
    void expectOnlyEspOnProtectedPorts(const SaSetInfo& set, const Program& client) {
        const auto& capture = network().capture();
        EXPECT_GE(capture.espCount(set.spiPs), 1u) << "no ESP on SA A (spi " << set.spiPs << ")";
        std::string transport;
        for (const auto& event : client.events())
            if (transport.empty() && event.word == "sent" && event.has("method", "REGISTER") &&
                event.has("protected", "yes") &&
                event.at("from").ends_with(":" + std::to_string(set.portUc)))
                transport = event.at("transport");
        EXPECT_FALSE(transport.empty()) << "no protected REGISTER from port " << set.portUc;
        uint32_t answerSpi = transport == "tcp" ? set.spiUc : set.spiUs;
        EXPECT_GE(capture.espCount(answerSpi), 1u) << "no ESP answer (spi " << answerSpi << ")";
        for (const auto& packet : capture.packets()) {
            if (packet.esp()) {
                std::set<uint32_t> toPcscf = {set.spiPs, set.spiPc};
                if (toPcscf.count(packet.spi)) {
                    EXPECT_TRUE(packet.toPcscf) << packet.describe();
                }
                continue;
            }
            if (!packet.clearSip()) continue;
            uint16_t pcscfPort = packet.toPcscf ? packet.destinationPort : packet.sourcePort;
            EXPECT_EQ(pcscfPort, 5060) << "SIP in clear: " << packet.describe();
        }
        EXPECT_TRUE(capture.clearSipOn({set.portUc, set.portUs, set.portPc, set.portPs}).empty());
    }

    // SIGTERM: the client deregisters and exits 0; nothing of it is left on the UE.
    void expectDeregisteredCleanly(Program& client) {
        EXPECT_EQ(client.stop(SIGTERM), 0);
        client.waitFor("deregistered", 30s);
        network().simulator().waitFor("deregistered", 30s);
        expectNothingLeftOnUe();
    }

    // Polls: a set goes once the TCP connections on its ports have closed through it.
    void expectNothingLeftOnUe() {
        auto view = readUntil(
            daemontest::kernelView,
            [](const auto& kernel) { return kernel.ownSas == 0 && kernel.ownPolicies == 0; }, 30s);
        EXPECT_EQ(view.ownSas, 0u) << view.ipXfrmState;
        EXPECT_EQ(view.ownPolicies, 0u) << view.ipXfrmPolicy;
        EXPECT_EQ(view.keyedSas, 0u) << view.ipXfrmState;
    }

    // Stops Kamailio. What is checked is what it leaves in the kernel, not its exit status:
    // Kamailio 5.6's main process now and then blocks for good on a futex in its SIGTERM
    // handling after every child has ended and cleaned up (seen on quiet and busy hosts
    // alike), and then needs SIGKILL.
    void stopPcscf() {
        int status = network().stopPcscf();
        if (status != 0) std::printf("Kamailio ended with status %d (see above)\n", status);
    }

    // Kamailio removes SAs when its usrloc timer (1 s) sweeps the contact.
    void expectPcscfSas(size_t sas, std::chrono::milliseconds within = 30s) {
        XfrmCount count =
            readUntil([&] { return network().pcscfXfrm(); },
                      [&](const XfrmCount& now) { return now.sas == sas; }, within, 100ms);
        EXPECT_EQ(count.sas, sas) << count.text;
        EXPECT_EQ(count.policies, sas) << count.text;
    }

    std::unique_ptr<TestNetwork> network_;
};

// --- The network itself --------------------------------------------------------------------

TEST_F(E2eTest, PcscfStartsAndStopsWithoutLeavingState) {
    if (!start()) return;
    run([&] {
        auto before = network().pcscfXfrm();
        EXPECT_EQ(before.sas, 0u) << before.text;
        stopPcscf();
        auto after = network().pcscfXfrm();
        EXPECT_EQ(after.sas + after.policies, 0u) << after.text;
    });
}

// The pair doc/imsakad.conf.md says Kamailio ends on with the default offer ("its SAs use
// **hmac-md5-96 with aes-cbc**"), as "integrity/encryption"; "" when it says none.
std::string documentedKamailioPair() {
    std::ifstream file(IMSAKA_DOC_DIR "/imsakad.conf.md");
    std::stringstream read;
    read << file.rdbuf();
    std::string text = read.str();
    for (char& c : text)
        if (c == '\n') c = ' ';
    std::smatch found;
    if (!std::regex_search(text, found, std::regex(R"(its SAs use\s+\*\*(\S+) with (\S+)\*\*)")))
        return "";
    return found[1].str() + "/" + found[2].str();
}

// --- Registration over each family and transport ---------------------------------------

class Transports : public E2eTest,
                   public ::testing::WithParamInterface<std::tuple<Family, std::string>> {};

TEST_P(Transports, RegistersThroughEspAnswersMessageAndDeregistersCleanly) {
    const auto& [family, transport] = GetParam();
    if (!start()) return;
    run([&, family = family, transport = transport] {
        auto& client = network().startClient(TestNetwork::clientArgs(family, false, transport));
        auto registered = waitRegistered(client);
        auto& sim = network().simulator();
        EXPECT_TRUE(sim.waitFor("request").has("integrity-protected", "no"));
        sim.waitFor("auth", 30s, {{"result", "ok"}});
        sim.waitFor("registered");
        EXPECT_TRUE(client.saw("sent", {{"method", "REGISTER"}, {"protected", "yes"}}));

        auto set = onlySet(registered.path);
        // The default offer, and what the configuration document tells users it gives here.
        EXPECT_EQ(set.integrity + "/" + set.encryption, documentedKamailioPair());
        EXPECT_EQ(registered.event.number("port-ps"), set.portPs);
        EXPECT_EQ(registered.event.number("port-us"), set.portUs);
        expectOnlyEspOnProtectedPorts(set, client);
        auto ue = daemontest::kernelView();
        EXPECT_EQ(ue.keyedSas, 4u) << ue.ipXfrmState;
        expectPcscfSas(4, 0s);

        // A mobile-terminated request through the P-CSCF, answered by the client. Over TCP,
        // Kamailio 5.6 never delivers it (504 after its timer): left out there.
        if (transport == "udp") {
            sim.send("message");
            client.waitFor("received", 30s, {{"method", "MESSAGE"}});
            EXPECT_EQ(sim.waitFor("message", 30s).at("status"), "200");
        }

        // The deregistration's 200 OK, too, crossed as ESP. Kamailio 5.6 keeps its side of
        // the SAs after a deregistration (until the contact would have expired); stopped,
        // it leaves nothing.
        expectDeregisteredCleanly(client);
        expectOnlyEspOnProtectedPorts(set, client);
        stopPcscf();
        expectPcscfSas(0, 0s);
    });
}

INSTANTIATE_TEST_SUITE_P(E2e, Transports,
                         ::testing::Combine(::testing::Values(kIpv4, kIpv6),
                                            ::testing::Values("udp", "tcp")),
                         [](const auto& test) {
                             return std::string(std::get<0>(test.param).name) + "_" +
                                    std::get<1>(test.param);
                         });

// --- Each algorithm pair Kamailio accepts ------------------------------------------------
// Kamailio 5.6 also accepts des-ede3-cbc but derives its 3DES key wrongly (the third DES key
// is not CK1): the protected REGISTER never gets through, so that pair is not tested here.

class Algorithms : public E2eTest,
                   public ::testing::WithParamInterface<std::tuple<std::string, std::string>> {};

TEST_P(Algorithms, RegistersWithThePairOffered) {
    const auto& [integrity, encryption] = GetParam();
    if (!start()) return;
    run([&, integrity = integrity, encryption = encryption] {
        auto args = TestNetwork::clientArgs();
        args.insert(args.end(),
                    {"--integrity", integrity, "--encryption", encryption, "--no-subscribe"});
        auto& client = network().startClient(args);
        auto registered = waitRegistered(client);
        auto set = onlySet(registered.path);
        EXPECT_EQ(set.integrity, integrity);
        EXPECT_EQ(set.encryption, encryption);
        expectOnlyEspOnProtectedPorts(set, client);
        expectPcscfSas(4, 0s);
        expectDeregisteredCleanly(client);
    });
}

INSTANTIATE_TEST_SUITE_P(E2e, Algorithms,
                         ::testing::Combine(::testing::Values("hmac-sha-1-96", "hmac-md5-96"),
                                            ::testing::Values("null", "aes-cbc")),
                         [](const auto& test) {
                             std::string name =
                                 std::get<0>(test.param) + "_" + std::get<1>(test.param);
                             for (char& c : name)
                                 if (c == '-') c = '_';
                             return name;
                         });

// --- Authentication and its failures ----------------------------------------------------

class Security : public E2eTest {};

// The AUTS REGISTER repeats the offer (24.229 5.1.1.5.4); pcscf.cfg makes Kamailio drop the
// SAs of the first challenge before it installs those of the second (same UE SPIs).
TEST_F(Security, ResynchronisesWhenTheCardsSqnIsAhead) {
    if (!start(simulator({"--sqn-behind"}))) return;
    run([&] {
        auto& client = network().startClient(TestNetwork::clientArgs());
        auto registered = waitRegistered(client);
        auto& sim = network().simulator();
        sim.waitFor("auth", 30s, {{"result", "sync-failure"}});
        sim.waitFor("resync", 30s);
        sim.waitFor("auth", 30s, {{"result", "ok"}});
        auto set = onlySet(registered.path);
        expectOnlyEspOnProtectedPorts(set, client);
        expectDeregisteredCleanly(client);
    });
}

// The card rejects the network: the answer carries no response, no SA set is installed and
// the network refuses the attempt (imsakad then backs off and tries again later).
TEST_F(Security, MacFailureEndsWithNothingInstalled) {
    if (!start(simulator({"--wrong-k"}))) return;
    run([&] {
        auto& client = network().startClient(TestNetwork::clientArgs());
        std::string path = client.waitFor("created").at("path");
        network().simulator().waitFor("auth", 30s, {{"result", "mac-failure"}});
        client.waitFor("received", 30s, {{"status", "403"}});
        EXPECT_FALSE(client.saw("sent", {{"protected", "yes"}}));
        EXPECT_TRUE(network().saSets(path).empty());
        // The SPIs reserved for the next attempt may stand (larval, keyless); nothing else.
        auto view = daemontest::kernelView();
        EXPECT_EQ(view.keyedSas, 0u) << view.ipXfrmState;
        EXPECT_EQ(view.ownPolicies, 0u) << view.ipXfrmPolicy;
    });
}

// The temporary set that carried the refused REGISTER goes with the 403.
TEST_F(Security, ForbiddenProtectedRegisterRemovesTheTemporarySet) {
    if (!start(simulator({"--fail-protected", "403"}))) return;
    run([&] {
        auto& client = network().startClient(TestNetwork::clientArgs());
        std::string path = client.waitFor("created").at("path");
        auto sent = client.waitFor("sent", 30s, {{"method", "REGISTER"}, {"protected", "yes"}});
        std::string from = sent.at("from");
        auto portUc = static_cast<uint16_t>(std::stoi(from.substr(from.rfind(':') + 1)));
        client.waitFor("received", 30s, {{"status", "403"}});
        bool gone = readUntil(
            [&] {
                for (const auto& set : network().saSets(path))
                    if (set.portUc == portUc) return false;
                return true;
            },
            [](bool noneLeft) { return noneLeft; }, 10s);
        EXPECT_TRUE(gone) << "the set with port_uc " << portUc << " is still there";
    });
}

TEST_F(Security, ReauthenticationNotifyBringsANewSet) {
    if (!start(simulator({"--notify-after-register", "shortened"}))) return;
    run([&] {
        auto& client = network().startClient(TestNetwork::clientArgs());
        auto first = waitRegistered(client);
        auto before = onlySet(first.path);
        client.waitFor("refresh", 30s, {{"reason", "reauthenticate"}});
        client.waitFor("registered", 30s);
        auto& sim = network().simulator();
        sim.waitFor("auth", 30s, {{"result", "ok"}});
        sim.waitFor("auth", 30s, {{"result", "ok"}});
        auto sets = network().saSets(first.path);
        bool fresh = false;
        for (const auto& set : sets)
            fresh = fresh || (set.state == "established" && set.spiUs != before.spiUs &&
                              set.spiPs != before.spiPs);
        EXPECT_TRUE(fresh) << "no new established set";
        expectDeregisteredCleanly(client);
    });
}

// --- The network ends the registration ---------------------------------------------------

class NetworkEnds : public E2eTest, public ::testing::WithParamInterface<std::string> {};

// deactivated and rejected both end the registration and its set. After "rejected" the
// client reports it and exits 1; after "deactivated" it starts a new initial registration
// (TS 24.229 5.1.1.7) from the unprotected port (how Kamailio 5.6 takes a new registration
// from the same address is its own matter, see README.md).
TEST_P(NetworkEnds, RegistrationEndsAndItsSetsGo) {
    if (!start(simulator({"--notify-after-register", GetParam()}))) return;
    run([&] {
        auto& client = network().startClient(TestNetwork::clientArgs());
        auto registered = waitRegistered(client);
        // The set's ports, from the client: the NOTIFY may end the set before it can be read.
        const std::string ports[] = {registered.event.at("port-uc"),
                                     registered.event.at("port-us")};
        auto notify = client.waitFor("notify", 30s, {{"next", "stop"}});
        if (GetParam() == "deactivated") {
            client.waitFor("refresh", 30s, {{"reason", "register-again"}});
            client.waitFor("sent", 30s, {{"method", "REGISTER"}, {"protected", "no"}});
            // The ended set retires: its SAs stay while its TCP connection sends its FIN
            // (at most 3 s), so its policies are polled for, not read once.
            auto hasEndedPort = [&](const std::string& policies) {
                for (const auto& port : ports)
                    if (policies.find("port " + port + " ") != std::string::npos) return true;
                return false;
            };
            auto policies =
                readUntil([] { return daemontest::commandOutput("ip xfrm policy"); },
                          [&](const std::string& now) { return !hasEndedPort(now); }, 30s);
            EXPECT_FALSE(hasEndedPort(policies)) << "a policy of the ended set (ports " << ports[0]
                                                 << ", " << ports[1] << ") is still there\n"
                                                 << policies;
            client.stop(SIGKILL);
            return;
        }
        auto failed = client.waitFor("failed", 30s);
        EXPECT_NE(failed.line.find(GetParam()), std::string::npos) << failed.line;
        EXPECT_EQ(client.waitExit(30s), 1);
        expectNothingLeftOnUe();
    });
}

INSTANTIATE_TEST_SUITE_P(E2e, NetworkEnds, ::testing::Values("deactivated", "rejected"));

// --- Refreshes and a second registration -------------------------------------------------

class Refresh : public E2eTest {};

TEST_F(Refresh, ReRegistersOverTheExistingSetWithANewSet) {
    // 20 s granted: RefreshDue comes at half.
    if (!start(simulator({"--expires", "20"}))) return;
    run([&] {
        auto& client = network().startClient(TestNetwork::clientArgs());
        auto first = waitRegistered(client);
        auto before = onlySet(first.path);
        // What is left of the 20 s granted, however long the client took to print it.
        EXPECT_LE(first.event.number("expires"), 20);
        EXPECT_GT(first.event.number("expires"), 0);
        client.waitFor("refresh", 30s, {{"reason", "expiry"}});
        auto sent = client.waitFor("sent", 30s, {{"method", "REGISTER"}});
        EXPECT_EQ(sent.at("protected"), "yes") << "the re-REGISTER must go over the existing set";
        auto second = client.waitFor("registered", 30s);
        auto& sim = network().simulator();
        EXPECT_EQ(sim.waitFor("request", 30s, {{"initial", "no"}, {"integrity-protected", "yes"}})
                      .at("method"),
                  "REGISTER");
        auto sets = network().saSets(first.path);
        std::optional<SaSetInfo> current;
        for (const auto& set : sets)
            if (set.state == "established") current = set;
        ASSERT_TRUE(current) << "no established set after the re-registration";
        EXPECT_NE(current->spiUs, before.spiUs);
        EXPECT_EQ(second.number("port-us"), current->portUs);

        // Kamailio 5.6 does not move to the new set: a MESSAGE still comes on the old one,
        // which must then stay (retiring) rather than leave the client unreachable. A
        // P-CSCF that uses the new set makes the daemon remove the old one after the grace
        // for the old set's transactions. The Contact (port_us) is the same on both sets
        // (TS 33.203 7.4).
        const auto& capture = network().capture();
        size_t onOld = capture.espCount(before.spiUs);
        size_t onNew = capture.espCount(current->spiUs);
        sim.send("message");
        client.waitFor("received", 30s, {{"method", "MESSAGE"}});
        sim.waitFor("message", 30s, {{"status", "200"}});
        bool viaOld = capture.espCount(before.spiUs) > onOld;
        bool viaNew = capture.espCount(current->spiUs) > onNew;
        EXPECT_NE(viaOld, viaNew) << "the MESSAGE crossed on exactly one set";
        std::printf("the MESSAGE after the re-registration came on the %s set\n",
                    viaOld ? "old" : "new");
        // Over the old set it stays; over the new set it goes after the grace (2 s in the
        // tests' configuration).
        if (viaOld) {
            EXPECT_EQ(network().saSets(first.path).size(), 2u) << "the old set went";
        }
        if (viaNew) {
            auto setCount = readUntil([&] { return network().saSets(first.path).size(); },
                                      [](size_t count) { return count == 1; }, 30s, 100ms);
            EXPECT_EQ(setCount, 1u) << "the old set never went";
        }
        expectDeregisteredCleanly(client);
    });
}

TEST_F(Refresh, SecondRegistrationHasItsOwnSetAndBothLive) {
    if (!start()) return;
    run([&] {
        auto args1 = TestNetwork::clientArgs();
        args1.insert(args1.end(), {"--reg-id", "1"});
        auto args2 = TestNetwork::clientArgs(kIpv4, true);
        args2.insert(args2.end(), {"--reg-id", "2"});
        auto& client1 = network().startClient(args1);
        auto one = waitRegistered(client1);
        auto& client2 = network().startClient(args2);
        auto two = waitRegistered(client2);
        auto set1 = onlySet(one.path);
        auto set2 = onlySet(two.path);
        EXPECT_NE(set1.spiUs, set2.spiUs);
        EXPECT_NE(set1.spiPs, set2.spiPs);
        auto ue = daemontest::kernelView();
        EXPECT_EQ(ue.keyedSas, 8u) << ue.ipXfrmState;
        expectPcscfSas(8, 0s);
        expectOnlyEspOnProtectedPorts(set1, client1);
        expectOnlyEspOnProtectedPorts(set2, client2);
        EXPECT_TRUE(client1.running());
        EXPECT_TRUE(client2.running());
        EXPECT_EQ(client2.stop(SIGTERM), 0);
        client2.waitFor("deregistered", 30s);
        EXPECT_NO_THROW(onlySet(one.path)) << "the first registration must stay";
        auto left = daemontest::kernelView();
        EXPECT_EQ(left.keyedSas, 4u) << left.ipXfrmState;
        expectDeregisteredCleanly(client1);
    });
}

// Kamailio's contact, and with it its SA set, goes at the usrloc sweep after the
// deregistration (it stayed an hour with the default expires_grace).
TEST_F(Refresh, DeregistrationLeavesNoSasAtThePcscf) {
    if (!start()) return;
    run([&] {
        auto args = TestNetwork::clientArgs();
        args.push_back("--no-subscribe");
        auto& client = network().startClient(args);
        waitRegistered(client);
        expectPcscfSas(4, 0s);
        expectDeregisteredCleanly(client);
        expectPcscfSas(0, 30s);
    });
}

// After the 423 imsakad repeats its offer: Kamailio 5.6 matches the pending contact the first
// REGISTER left and keeps that offer for the SAs of its 401.
TEST_F(Refresh, TooShortExpiresIsRaisedAfter423) {
    if (!start(simulator({"--min-expires", "1200"}))) return;
    run([&] {
        auto args = TestNetwork::clientArgs();
        args.insert(args.end(), {"--expires", "600", "--no-subscribe"});
        auto& client = network().startClient(args);
        auto registered = waitRegistered(client);
        EXPECT_TRUE(client.saw("received", {{"status", "423"}}));
        EXPECT_GE(registered.event.number("expires"), 1200);
        expectDeregisteredCleanly(client);
    });
}

}  // namespace
}  // namespace imsaka::e2e
