// The SA set in a kernel with ESP (user-mode Linux): a UE namespace and a P-CSCF namespace
// joined by veth, the UE set installed on one side and the mirror set on the other.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>

#include "imsaka/ipsec/xfrm.h"
#include "network.h"

namespace imsaka::ipsec {
namespace {

using namespace std::chrono_literals;
using test::Capture;
using test::Fd;
using test::Packet;

const Bytes kCk = *fromHex("5349fbe098649f948f5d2e973a81c00f");
const Bytes kIk = *fromHex("9744871ad32bf9bbd1dd5ce54e3e2e5a");

test::TwoSides* sides = nullptr;

class GuestEnvironment : public ::testing::Environment {
  public:
    void SetUp() override { sides = new test::TwoSides(); }
    void TearDown() override {
        delete sides;
        sides = nullptr;
    }
};

struct Ports {
    uint16_t uc, us, pc, ps;
};

// Both ends of one set: the UE's (in imsaka-ue) and the mirror (in imsaka-pc).
struct Pair {
    std::unique_ptr<Xfrm> ueXfrm, pcscfXfrm;
    std::optional<SaSet> ueSet, pcscfSet;
};

SaSetSpec specFor(bool v6, Ports ports, Integrity integrity, Encryption encryption,
                  Lifetime lifetime) {
    SaSetSpec spec;
    spec.ue = sides->ueAddress(v6);
    spec.pcscf = sides->pcscfAddress(v6);
    spec.portUc = ports.uc;
    spec.portUs = ports.us;
    spec.portPc = ports.pc;
    spec.portPs = ports.ps;
    spec.integrity = integrity;
    spec.encryption = encryption;
    spec.lifetime = lifetime;
    return spec;
}

// The spec with the UE's reserved SPIs and the P-CSCF's given ones.
SaSetSpec withSpis(SaSetSpec spec, const SpiReservation& ue, uint32_t spiPc, uint32_t spiPs) {
    spec.spiUc = ue.spiClient;
    spec.spiUs = ue.spiServer;
    spec.spiPc = spiPc;
    spec.spiPs = spiPs;
    return spec;
}

void installPair(Pair& pair, SaSetSpec spec) {
    if (!pair.ueXfrm) pair.ueXfrm = sides->ue.run([] { return std::make_unique<Xfrm>(); });
    if (!pair.pcscfXfrm) pair.pcscfXfrm = sides->pcscf.run([] { return std::make_unique<Xfrm>(); });
    auto ueSpis = pair.ueXfrm->reserveSpis(spec.ue, spec.pcscf);
    auto pcscfSpis = pair.pcscfXfrm->reserveSpis(spec.pcscf, spec.ue);
    spec = withSpis(spec, ueSpis, pcscfSpis.spiClient, pcscfSpis.spiServer);
    spec.side = Side::Ue;
    pair.ueSet = pair.ueXfrm->install(ueSpis, spec, kCk, kIk);
    spec.side = Side::Pcscf;
    pair.pcscfSet = pair.pcscfXfrm->install(pcscfSpis, spec, kCk, kIk);
}

// One UDP datagram from one side to the other; returns whether it arrived intact.
bool udpDelivered(test::Netns& fromNs, const IpAddress& from, uint16_t fromPort, test::Netns& toNs,
                  const IpAddress& to, uint16_t toPort) {
    Fd receiver = toNs.run([&] { return test::udpSocket(to, toPort); });
    Fd sender = fromNs.run([&] { return test::udpSocket(from, fromPort); });
    std::string payload = "REGISTER " + std::to_string(fromPort) + "->" + std::to_string(toPort);
    test::sendUdp(sender.get(), to, toPort, payload);
    return test::receive(receiver.get(), 15s) == payload;
}

// A TCP connection from client to server with data both ways; returns whether all arrived.
bool tcpExchanged(test::Netns& clientNs, const IpAddress& client, uint16_t clientPort,
                  test::Netns& serverNs, const IpAddress& server, uint16_t serverPort) {
    Fd listener = serverNs.run([&] { return test::tcpListen(server, serverPort); });
    Fd connection =
        clientNs.run([&] { return test::tcpConnect(client, clientPort, server, serverPort); });
    Fd accepted = test::tcpAccept(listener.get());
    test::sendAll(connection.get(), "request over tcp");
    auto request = test::receive(accepted.get(), 15s);
    test::sendAll(accepted.get(), "response over tcp");
    auto response = test::receive(connection.get(), 15s);
    return request == "request over tcp" && response == "response over tcp";
}

std::set<std::pair<uint16_t, uint16_t>> protectedPortPairs(Ports p) {
    return {{p.uc, p.ps}, {p.ps, p.uc}, {p.pc, p.us}, {p.us, p.pc}};
}

struct Case {
    Integrity integrity;
    Encryption encryption;
    bool v6;
};

std::string caseName(const ::testing::TestParamInfo<Case>& info) {
    std::string name = std::string(secAgreeName(info.param.integrity)) + "_" +
                       std::string(secAgreeName(info.param.encryption)) +
                       (info.param.v6 ? "_ipv6" : "_ipv4");
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

class EspTraffic : public ::testing::TestWithParam<Case> {};

TEST_P(EspTraffic, UdpAndTcpOnAllFourPortPairsTravelAsEspAndArrive) {
    const Case& c = GetParam();
    auto index = static_cast<uint16_t>(c.v6 * 6 + static_cast<int>(c.integrity) * 3 +
                                       static_cast<int>(c.encryption));
    Ports ports{static_cast<uint16_t>(6100 + index * 10), static_cast<uint16_t>(6101 + index * 10),
                static_cast<uint16_t>(6102 + index * 10), static_cast<uint16_t>(6103 + index * 10)};
    IpAddress ue = sides->ueAddress(c.v6), pcscf = sides->pcscfAddress(c.v6);
    Capture capture = sides->pcscf.run([] { return Capture("veth-pc"); });

    Pair pair;
    installPair(pair, specFor(c.v6, ports, c.integrity, c.encryption, {240, 0}));

    // UDP on each of the four SAs (A, B, C, D).
    EXPECT_TRUE(udpDelivered(sides->ue, ue, ports.uc, sides->pcscf, pcscf, ports.ps));
    EXPECT_TRUE(udpDelivered(sides->pcscf, pcscf, ports.ps, sides->ue, ue, ports.uc));
    EXPECT_TRUE(udpDelivered(sides->pcscf, pcscf, ports.pc, sides->ue, ue, ports.us));
    EXPECT_TRUE(udpDelivered(sides->ue, ue, ports.us, sides->pcscf, pcscf, ports.pc));
    // TCP: the UE's connection runs on A and B, the P-CSCF's on C and D.
    EXPECT_TRUE(tcpExchanged(sides->ue, ue, ports.uc, sides->pcscf, pcscf, ports.ps));
    EXPECT_TRUE(tcpExchanged(sides->pcscf, pcscf, ports.pc, sides->ue, ue, ports.us));
    // Other ports stay in the clear and still work.
    uint16_t plainUe = static_cast<uint16_t>(ports.uc + 5),
             plainP = static_cast<uint16_t>(ports.ps + 5);
    EXPECT_TRUE(udpDelivered(sides->ue, ue, plainUe, sides->pcscf, pcscf, plainP));
    EXPECT_TRUE(udpDelivered(sides->pcscf, pcscf, plainP, sides->ue, ue, plainUe));

    // Every SA counted the UDP datagram and the TCP segments, on both ends. The closed TCP
    // connections still exchange FIN and ACK after their sockets are gone: read until no
    // segment is in flight, when each SA's two ends agree (or time is up).
    std::array<SaCounters, 4> ueCounters, pcscfCounters;
    auto samePackets = [&] {
        for (size_t sa = 0; sa < 4; ++sa)
            if (ueCounters[sa].packets != pcscfCounters[sa].packets) return false;
        return true;
    };
    auto settleBy = std::chrono::steady_clock::now() + 3s;
    for (;;) {
        ueCounters = pair.ueXfrm->counters(*pair.ueSet);
        pcscfCounters = pair.pcscfXfrm->counters(*pair.pcscfSet);
        if (samePackets() || std::chrono::steady_clock::now() >= settleBy) break;
        usleep(20000);
    }
    for (size_t sa = 0; sa < 4; ++sa) {
        SCOPED_TRACE("SA " + std::string(1, "ABCD"[sa]));
        EXPECT_GE(ueCounters[sa].packets, 3u) << "one datagram and at least two TCP segments";
        EXPECT_GT(ueCounters[sa].bytes, 0u);
        EXPECT_EQ(ueCounters[sa].packets, pcscfCounters[sa].packets)
            << "what one end sent on an SA the other end received on it";
    }

    // On the wire: ESP only between the protected ports, cleartext elsewhere.
    auto protectedPairs = protectedPortPairs(ports);
    size_t esp = 0, cleartextProtected = 0, cleartextOther = 0;
    for (const Packet& packet : sides->pcscf.run([&] { return capture.drain(); })) {
        if (packet.protocol == IPPROTO_ESP) ++esp;
        bool ours = packet.protocol == IPPROTO_UDP || packet.protocol == IPPROTO_TCP;
        if (!ours) continue;
        if (protectedPairs.count({packet.sourcePort, packet.destinationPort}))
            ++cleartextProtected;
        else if (packet.sourcePort == plainUe || packet.sourcePort == plainP)
            ++cleartextOther;
    }
    EXPECT_GE(esp, 12u);
    EXPECT_EQ(cleartextProtected, 0u) << "a packet between protected ports left unencrypted";
    EXPECT_EQ(cleartextOther, 2u) << "traffic between other ports must stay cleartext";

    pair.ueXfrm->remove(*pair.ueSet);
    pair.pcscfXfrm->remove(*pair.pcscfSet);
    auto left = pair.ueXfrm->countState();
    EXPECT_EQ(left.ownSas + left.ownPolicies + left.otherSas + left.otherPolicies, 0u);
}

std::vector<Case> allCases() {
    std::vector<Case> cases;
    for (bool v6 : {false, true})
        for (auto integrity : {Integrity::HmacMd5_96, Integrity::HmacSha1_96})
            for (auto encryption : {Encryption::Null, Encryption::AesCbc, Encryption::DesEde3Cbc})
                cases.push_back({integrity, encryption, v6});
    return cases;
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithmPairs, EspTraffic, ::testing::ValuesIn(allCases()), caseName);

TEST(Lifetime, TemporarySetBecomesEstablishedWithoutReinstalling) {
    Pair pair;
    Ports ports{6300, 6301, 6302, 6303};
    installPair(pair, specFor(false, ports, Integrity::HmacSha1_96, Encryption::AesCbc, {240, 0}));
    SaSet& set = *pair.ueSet;
    EXPECT_EQ(pair.ueXfrm->status(set, SaId::A).lifetime.hardSeconds, 240u);
    IpAddress ue = sides->ueAddress(false), pcscf = sides->pcscfAddress(false);
    ASSERT_TRUE(udpDelivered(sides->ue, ue, ports.uc, sides->pcscf, pcscf, ports.ps));
    std::array<uint32_t, 4> spis{set.spi(SaId::A), set.spi(SaId::B), set.spi(SaId::C),
                                 set.spi(SaId::D)};

    // The kernel counts limits from when an SA was added: setLifetime adds the seconds since
    // then, which the kernel's own clock bounds (however slowly the guest runs).
    auto before = static_cast<uint64_t>(time(nullptr));
    pair.ueXfrm->setLifetime(set, {3630, 3600});
    auto after = static_cast<uint64_t>(time(nullptr));
    for (SaId id : {SaId::A, SaId::B, SaId::C, SaId::D}) {
        SaStatus status = pair.ueXfrm->status(set, id);
        uint64_t sinceAddedBefore = before > status.addedAt ? before - status.addedAt : 0;
        uint64_t sinceAddedAfter = after - std::min(after, status.addedAt);
        EXPECT_GE(status.lifetime.hardSeconds, 3630u + sinceAddedBefore);
        EXPECT_LE(status.lifetime.hardSeconds, 3630u + sinceAddedAfter);
        EXPECT_EQ(status.lifetime.hardSeconds - status.lifetime.softSeconds, 30u);
    }
    EXPECT_EQ(pair.ueXfrm->counters(set)[0].packets, 1u) << "counters survive the change";
    EXPECT_EQ(set.spi(SaId::A), spis[0]);
    EXPECT_EQ(pair.ueXfrm->countState().ownSas, 4u) << "nothing was added or reinstalled";
    ASSERT_TRUE(udpDelivered(sides->ue, ue, ports.uc, sides->pcscf, pcscf, ports.ps));
    EXPECT_EQ(pair.ueXfrm->counters(set)[0].packets, 2u);

    pair.ueXfrm->remove(set);
    pair.pcscfXfrm->remove(*pair.pcscfSet);
}

TEST(Lifetime, KernelExpiryOfATemporarySetReachesTheCallback) {
    std::map<uint32_t, std::pair<int, int>> softHard;  // per SPI
    auto watcher = sides->ue.run([&] {
        return std::make_unique<XfrmExpiryWatcher>(XfrmOptions{}, [&](const ExpiryEvent& event) {
            auto& counts = softHard[event.spi];
            ++(event.hard ? counts.second : counts.first);
        });
    });
    // A foreign SA that expires first: the watcher must not report it.
    const uint32_t foreignSpi = 0x7778;
    test::shell(
        "ip -n imsaka-ue xfrm state add src 10.45.0.2 dst 10.45.0.1 proto esp spi " +
        std::to_string(foreignSpi) +
        " reqid 7 mode transport auth-trunc 'hmac(md5)' 0x000102030405060708090a0b0c0d0e0f 96 "
        "enc 'ecb(cipher_null)' '' limit time-soft 1 limit time-hard 2");
    Pair pair;
    installPair(pair, specFor(true, {6400, 6401, 6402, 6403}, Integrity::HmacMd5_96,
                              Encryption::Null, {3, 1}));
    std::set<uint32_t> expected;
    for (SaId id : {SaId::A, SaId::B, SaId::C, SaId::D}) expected.insert(pair.ueSet->spi(id));
    auto deadline = std::chrono::steady_clock::now() + 30s;
    auto allHard = [&] {
        for (uint32_t spi : expected)
            if (softHard[spi].second == 0) return false;
        return true;
    };
    while (!allHard() && std::chrono::steady_clock::now() < deadline)
        watcher->waitAndDispatch(500ms);
    watcher->dispatch();
    EXPECT_EQ(
        test::shellOutput("ip -n imsaka-ue xfrm state list spi " + std::to_string(foreignSpi)), "")
        << "the foreign SA has expired too";
    EXPECT_EQ(softHard.count(foreignSpi), 0u) << "a foreign SA's expiry was reported";
    for (uint32_t spi : expected) {
        EXPECT_GE(softHard[spi].first, 1) << "no soft expiry for SPI " << spi;
        EXPECT_EQ(softHard[spi].second, 1) << "no hard expiry for SPI " << spi;
    }
    EXPECT_EQ(softHard.size(), expected.size()) << "only our own SAs are reported";
    EXPECT_EQ(pair.ueXfrm->countState().ownSas, 0u) << "the kernel removed the expired SAs";
    pair.ueXfrm->remove(*pair.ueSet);  // policies remain until the owner removes them
    pair.pcscfXfrm->remove(*pair.pcscfSet);
    EXPECT_EQ(pair.ueXfrm->countState().ownPolicies, 0u);
}

TEST(Removal, DeletingASetLeavesNoSaAndNoPolicy) {
    Pair first, second;
    installPair(first, specFor(false, {6500, 6501, 6502, 6503}, Integrity::HmacSha1_96,
                               Encryption::DesEde3Cbc, {240, 0}));
    second.ueXfrm = std::move(first.ueXfrm);
    second.pcscfXfrm = std::move(first.pcscfXfrm);
    installPair(second, specFor(false, {6510, 6511, 6502, 6503}, Integrity::HmacSha1_96,
                                Encryption::DesEde3Cbc, {240, 0}));
    Xfrm& ue = *second.ueXfrm;
    EXPECT_EQ(ue.countState().ownSas, 8u);
    EXPECT_EQ(ue.countState().ownPolicies, 16u) << "four policies and four guards per set";
    EXPECT_NE(first.ueSet->spi(SaId::C), second.ueSet->spi(SaId::C)) << "a new set, new SPIs";

    ue.remove(*first.ueSet);
    EXPECT_EQ(ue.countState().ownSas, 4u) << "the other set is untouched";
    EXPECT_EQ(ue.countState().ownPolicies, 8u);
    ue.remove(*second.ueSet);
    auto left = ue.countState();
    EXPECT_EQ(left.ownSas + left.ownPolicies + left.otherSas + left.otherPolicies, 0u);
    EXPECT_EQ(test::shellOutput("ip -n imsaka-ue xfrm state list"), "");
    EXPECT_EQ(test::shellOutput("ip -n imsaka-ue xfrm policy list"), "");
    EXPECT_NO_THROW(ue.remove(*second.ueSet)) << "removing twice is harmless";
    // The P-CSCF's two sets share its ports 6502 and 6503, and so their guards.
    Xfrm& pcscf = *second.pcscfXfrm;
    EXPECT_EQ(pcscf.countState().ownPolicies, 12u);
    pcscf.remove(*first.pcscfSet);
    EXPECT_EQ(pcscf.countState().ownPolicies, 8u) << "the guards stay with the other set";
    pcscf.remove(*second.pcscfSet);
    EXPECT_EQ(pcscf.countState().ownPolicies, 0u);
}

TEST(Removal, ASetWhoseObjectsAnotherOwnerTookOverTakesNothingForeign) {
    Pair pair;
    Ports ports{6600, 6601, 6602, 6603};
    installPair(pair, specFor(false, ports, Integrity::HmacSha1_96, Encryption::AesCbc, {240, 0}));
    Xfrm& ue = *pair.ueXfrm;
    const SaSet& set = *pair.ueSet;
    // SA A and its policy vanish (expired, or cleaned up by someone), and another owner
    // installs its own SA with the same SPI and a policy with the same selector.
    std::string ueIp = sides->ueAddress(false).toString(),
                pcscfIp = sides->pcscfAddress(false).toString();
    std::string spiA = std::to_string(set.spi(SaId::A));
    std::string selector = "src " + ueIp + " dst " + pcscfIp + " sport 6600 dport 6603 dir out";
    test::shell("ip -n imsaka-ue xfrm state delete src " + ueIp + " dst " + pcscfIp +
                " proto esp spi " + spiA);
    test::shell("ip -n imsaka-ue xfrm policy delete " + selector);
    test::shell(
        "ip -n imsaka-ue xfrm state add src " + ueIp + " dst " + pcscfIp + " proto esp spi " +
        spiA +
        " reqid 7 mode transport auth-trunc 'hmac(md5)' 0x000102030405060708090a0b0c0d0e0f 96 "
        "enc 'ecb(cipher_null)' ''");
    test::shell("ip -n imsaka-ue xfrm policy add " + selector + " tmpl src " + ueIp + " dst " +
                pcscfIp + " proto esp reqid 7 mode transport");

    ue.remove(set);
    auto left = ue.countState();
    EXPECT_EQ(left.ownSas + left.ownPolicies, 0u) << "the rest of our set went";
    EXPECT_EQ(left.otherSas, 1u) << "the foreign SA with our old SPI stays";
    EXPECT_EQ(left.otherPolicies, 1u) << "the foreign policy on our old selector stays";
    test::shell("ip -n imsaka-ue xfrm state flush && ip -n imsaka-ue xfrm policy flush");
    pair.pcscfXfrm->remove(*pair.pcscfSet);
}

// Inbound packets the kernel dropped on a blocking policy in a namespace so far.
uint64_t blockedInbound(const std::string& ns) {
    std::string stat = test::shellOutput("ip netns exec " + ns + " cat /proc/net/xfrm_stat");
    auto at = stat.find("XfrmInPolBlock");
    return at == std::string::npos ? 0
                                   : std::stoull(stat.substr(stat.find_first_of("0123456789", at)));
}

// Waits (bounded) until the UE's kernel has dropped more than `before` packets on a guard.
uint64_t blockedBeyond(uint64_t before) {
    auto deadline = std::chrono::steady_clock::now() + 15s;
    uint64_t now = blockedInbound("imsaka-ue");
    while (now <= before && std::chrono::steady_clock::now() < deadline) {
        usleep(20000);
        now = blockedInbound("imsaka-ue");
    }
    return now;
}

TEST(Guards, CleartextToTheProtectedPortsFromAnyOtherPortOrAddressIsDropped) {
    for (bool v6 : {false, true}) {
        SCOPED_TRACE(v6 ? "IPv6" : "IPv4");
        auto base = static_cast<uint16_t>(v6 ? 6920 : 6900);
        Ports ports{base, static_cast<uint16_t>(base + 1), static_cast<uint16_t>(base + 2),
                    static_cast<uint16_t>(base + 3)};
        IpAddress ue = sides->ueAddress(v6), pcscf = sides->pcscfAddress(v6);
        // A second address on the P-CSCF's side: another host of the same link.
        IpAddress other = IpAddress::fromText(v6 ? "fd45::3" : "10.45.0.3");
        test::shell("ip -n imsaka-pc addr replace " + other.toString() + (v6 ? "/64" : "/24") +
                    " dev veth-pc" + (v6 ? " nodad" : ""));
        Pair pair;
        installPair(pair, specFor(v6, ports, Integrity::HmacSha1_96, Encryption::AesCbc, {240, 0}));

        // Cleartext to port_uc and port_us from another port of the P-CSCF, and from another
        // address with the P-CSCF's own protected ports: none of it reaches the UE's sockets.
        struct Source {
            IpAddress address;
            uint16_t port;
        };
        for (const Source& from :
             {Source{pcscf, 7777}, Source{other, ports.pc}, Source{other, ports.ps}}) {
            for (uint16_t to : {ports.uc, ports.us}) {
                SCOPED_TRACE(from.address.toString() + ":" + std::to_string(from.port) + " -> " +
                             std::to_string(to));
                Fd receiver = sides->ue.run([&] { return test::udpSocket(ue, to); });
                Fd sender =
                    sides->pcscf.run([&] { return test::udpSocket(from.address, from.port); });
                uint64_t before = blockedInbound("imsaka-ue");
                test::sendUdp(sender.get(), ue, to, "NOTIFY in clear");
                EXPECT_GT(blockedBeyond(before), before) << "the kernel did not drop it";
                EXPECT_EQ(test::receive(receiver.get(), 0ms), std::nullopt);
            }
        }
        // The set's own traffic still passes, as ESP.
        EXPECT_TRUE(udpDelivered(sides->pcscf, pcscf, ports.pc, sides->ue, ue, ports.us));
        EXPECT_TRUE(udpDelivered(sides->pcscf, pcscf, ports.ps, sides->ue, ue, ports.uc));
        EXPECT_TRUE(udpDelivered(sides->ue, ue, ports.uc, sides->pcscf, pcscf, ports.ps));
        auto counters = pair.ueXfrm->counters(*pair.ueSet);
        EXPECT_EQ(counters[static_cast<size_t>(SaId::C)].packets, 1u);
        EXPECT_EQ(counters[static_cast<size_t>(SaId::B)].packets, 1u);
        // Nothing leaves a protected port in clear either: the kernel refuses to send it.
        Fd fromUc = sides->ue.run([&] { return test::udpSocket(ue, ports.uc); });
        EXPECT_EQ(test::trySendUdp(fromUc.get(), pcscf, 7777, "in clear"), EPERM);

        pair.ueXfrm->remove(*pair.ueSet);
        pair.pcscfXfrm->remove(*pair.pcscfSet);
        EXPECT_EQ(pair.ueXfrm->countState().ownPolicies, 0u) << "the guards went with the set";
        // Without the set, the ports are ordinary ports again.
        EXPECT_TRUE(udpDelivered(sides->pcscf, other, 7777, sides->ue, ue, ports.us));
    }
}

TEST(Guards, SetsSharingAPortShareItsGuardsAndTheLastOneTakesThem) {
    // Two sets of one UE with the same port_us (and different P-CSCF ports).
    Pair first;
    installPair(first, specFor(false, {6940, 6941, 6942, 6943}, Integrity::HmacMd5_96,
                               Encryption::Null, {240, 0}));
    Pair second;
    second.ueXfrm = std::move(first.ueXfrm);
    second.pcscfXfrm = std::move(first.pcscfXfrm);
    installPair(second, specFor(false, {6950, 6941, 6952, 6953}, Integrity::HmacMd5_96,
                                Encryption::Null, {240, 0}));
    Xfrm& ue = *second.ueXfrm;
    EXPECT_EQ(ue.countState().ownPolicies, 14u) << "port_us 6941 has one pair of guards";
    IpAddress ueAddress = sides->ueAddress(false), pcscf = sides->pcscfAddress(false);
    EXPECT_TRUE(udpDelivered(sides->pcscf, pcscf, 6952, sides->ue, ueAddress, 6941));
    EXPECT_TRUE(udpDelivered(sides->pcscf, pcscf, 6942, sides->ue, ueAddress, 6941));

    ue.remove(*first.ueSet);
    EXPECT_EQ(ue.countState().ownPolicies, 8u) << "6941's guards stay for the second set";
    uint64_t before = blockedInbound("imsaka-ue");
    Fd receiver = sides->ue.run([&] { return test::udpSocket(ueAddress, 6941); });
    Fd sender = sides->pcscf.run([&] { return test::udpSocket(pcscf, 7777); });
    test::sendUdp(sender.get(), ueAddress, 6941, "in clear");
    EXPECT_GT(blockedBeyond(before), before);
    EXPECT_EQ(test::receive(receiver.get(), 0ms), std::nullopt);

    ue.remove(*second.ueSet);
    EXPECT_EQ(ue.countState().ownPolicies, 0u);
    second.pcscfXfrm->remove(*first.pcscfSet);
    second.pcscfXfrm->remove(*second.pcscfSet);
}

// The child of a crash test: installs sets one after another and signals on cue.
[[noreturn]] void installUntilKilled(int cue, bool killWhileLooping) {
    Xfrm xfrm;
    for (uint16_t i = 0;; ++i) {
        auto base = static_cast<uint16_t>(7000 + (i % 500) * 4);
        auto reservation = xfrm.reserveSpis(sides->ueAddress(false), sides->pcscfAddress(false));
        if (i == 3 && !killWhileLooping) {
            // Killed between the SPI allocation and the SA installation.
            (void)!write(cue, "x", 1);
            for (;;) pause();
        }
        Ports ports{base, static_cast<uint16_t>(base + 1), static_cast<uint16_t>(base + 2),
                    static_cast<uint16_t>(base + 3)};
        SaSetSpec spec =
            specFor(false, ports, Integrity::HmacSha1_96, Encryption::AesCbc, {240, 0});
        xfrm.install(reservation, withSpis(spec, reservation, 1000 + i * 2u, 1001 + i * 2u), kCk,
                     kIk);
        if (i == 3 && killWhileLooping) (void)!write(cue, "x", 1);
    }
}

// A child in the UE namespace installs sets, then is killed with SIGKILL at the moment
// given; the start-up cleanup of a new process must then leave nothing of ours and keep
// a foreign SA and policy.
void crashAndRecover(bool killWhileLooping) {
    test::shell(
        "ip -n imsaka-ue xfrm state add src 10.45.0.2 dst 10.45.0.1 proto esp spi 0x7777 "
        "reqid 7 mode transport auth-trunc 'hmac(sha1)' "
        "0x0102030405060708090a0b0c0d0e0f1011121314 96 enc 'cbc(aes)' "
        "0x0102030405060708090a0b0c0d0e0f10");
    test::shell(
        "ip -n imsaka-ue xfrm policy add src 10.45.0.1 dst 10.45.0.9 dir out "
        "tmpl src 10.45.0.1 dst 10.45.0.9 proto esp reqid 7 mode transport");
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    // The child works in the UE namespace and never returns into the test runner.
    pid_t child = sides->ue.run([&] {
        pid_t pid = fork();
        if (pid != 0) return pid;
        close(ready[0]);
        try {
            installUntilKilled(ready[1], killWhileLooping);
        } catch (const std::exception& error) {
            fprintf(stderr, "crash-test child: %s\n", error.what());
        }
        _exit(1);
    });
    close(ready[1]);
    char byte;
    ASSERT_EQ(read(ready[0], &byte, 1), 1) << "the child failed before its cue";
    close(ready[0]);
    if (killWhileLooping) usleep(20000);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));

    auto [found, removed, after] = sides->ue.run([] {
        Xfrm xfrm;
        auto before = xfrm.countState();
        auto gone = xfrm.removeOwnState();
        return std::tuple{before, gone, xfrm.countState()};
    });
    EXPECT_GE(found.ownSas, 14u) << "three whole sets and a reservation at least";
    if (!killWhileLooping) {
        EXPECT_EQ(found.ownSas, 14u);
        EXPECT_EQ(found.ownPolicies, 24u) << "three sets of four policies and four guards";
    }
    EXPECT_EQ(removed.ownSas, found.ownSas);
    EXPECT_EQ(removed.ownPolicies, found.ownPolicies);
    EXPECT_EQ(after.ownSas + after.ownPolicies, 0u);
    EXPECT_EQ(after.otherSas, 1u) << "the foreign SA must survive";
    EXPECT_EQ(after.otherPolicies, 1u) << "the foreign policy must survive";
    test::shell("ip -n imsaka-ue xfrm state flush && ip -n imsaka-ue xfrm policy flush");
}

TEST(CrashRecovery, CleanupAfterAKillBetweenSpiAllocationAndInstallKeepsForeignState) {
    crashAndRecover(false);
}

TEST(CrashRecovery, CleanupAfterAKillAtAnyMomentOfALoopOfInstallsKeepsForeignState) {
    crashAndRecover(true);
}

TEST(Errors, ASetWhosePoliciesCollideFailsWholeAndLeavesTheFirstSetIntact) {
    Pair first;
    Ports ports{6600, 6601, 6602, 6603};
    installPair(first, specFor(false, ports, Integrity::HmacMd5_96, Encryption::AesCbc, {240, 0}));
    Xfrm& ue = *first.ueXfrm;
    auto reservation = ue.reserveSpis(sides->ueAddress(false), sides->pcscfAddress(false));
    SaSetSpec spec =
        withSpis(specFor(false, ports, Integrity::HmacMd5_96, Encryption::AesCbc, {240, 0}),
                 reservation, 4000, 4001);
    try {
        ue.install(reservation, spec, kCk, kIk);
        FAIL() << "a second set on the same selectors was accepted";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::AlreadyExists) << error.what();
        EXPECT_EQ(error.where(), "install policy for SA A");
    }
    auto count = ue.countState();
    EXPECT_EQ(count.ownSas, 4u) << "the failed set and its reservation are gone";
    EXPECT_EQ(count.ownPolicies, 8u) << "the first set's policies and guards are untouched";
    IpAddress ueAddress = sides->ueAddress(false), pcscf = sides->pcscfAddress(false);
    EXPECT_TRUE(udpDelivered(sides->ue, ueAddress, ports.uc, sides->pcscf, pcscf, ports.ps));
    EXPECT_EQ(ue.counters(*first.ueSet)[0].packets, 1u) << "the first set still carries traffic";
    ue.remove(*first.ueSet);
    first.pcscfXfrm->remove(*first.pcscfSet);
}

TEST(Errors, AnExpiredReservationFailsTheInstallByNameAndLeavesNothing) {
    // The kernel drops larval SAs after net.core.xfrm_acq_expires seconds (per namespace).
    test::shell("ip netns exec imsaka-ue sh -c 'echo 1 > /proc/sys/net/core/xfrm_acq_expires'");
    Xfrm ue = sides->ue.run([] { return Xfrm(); });
    auto reservation = ue.reserveSpis(sides->ueAddress(true), sides->pcscfAddress(true));
    test::shell("ip netns exec imsaka-ue sh -c 'echo 30 > /proc/sys/net/core/xfrm_acq_expires'");
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (ue.countState().ownSas != 0 && std::chrono::steady_clock::now() < deadline)
        usleep(200000);
    ASSERT_EQ(ue.countState().ownSas, 0u) << "the kernel kept the larval SAs";
    SaSetSpec spec = withSpis(
        specFor(true, {6700, 6701, 6702, 6703}, Integrity::HmacSha1_96, Encryption::Null, {240, 0}),
        reservation, 5000, 5001);
    try {
        ue.install(reservation, spec, kCk, kIk);
        FAIL() << "installed onto SPIs that were no longer reserved";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::ReservationExpired) << error.what();
        EXPECT_EQ(error.where(), "install SA B");
    }
    auto left = ue.countState();
    EXPECT_EQ(left.ownSas + left.ownPolicies, 0u) << "SA A and the policies were undone";
}

TEST(Errors, ReadingOrChangingARemovedSetSaysNotFound) {
    Pair pair;
    installPair(pair, specFor(false, {6800, 6801, 6802, 6803}, Integrity::HmacMd5_96,
                              Encryption::DesEde3Cbc, {240, 0}));
    pair.ueXfrm->remove(*pair.ueSet);
    pair.pcscfXfrm->remove(*pair.pcscfSet);
    try {
        pair.ueXfrm->counters(*pair.ueSet);
        FAIL() << "counters of a removed set";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::NotFound) << error.what();
    }
    try {
        pair.ueXfrm->setLifetime(*pair.ueSet, {3600, 0});
        FAIL() << "changed the lifetime of a removed set";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::NotFound) << error.what();
    }
    EXPECT_EQ(pair.ueXfrm->countState().ownSas, 0u) << "nothing came back";
}

}  // namespace
}  // namespace imsaka::ipsec

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new imsaka::ipsec::GuestEnvironment);
    return RUN_ALL_TESTS();
}
