// imsaka-register against imsakad with real SA sets, inside user-mode Linux. The P-CSCF is
// this test: ImsNetwork's real AKA challenges on the unprotected port, and the network's
// side of the SA set put into the namespace imsaka-pcscf with `ip xfrm`, so that the
// protected REGISTER and its 200 OK really cross as ESP.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

#include "process.h"
#include "scenario.h"
#include "sip_message.h"
#include "transport.h"

namespace imsaka::daemontest {
namespace {

using namespace std::chrono_literals;
using reg::Endpoint;

// Runs make() in the namespace imsaka-pcscf (sockets made there stay there).
template <typename Make>
reg::Socket inPcscfNamespace(Make make) {
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int pcscf = open("/run/netns/imsaka-pcscf", O_RDONLY | O_CLOEXEC);
    if (home < 0 || pcscf < 0 || setns(pcscf, CLONE_NEWNET) != 0)
        throw std::runtime_error("cannot enter the namespace imsaka-pcscf");
    reg::Socket socket;
    std::string error;
    try {
        socket = make();
    } catch (const std::exception& failure) {
        error = failure.what();
    }
    bool back = setns(home, CLONE_NEWNET) == 0;
    close(pcscf);
    close(home);
    if (!back) throw std::runtime_error("cannot leave the namespace imsaka-pcscf");
    if (!error.empty()) throw std::runtime_error(error);
    return socket;
}

bool readable(int fd, std::chrono::milliseconds timeout) {
    pollfd wait{fd, POLLIN, 0};
    return poll(&wait, 1, static_cast<int>(timeout.count())) == 1;
}

// One port of the test P-CSCF: a UDP socket, or over TCP a listener and the connection
// accepted on it, or (when it does not listen) a connection from it to the UE.
class PcscfPort {
  public:
    PcscfPort(bool tcp, uint16_t port, bool listens = true)
        : tcp_(tcp), local_{kPcscfAddress, port} {
        if (!tcp || listens)
            socket_ = inPcscfNamespace(
                [&] { return tcp ? reg::listenTcp(local_) : reg::bindUdp(local_); });
    }

    // The next message, and where it came from.
    reg::Message receive(std::chrono::milliseconds timeout = 15s) {
        if (!tcp_) {
            if (!readable(socket_.fd(), timeout)) throw std::runtime_error("nothing came");
            auto datagram = reg::receiveDatagram(socket_);
            if (!datagram) throw std::runtime_error("nothing came");
            peer_ = datagram->from;
            lastSize_ = datagram->data.size();
            return reg::parseMessage(datagram->data);
        }
        if (!connection_) {
            if (!readable(socket_.fd(), timeout)) throw std::runtime_error("no connection came");
            connection_ = reg::accept(socket_);
            peer_ = reg::peerEndpoint(connection_);
        }
        while (true) {
            if (auto text = framer_.next()) {
                lastSize_ = text->size();
                return reg::parseMessage(*text);
            }
            if (!readable(connection_.fd(), timeout)) throw std::runtime_error("nothing came");
            auto bytes = reg::receiveStream(connection_);
            if (!bytes) throw std::runtime_error("the connection closed");
            framer_.append(*bytes);
        }
    }
    // Sends on the connection (TCP), or to `to` (UDP; the sender when not given).
    void send(const std::string& text, std::optional<Endpoint> to = std::nullopt) {
        if (tcp_) return reg::sendStream(connection_, text);
        reg::sendDatagram(socket_, to.value_or(peer_), text);
    }
    // TCP: the next receive() takes the next connection (the UE's requests over a new SA set
    // come on a connection from its new port_uc); the current one stays open meanwhile.
    void acceptNext() {
        previous_ = std::move(connection_);
        framer_ = reg::StreamFramer();
    }
    // TCP: a connection from this port to the UE.
    void connectTo(const Endpoint& ue) {
        connection_ = inPcscfNamespace([&] { return reg::connectTcp(local_, ue); });
        peer_ = ue;
    }
    const Endpoint& peer() const { return peer_; }
    // What to poll for the next message (the connection once one is accepted).
    int readableFd() const { return connection_ ? connection_.fd() : socket_.fd(); }
    // The size in bytes of the last message received.
    size_t lastSize() const { return lastSize_; }

  private:
    bool tcp_;
    Endpoint local_;
    reg::Socket socket_;
    reg::Socket connection_;
    reg::Socket previous_;
    reg::StreamFramer framer_;
    Endpoint peer_;
    size_t lastSize_ = 0;
};

std::string responseText(const std::string& statusLine, const testing::SipHeaders& headers) {
    std::string text = "SIP/2.0 " + statusLine + "\r\n";
    for (const auto& [name, value] : headers) text += name + ": " + value + "\r\n";
    return text + "Content-Length: 0\r\n\r\n";
}

void run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::string spi(uint32_t value) {
    std::ostringstream text;
    text << "0x" << std::hex << value;
    return text.str();
}

// The network's side of the challenge's SA set (hmac-sha-1-96, null encryption): the four
// SAs, and policies for what the P-CSCF sends (from port_ps to port_uc through B, from
// port_pc to port_us through C), for "udp", "tcp" or "both".
void installPcscfSas(const testing::Challenge& challenge, const std::string& protocol) {
    std::string key = "0x" + toHex(challenge.vector.ik) + "00000000";  // TS 33.203 Annex I
    std::string algorithms =
        " mode transport auth-trunc 'hmac(sha1)' " + key + " 96 enc 'ecb(cipher_null)' ''";
    std::string ip = "ip -n imsaka-pcscf xfrm ";
    std::string toPcscf = std::string(" src ") + kUeAddress + " dst " + kPcscfAddress;
    std::string toUe = std::string(" src ") + kPcscfAddress + " dst " + kUeAddress;
    run(ip + "state add" + toPcscf + " proto esp spi " + spi(challenge.pcscf.spiS) + algorithms);
    run(ip + "state add" + toUe + " proto esp spi " + spi(challenge.ue.spiC) + algorithms);
    run(ip + "state add" + toUe + " proto esp spi " + spi(challenge.ue.spiS) + algorithms);
    run(ip + "state add" + toPcscf + " proto esp spi " + spi(challenge.pcscf.spiC) + algorithms);
    auto policy = [&](uint16_t from, uint16_t to, uint32_t spiOut) {
        for (const char* each : {"udp", "tcp"})
            if (protocol == each || protocol == "both")
                run(ip + "policy add src " + kPcscfAddress + "/32 dst " + kUeAddress +
                    "/32 proto " + each + " sport " + std::to_string(from) + " dport " +
                    std::to_string(to) + " dir out tmpl" + toUe + " proto esp spi " + spi(spiOut) +
                    " mode transport");
    };
    policy(challenge.pcscf.portS, challenge.ue.portC, challenge.ue.spiC);
    policy(challenge.pcscf.portC, challenge.ue.portS, challenge.ue.spiS);
}

// Polls until the kernel holds `count` keyed SAs (a generous bound: the machine may be busy).
bool waitForKeyedSas(size_t count, std::chrono::seconds within = 30s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (kernelView().keyedSas != count) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

void removePcscfSas() {
    std::system("ip -n imsaka-pcscf xfrm state flush; ip -n imsaka-pcscf xfrm policy flush");
}

// The P-CSCF's inbound SAs only (A and D): what the UE sends is lost from then on.
void removePcscfInboundSas(const testing::Challenge& challenge) {
    for (uint32_t value : {challenge.pcscf.spiS, challenge.pcscf.spiC})
        run(std::string("ip -n imsaka-pcscf xfrm state delete src ") + kUeAddress + " dst " +
            kPcscfAddress + " proto esp spi " + spi(value));
}

// Polls until the kernel holds nothing of ours (a set goes once its TCP connections have
// closed through it), up to a generous bound; returns the last view.
KernelView waitUntilClean() {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
        auto view = kernelView();
        if ((view.ownSas == 0 && view.ownPolicies == 0) ||
            std::chrono::steady_clock::now() > deadline)
            return view;
        std::this_thread::sleep_for(20ms);
    }
}

// Inbound packets the UE's kernel dropped on a blocking policy so far.
uint64_t blockedInbound() {
    std::string stat = commandOutput("cat /proc/net/xfrm_stat");
    auto at = stat.find("XfrmInPolBlock");
    return at == std::string::npos ? 0
                                   : std::stoull(stat.substr(stat.find_first_of("0123456789", at)));
}

// Waits (bounded) until that count is above `before`; returns it.
uint64_t blockedBeyond(uint64_t before) {
    auto deadline = std::chrono::steady_clock::now() + 15s;
    uint64_t now = blockedInbound();
    while (now <= before && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        now = blockedInbound();
    }
    return now;
}

// Every IPv4 packet that leaves or reaches the UE's end of the veth pair (AF_PACKET; only
// an ETH_P_ALL tap sees what leaves), to find UDP or TCP (not ESP) from the UE's protected
// ports.
class WireWatch {
  public:
    WireWatch() : fd_(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL))) {
        if (fd_ < 0) throw std::runtime_error("cannot open an AF_PACKET socket");
        sockaddr_ll where{};
        where.sll_family = AF_PACKET;
        where.sll_protocol = htons(ETH_P_ALL);
        where.sll_ifindex = static_cast<int>(if_nametoindex("veth-ue"));
        if (where.sll_ifindex == 0 ||
            bind(fd_, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0)
            throw std::runtime_error("cannot watch veth-ue");
    }
    ~WireWatch() { close(fd_); }
    WireWatch(const WireWatch&) = delete;
    WireWatch& operator=(const WireWatch&) = delete;

    // UDP and TCP packets from kUeAddress with one of these source ports seen so far.
    std::vector<std::string> cleartextFrom(std::initializer_list<uint16_t> ports) {
        std::vector<std::string> found;
        uint8_t packet[2048];
        ssize_t length;
        sockaddr_ll from{};
        socklen_t fromLength = sizeof from;
        while ((length = recvfrom(fd_, packet, sizeof packet, MSG_DONTWAIT,
                                  reinterpret_cast<sockaddr*>(&from), &fromLength)) >= 0) {
            fromLength = sizeof from;
            if (from.sll_protocol != htons(ETH_P_IP) || length < 20) continue;
            size_t header = static_cast<size_t>(packet[0] & 0x0f) * 4;
            uint8_t protocol = packet[9];
            bool fragment = ((packet[6] & 0x1f) | packet[7]) != 0;
            if ((protocol != IPPROTO_UDP && protocol != IPPROTO_TCP) || fragment ||
                static_cast<size_t>(length) < header + 4)
                continue;
            char source[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, packet + 12, source, sizeof source);
            auto port = static_cast<uint16_t>(packet[header] << 8 | packet[header + 1]);
            if (std::string(source) != kUeAddress ||
                std::find(ports.begin(), ports.end(), port) == ports.end())
                continue;
            std::string what = protocol == IPPROTO_TCP ? "TCP" : "UDP";
            if (protocol == IPPROTO_TCP && static_cast<size_t>(length) >= header + 14) {
                uint8_t flags = packet[header + 13];
                if (flags & 0x01) what += " FIN";
                if (flags & 0x04) what += " RST";
            }
            found.push_back(what + " from port " + std::to_string(port));
        }
        return found;
    }

  private:
    int fd_;
};

// A TCP connection attempt from the P-CSCF's namespace: whether it was answered within
// connectTcp's bound (a SYN the UE's kernel drops gets no answer).
bool tcpConnects(const Endpoint& from, const Endpoint& to) {
    try {
        inPcscfNamespace([&] { return reg::connectTcp(from, to); });
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

// imsaka-register as a child process, and every line it printed so far (for failure
// messages).
class RegisterProcess : public testing::Running {
  public:
    explicit RegisterProcess(const std::vector<std::string>& args)
        : Running(IMSAKA_REGISTER_PATH, args) {}

    // Reads lines until one starts with word; returns it ("" when none came in time).
    std::string lineStartingWith(const std::string& word, std::chrono::milliseconds timeout = 10s) {
        while (auto text = readLine(timeout)) {
            seen_ += *text + "\n";
            if (text->rfind(word + " ", 0) == 0) return *text;
        }
        return "";
    }
    const std::string& seen() const { return seen_; }

  private:
    std::string seen_;
};

// "word key=value ..." as a map.
std::map<std::string, std::string> fields(const std::string& line) {
    std::map<std::string, std::string> values;
    std::istringstream words(line);
    std::string word;
    while (words >> word)
        if (auto equals = word.find('='); equals != std::string::npos)
            values[word.substr(0, equals)] = word.substr(equals + 1);
    return values;
}

// A reg-event NOTIFY for the subscription the UE made, with our contact in `state`.
std::string notifyText(const reg::Message& subscribe, const std::string& toTag,
                       const std::string& contactUri, const std::string& contactState,
                       const std::string& event, unsigned version) {
    std::string body = R"(<?xml version="1.0"?>)"
                       R"(<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version=")" +
                       std::to_string(version) + R"(" state="full"><registration aor=")" +
                       std::string(kImpu) + R"(" id="r1" state=")" +
                       (contactState == "active" ? "active" : "terminated") +
                       R"("><contact id="c1" state=")" + contactState + R"(" event=")" + event +
                       R"("><uri>)" + contactUri + "</uri></contact></registration></reginfo>";
    std::string text = "NOTIFY " + contactUri + " SIP/2.0\r\n";
    text +=
        "Via: SIP/2.0/UDP " + std::string(kPcscfAddress) + ";branch=" + reg::newBranch() + "\r\n";
    text += "From: " + subscribe.header("To") + ";tag=" + toTag + "\r\n";
    text += "To: " + subscribe.header("From") + "\r\n";
    text += "Call-ID: " + subscribe.callId + "\r\n";
    text += "CSeq: " + std::to_string(version + 1) + " NOTIFY\r\n";
    text += "Event: reg\r\nSubscription-State: active;expires=600000\r\n";
    text += "Content-Type: application/reginfo+xml\r\n";
    return text + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The URI inside "<...>" of a name-addr.
std::string uriOf(const std::string& nameAddr) {
    size_t open = nameAddr.find('<');
    return nameAddr.substr(open + 1, nameAddr.find('>') - open - 1);
}

class RegisterKernelTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        if (auto error = startSandbox(sandbox_, {}, "", extraConfig()); !error.empty())
            FAIL() << error;
        if (access(IMSAKA_REGISTER_PATH, X_OK) != 0)
            FAIL() << "missing " << IMSAKA_REGISTER_PATH << ": build tools/register first";
        unprotected = std::make_unique<PcscfPort>(tcp(), 5060);
        serverPort = std::make_unique<PcscfPort>(tcp(), network.options().portS);
        // Over TCP nothing connects to port_pc: the P-CSCF's requests go out from it.
        clientPort = std::make_unique<PcscfPort>(tcp(), network.options().portC, false);
    }
    void TearDown() override {
        removePcscfSas();
        if (HasFailure() && sandbox_) std::cerr << sandbox_->diagnostics();
    }

    // These tests follow the transport they ask for: REGISTERs stay on UDP whatever their
    // size (RFC 3261 18.1.1 would move the protected ones to TCP, which LargeRegisterTest
    // checks with the default limit).
    virtual std::string extraConfig() const { return "[registration]\nmax_udp_size = 65000\n"; }

    bool tcp() const { return GetParam() == "tcp"; }
    std::vector<std::string> arguments(std::vector<std::string> more) const {
        std::vector<std::string> args{"--card",      sandbox_->cardPath, "--pcscf",
                                      kPcscfAddress, "--local-address",  kUeAddress,
                                      "--transport", GetParam()};
        args.insert(args.end(), more.begin(), more.end());
        return args;
    }

    // Takes the client from the first REGISTER to "registered": a real challenge on the
    // unprotected port, the network's SAs, the protected REGISTER checked and answered 200.
    // Returns the protected REGISTER.
    reg::Message registerClient(RegisterProcess& client) {
        reg::Message initial = unprotected->receive();
        EXPECT_EQ(initial.method, "REGISTER");
        EXPECT_EQ(unprotected->peer(), (Endpoint{kUeAddress, 5060}));
        challenge = network.challenge(initial.headers);
        installPcscfSas(challenge, GetParam());
        unprotected->send(responseText("401 Unauthorized", challenge.headers));

        reg::Message answer = serverPort->receive();
        EXPECT_EQ(serverPort->peer(), (Endpoint{kUeAddress, challenge.ue.portC}));
        auto check = network.checkAuthorization(answer.headers, answer.uri);
        EXPECT_EQ(check.kind, testing::AuthorizationKind::Valid);
        EXPECT_TRUE(check.securityVerifyMatches);
        answerProtected(responseText("200 OK", network.ok(answer.headers, expires, {kImpu},
                                                          {"sip:orig@scscf.example.org;lr"})));
        registered = client.lineStartingWith("registered");
        return answer;
    }
    // SIGTERM: the client deregisters over the SAs in use and exits 0, leaving nothing.
    void deregisterOnSigterm(RegisterProcess& client) {
        client.signal(SIGTERM);
        reg::Message deregister = serverPort->receive();
        EXPECT_EQ(deregister.header("Expires"), "0");
        answerProtected(responseText("200 OK", network.ok(deregister.headers, 0, {kImpu}, {})));
        EXPECT_FALSE(client.lineStartingWith("deregistered").empty()) << client.seen();
        EXPECT_EQ(client.wait(10s), 0) << client.seen();
        auto after = waitUntilClean();
        EXPECT_EQ(after.ownSas, 0u) << after.ipXfrmState;
        EXPECT_EQ(after.ownPolicies, 0u) << after.ipXfrmPolicy;
        std::cout << client.seen();
    }
    // Takes the reg-event SUBSCRIBE from the P-CSCF's protected port and accepts it (200,
    // Expires 600000); returns the SUBSCRIBE.
    reg::Message acceptSubscribe(RegisterProcess& client) {
        reg::Message subscribe = serverPort->receive();
        EXPECT_EQ(subscribe.method, "SUBSCRIBE");
        auto ok = network.response(subscribe.headers);
        ok.emplace_back("Expires", "600000");
        answerProtected(responseText("200 OK", ok));
        EXPECT_EQ(client.lineStartingWith("subscribed"), "subscribed expires=600000")
            << client.seen();
        return subscribe;
    }
    // Over UDP the P-CSCF answers from port_pc to port_us; over TCP on the connection.
    void answerProtected(const std::string& text) {
        if (tcp())
            serverPort->send(text);
        else
            clientPort->send(text, Endpoint{kUeAddress, challenge.ue.portS});
    }

    std::unique_ptr<Sandbox> sandbox_;
    testing::ImsNetwork network;
    testing::Challenge challenge;
    std::unique_ptr<PcscfPort> unprotected;
    std::unique_ptr<PcscfPort> serverPort;
    std::unique_ptr<PcscfPort> clientPort;
    std::string registered;
    uint32_t expires = 3600;  // what the 200 grants
};

TEST_P(RegisterKernelTest, RegistersThroughEspAndDeregistersOnSigterm) {
    ASSERT_TRUE(sandbox_);
    WireWatch wire;
    RegisterProcess client(arguments({"--no-subscribe", "--timer-f", "20"}));
    ASSERT_FALSE(client.lineStartingWith("created").empty()) << client.seen();
    registerClient(client);
    ASSERT_FALSE(registered.empty()) << client.seen();
    auto values = fields(registered);
    EXPECT_EQ(values["port-uc"], std::to_string(challenge.ue.portC));
    EXPECT_EQ(values["port-us"], std::to_string(challenge.ue.portS));
    EXPECT_EQ(values["port-pc"], std::to_string(challenge.pcscf.portC));
    EXPECT_EQ(values["port-ps"], std::to_string(challenge.pcscf.portS));
    EXPECT_EQ(values["expires"], "3600");
    EXPECT_GT(std::stod(values["challenge-ms"]), 0.0);
    EXPECT_GE(std::stod(values["register-ms"]), std::stod(values["challenge-ms"]));
    EXPECT_NE(client.seen().find("sent method=REGISTER transport=" + GetParam() +
                                 " from=10.46.0.1:5060 to=10.46.0.2:5060 protected=no"),
              std::string::npos)
        << client.seen();
    EXPECT_EQ(kernelView().keyedSas, 4u);

    // SIGTERM: the deregistration goes over the same SAs, then the registration is closed.
    deregisterOnSigterm(client);
    // Over TCP the connection from port_uc was closed while the SAs stood: its FIN (and any
    // retransmission) went as ESP, and nothing left the protected ports in clear.
    if (tcp()) {
        EXPECT_THROW(serverPort->receive(15s), std::runtime_error) << "the FIN came through";
    }
    EXPECT_THAT(wire.cleartextFrom({challenge.ue.portC, challenge.ue.portS}), ::testing::IsEmpty());
}

// TS 33.203: the UE discards what reaches its protected ports unprotected. Cleartext from
// another port of the P-CSCF or from another address never reaches the client, while the
// P-CSCF's protected messages do.
TEST_P(RegisterKernelTest, CleartextToTheProtectedPortsNeverReachesTheClient) {
    ASSERT_TRUE(sandbox_);
    RegisterProcess client(arguments({"--timer-f", "20"}));
    reg::Message answer = registerClient(client);
    ASSERT_FALSE(registered.empty()) << client.seen();
    reg::Message subscribe = acceptSubscribe(client);
    ASSERT_FALSE(HasFailure()) << client.seen();

    const std::string contactUri = uriOf(answer.header("Contact"));
    const Endpoint portUs{kUeAddress, challenge.ue.portS};
    const Endpoint portUc{kUeAddress, challenge.ue.portC};
    run("ip -n imsaka-pcscf addr replace 10.46.0.4/24 dev veth-pc");
    // A forged NOTIFY that would end the registration, in clear: from another port of the
    // P-CSCF, and from another address with the P-CSCF's protected client port.
    std::string forged = notifyText(subscribe, "f1", contactUri, "terminated", "deactivated", 0);
    for (const Endpoint& from :
         {Endpoint{kPcscfAddress, 7777}, Endpoint{"10.46.0.4", challenge.pcscf.portC}}) {
        // Over TCP the P-CSCF's requests come as connections to port_us.
        for (const Endpoint& to : tcp() ? std::vector{portUs} : std::vector{portUs, portUc}) {
            SCOPED_TRACE(from.text() + " -> " + to.text());
            uint64_t before = blockedInbound();
            if (tcp()) {
                EXPECT_FALSE(tcpConnects(from, to)) << "a cleartext connection was accepted";
            } else {
                auto socket = inPcscfNamespace([&] { return reg::bindUdp(from); });
                reg::sendDatagram(socket, to, forged);
            }
            EXPECT_GT(blockedBeyond(before), before) << "the UE's kernel did not drop it";
        }
    }
    // The P-CSCF's own NOTIFY, protected, is the first the client takes.
    if (tcp()) clientPort->connectTo(portUs);
    clientPort->send(notifyText(subscribe, "n1", contactUri, "active", "registered", 0), portUs);
    reg::Message response = clientPort->receive();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(client.lineStartingWith("notify"), "notify state=registered next=done")
        << client.seen();
    EXPECT_EQ(client.seen().find("notify error"), std::string::npos) << client.seen();
    client.signal(SIGKILL);
    std::cout << client.seen();
}

TEST_P(RegisterKernelTest, SubscribesAndEndsWhenTheNetworkRejectsTheRegistration) {
    ASSERT_TRUE(sandbox_);
    RegisterProcess client(arguments({"--timer-f", "20"}));
    reg::Message answer = registerClient(client);
    ASSERT_FALSE(registered.empty()) << client.seen();

    // The SUBSCRIBE to the reg event, through the P-CSCF's protected port and the route set.
    reg::Message subscribe = acceptSubscribe(client);
    EXPECT_EQ(subscribe.uri, kImpu);
    EXPECT_EQ(subscribe.header("Event"), "reg");
    EXPECT_EQ(subscribe.header("Expires"), "600000");
    EXPECT_EQ(testing::headerValues(subscribe.headers, "Route"),
              (std::vector<std::string>{
                  "<sip:10.46.0.2:" + std::to_string(challenge.pcscf.portS) + ";lr>",
                  "<sip:orig@scscf.example.org;lr>"}));
    const std::string contactUri = uriOf(answer.header("Contact"));
    EXPECT_EQ(uriOf(subscribe.header("Contact")), contactUri);

    // NOTIFYs come from port_pc to port_us (TCP: a connection of the P-CSCF's) and are answered.
    if (tcp()) clientPort->connectTo({kUeAddress, challenge.ue.portS});
    const std::string toTag = "n1";
    auto notify = [&](const std::string& state, const std::string& event, unsigned version) {
        std::string text = notifyText(subscribe, toTag, contactUri, state, event, version);
        clientPort->send(text, Endpoint{kUeAddress, challenge.ue.portS});
        reg::Message response = clientPort->receive();
        EXPECT_EQ(response.status, 200);
        EXPECT_EQ(response.method, "NOTIFY");
    };
    notify("active", "registered", 0);
    EXPECT_EQ(client.lineStartingWith("notify"), "notify state=registered next=done")
        << client.seen();
    notify("terminated", "rejected", 1);
    EXPECT_NE(client.lineStartingWith("notify").find(" next=stop"), std::string::npos)
        << client.seen();
    EXPECT_EQ(client.lineStartingWith("failed").rfind("failed error=terminated", 0), 0u)
        << client.seen();
    EXPECT_EQ(client.wait(10s), 1) << client.seen();
    auto after = waitUntilClean();
    EXPECT_EQ(after.ownSas, 0u) << after.ipXfrmState;
    std::cout << client.seen();
}

TEST_P(RegisterKernelTest, RegistersAgainWhenTheDaemonSaysTheRegistrationIsDue) {
    ASSERT_TRUE(sandbox_);
    RegisterProcess client(arguments({"--no-subscribe", "--timer-f", "20"}));
    expires = 4;  // the daemon refreshes a short registration at half its lifetime
    registerClient(client);
    ASSERT_FALSE(registered.empty()) << client.seen();
    EXPECT_EQ(fields(registered)["expires"], "4");

    // RefreshDue("expiry"): a protected re-REGISTER over the set in use, from the same ports.
    reg::Message refresh = serverPort->receive(10s);
    EXPECT_EQ(refresh.method, "REGISTER");
    EXPECT_EQ(serverPort->peer(), (Endpoint{kUeAddress, challenge.ue.portC}));
    answerProtected(responseText("200 OK", network.ok(refresh.headers, 3600, {kImpu}, {})));
    EXPECT_EQ(client.lineStartingWith("refresh"), "refresh reason=expiry") << client.seen();
    auto again = fields(client.lineStartingWith("registered"));
    EXPECT_EQ(again["expires"], "3600") << client.seen();
    EXPECT_EQ(again["port-uc"], std::to_string(challenge.ue.portC));
    std::cout << client.seen();
}

// Re-authentication while a request is in flight (TS 24.229 5.1.1.5.1, TS 33.203 7.4): the
// refresh is challenged, a new set comes with new SPIs and client ports but the same port_us
// (so the Contact stays); a MESSAGE the P-CSCF sends over the old set after the new one is
// established still arrives and is answered over the old set. The old set goes only after
// the network's first message on the new set, and the grace for the old set's transactions.
TEST_P(RegisterKernelTest, AMessageOnTheOldSetAfterReauthenticationStillArrives) {
    ASSERT_TRUE(sandbox_);
    RegisterProcess client(arguments({"--no-subscribe", "--timer-f", "20"}));
    expires = 4;  // the refresh comes at half
    reg::Message first = registerClient(client);
    ASSERT_FALSE(registered.empty()) << client.seen();
    const testing::Challenge old = challenge;

    // The refresh over the old set, challenged: the P-CSCF keeps port_ps, takes a new
    // port_pc and new SPIs.
    reg::Message refresh = serverPort->receive(10s);
    ASSERT_EQ(refresh.method, "REGISTER");
    EXPECT_EQ(serverPort->peer(), (Endpoint{kUeAddress, old.ue.portC}));
    const uint16_t newPortPc = old.pcscf.portC + 10;
    network.setPcscfSide(old.pcscf.spiC + 0x100, old.pcscf.spiS + 0x100, newPortPc,
                         old.pcscf.portS);
    challenge = network.challenge(refresh.headers);
    EXPECT_EQ(challenge.ue.portS, old.ue.portS) << "port_us must stay (TS 33.203 7.4)";
    EXPECT_NE(challenge.ue.portC, old.ue.portC);
    EXPECT_NE(challenge.ue.spiC, old.ue.spiC);
    EXPECT_NE(challenge.ue.spiS, old.ue.spiS);
    installPcscfSas(challenge, GetParam());
    const std::string unauthorized = responseText("401 Unauthorized", challenge.headers);
    if (tcp())
        serverPort->send(unauthorized);
    else
        clientPort->send(unauthorized, Endpoint{kUeAddress, old.ue.portS});

    // The REGISTER answering it over the new set, from the new port_uc, with the same Contact.
    if (tcp()) serverPort->acceptNext();
    reg::Message answer = serverPort->receive();
    EXPECT_EQ(serverPort->peer(), (Endpoint{kUeAddress, challenge.ue.portC}));
    EXPECT_EQ(network.checkAuthorization(answer.headers, answer.uri).kind,
              testing::AuthorizationKind::Valid);
    EXPECT_EQ(uriOf(answer.header("Contact")), uriOf(first.header("Contact")));
    auto oldClientPort = std::move(clientPort);
    clientPort = std::make_unique<PcscfPort>(tcp(), newPortPc, false);
    answerProtected(responseText("200 OK", network.ok(answer.headers, 3600, {kImpu}, {})));
    ASSERT_FALSE(client.lineStartingWith("registered").empty()) << client.seen();
    EXPECT_EQ(kernelView().keyedSas, 8u) << "both sets until the network uses the new one";
    // Give the daemon time to notice the 200 OK on the new set (it polls the counters).
    std::this_thread::sleep_for(500ms);

    // A MESSAGE over the old set after the new set is established.
    auto message = [&](PcscfPort& from, uint16_t port, const char* tag) {
        if (tcp()) from.connectTo({kUeAddress, old.ue.portS});
        std::string text = "MESSAGE " + uriOf(first.header("Contact")) + " SIP/2.0\r\n";
        text += "Via: SIP/2.0/" + std::string(tcp() ? "TCP " : "UDP ") + kPcscfAddress + ":" +
                std::to_string(port) + ";branch=" + reg::newBranch() + "\r\n";
        text += "From: <sip:peer@example.org>;tag=" + std::string(tag) + "\r\n";
        text += "To: <" + std::string(kImpu) + ">\r\nCall-ID: " + tag + "@pcscf\r\n";
        text += "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
        from.send(text, Endpoint{kUeAddress, old.ue.portS});
        return from.receive(10s);
    };
    reg::Message onOld;
    ASSERT_NO_THROW(onOld = message(*oldClientPort, old.pcscf.portC, "old"))
        << "the MESSAGE on the old set was lost\n"
        << client.seen();
    EXPECT_EQ(onOld.status, 200);
    EXPECT_EQ(onOld.method, "MESSAGE");
    EXPECT_EQ(kernelView().keyedSas, 8u);

    // The network's first message on the new set: the old set goes after the grace.
    reg::Message onNew;
    ASSERT_NO_THROW(onNew = message(*clientPort, newPortPc, "new")) << client.seen();
    EXPECT_EQ(onNew.status, 200);
    EXPECT_TRUE(waitForKeyedSas(4)) << kernelView().ipXfrmState;
    char oldSpi[16];
    std::snprintf(oldSpi, sizeof oldSpi, "0x%08x", old.ue.spiS);
    auto left = kernelView().ipXfrmState;
    EXPECT_EQ(left.find(std::string("spi ") + oldSpi), std::string::npos) << left;

    deregisterOnSigterm(client);
}

TEST_P(RegisterKernelTest, CyclesRegisterAndDeregisterThenReportTheRate) {
    ASSERT_TRUE(sandbox_);
    RegisterProcess client(arguments({"--cycles", "2", "--timer-f", "20"}));
    for (int cycle = 0; cycle < 2; ++cycle) {
        registerClient(client);
        ASSERT_FALSE(registered.empty()) << "cycle " << cycle << "\n" << client.seen();
        reg::Message deregister = serverPort->receive();
        EXPECT_EQ(deregister.header("Expires"), "0");
        // The P-CSCF drops its side once it has answered, as it may after a deregistration
        // (here what it receives goes first): over TCP the UE's FIN then goes unanswered, and
        // the next cycle's set, with the same P-CSCF SPIs, must still go in.
        removePcscfInboundSas(challenge);
        answerProtected(responseText("200 OK", network.ok(deregister.headers, 0, {kImpu}, {})));
        ASSERT_FALSE(client.lineStartingWith("deregistered").empty()) << client.seen();
        removePcscfSas();
        // The next cycle has a new challenge and a new SA set.
        if (tcp()) {  // and the client's protected connection from a new port_uc
            serverPort.reset();
            serverPort = std::make_unique<PcscfPort>(true, network.options().portS);
        }
    }
    auto cycles = fields(client.lineStartingWith("cycles"));
    EXPECT_EQ(cycles["n"], "2") << client.seen();
    EXPECT_GT(std::stod(cycles["per-second"]), 0.0) << client.seen();
    EXPECT_EQ(client.wait(10s), 0) << client.seen();
    EXPECT_EQ(waitUntilClean().keyedSas, 0u);
    EXPECT_EQ(client.seen().find("SUBSCRIBE"), std::string::npos) << client.seen();
}

TEST_P(RegisterKernelTest, ARequestWithoutAnswerTimesOutAndLeavesNothingInstalled) {
    ASSERT_TRUE(sandbox_);
    RegisterProcess client(arguments({"--timer-f", "1"}));
    // The P-CSCF takes the REGISTER (over TCP: accepts the connection) and never answers.
    ASSERT_NO_THROW(unprotected->receive(5s)) << client.seen();
    // Nobody answers: timer F, then the daemon says to wait for a retry.
    EXPECT_FALSE(client.lineStartingWith("timeout").empty()) << client.seen();
    EXPECT_FALSE(client.lineStartingWith("waiting").empty()) << client.seen();
    client.signal(SIGINT);
    EXPECT_EQ(client.wait(10s), 0) << client.seen();
    EXPECT_EQ(kernelView().keyedSas, 0u);
}

// What the client calls protected is what the SA set's policies cover: a request sent to
// port_us from a port that belongs to no SA is outside the set's pairs, and so is the
// answer to it (it goes back in clear). The kernel may also drop such a request before it
// arrives; either way the client never claims protection for it. The same request from
// port_pc crosses as ESP and its answer is protected.
TEST_P(RegisterKernelTest, CallsProtectedOnlyWhatTheSaSetCovers) {
    ASSERT_TRUE(sandbox_);
    RegisterProcess client(arguments({"--no-subscribe", "--timer-f", "20"}));
    registerClient(client);
    ASSERT_FALSE(registered.empty()) << client.seen();
    const Endpoint portUs{kUeAddress, challenge.ue.portS};
    auto options = [&](const std::string& callId, uint16_t fromPort) {
        return "OPTIONS sip:" + std::string(kUeAddress) + " SIP/2.0\r\nVia: SIP/2.0/" +
               (tcp() ? "TCP " : "UDP ") + kPcscfAddress + ":" + std::to_string(fromPort) +
               ";branch=" + reg::newBranch() + "\r\nFrom: <sip:pcscf@" + kPcscfAddress +
               ">;tag=o1\r\nTo: <sip:" + kUeAddress + ">\r\nCall-ID: " + callId +
               "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    };

    PcscfPort stray(tcp(), 5999, !tcp());
    std::string strayAnswer;
    try {
        if (tcp()) stray.connectTo(portUs);
        stray.send(options("stray", 5999), portUs);
        strayAnswer = client.lineStartingWith("sent", 10s);
    } catch (const std::exception&) {
        // The kernel refused the connection to a protected port: nothing arrived.
    }
    if (!strayAnswer.empty()) {
        EXPECT_EQ(fields(strayAnswer)["to"], "10.46.0.2:5999") << client.seen();
        EXPECT_EQ(fields(strayAnswer)["protected"], "no") << client.seen();
        EXPECT_NE(client.seen().find("received method=OPTIONS from=10.46.0.2:5999 to=10.46.0.1:" +
                                     std::to_string(challenge.ue.portS) + " protected=no"),
                  std::string::npos)
            << client.seen();
    }

    if (tcp()) clientPort->connectTo(portUs);
    clientPort->send(options("through-esp", challenge.pcscf.portC), portUs);
    EXPECT_EQ(clientPort->receive().status, 200);
    auto answer = fields(client.lineStartingWith("sent"));
    EXPECT_EQ(answer["to"], "10.46.0.2:" + std::to_string(challenge.pcscf.portC)) << client.seen();
    EXPECT_EQ(answer["protected"], "yes") << client.seen();
    std::cout << client.seen();
}

INSTANTIATE_TEST_SUITE_P(Transports, RegisterKernelTest, ::testing::Values("udp", "tcp"),
                         [](const auto& transport) { return transport.param; });

// RFC 3261 18.1.1 as TS 24.229 4.2A applies it, with the default limit: on a UDP
// registration a REGISTER over 1300 bytes goes over TCP (Via included) and the SAs protect it
// all the same. The test P-CSCF listens on UDP and TCP and checks each request came the way
// its size asks; the protected REGISTER (which adds Security-Verify, a full Authorization and
// here P-Access-Network-Info) is over the limit.
class LargeRegisterTest : public RegisterKernelTest {
  protected:
    std::string extraConfig() const override { return ""; }

    // The next message on whichever of the two ports it comes; which one it came on.
    std::pair<reg::Message, PcscfPort*> receiveEither(PcscfPort& udp, PcscfPort& tcp) {
        pollfd fds[2] = {{udp.readableFd(), POLLIN, 0}, {tcp.readableFd(), POLLIN, 0}};
        if (poll(fds, 2, 15000) <= 0) throw std::runtime_error("nothing came");
        PcscfPort& port = (fds[0].revents & POLLIN) ? udp : tcp;
        return {port.receive(), &port};
    }
};

TEST_P(LargeRegisterTest, ARegisterOver1300BytesGoesOverTcp) {
    ASSERT_TRUE(sandbox_);
    RegisterProcess client(arguments(
        {"--no-subscribe", "--timer-f", "20", "--header",
         "P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=2620100010000001A"}));
    PcscfPort unprotectedTcp(true, 5060);
    PcscfPort serverTcp(true, network.options().portS);

    auto [initial, initialPort] = receiveEither(*unprotected, unprotectedTcp);
    const size_t initialSize = initialPort->lastSize();
    const bool initialOverTcp = initialPort == &unprotectedTcp;
    EXPECT_EQ(initialOverTcp, initialSize > 1300) << initialSize << " bytes";
    EXPECT_EQ(initial.header("Via").substr(0, 12),
              initialOverTcp ? "SIP/2.0/TCP " : "SIP/2.0/UDP ");
    EXPECT_EQ(initial.header("P-Access-Network-Info"), "") << "no SA exists yet";
    challenge = network.challenge(initial.headers);
    installPcscfSas(challenge, "both");
    initialPort->send(responseText("401 Unauthorized", challenge.headers));

    // Over a TCP connection from port_uc to port_ps, through the SAs.
    auto [answer, answerPort] = receiveEither(*serverPort, serverTcp);
    const size_t answerSize = answerPort->lastSize();
    EXPECT_GT(answerSize, 1300u);
    ASSERT_EQ(answerPort, &serverTcp) << answerSize << " bytes came over UDP\n" << client.seen();
    EXPECT_EQ(serverTcp.peer(), (Endpoint{kUeAddress, challenge.ue.portC}));
    EXPECT_EQ(answer.header("Via").rfind("SIP/2.0/TCP ", 0), 0u) << answer.header("Via");
    EXPECT_NE(answer.header("P-Access-Network-Info"), "");
    EXPECT_EQ(network.checkAuthorization(answer.headers, answer.uri).kind,
              testing::AuthorizationKind::Valid);
    serverTcp.send(responseText("200 OK", network.ok(answer.headers, 3600, {kImpu}, {})));
    ASSERT_FALSE(client.lineStartingWith("registered").empty()) << client.seen();
    EXPECT_NE(client.seen().find("sent method=REGISTER transport=tcp from=10.46.0.1:" +
                                 std::to_string(challenge.ue.portC)),
              std::string::npos)
        << client.seen();
    std::cout << "REGISTER sizes: unprotected " << initialSize << " bytes over "
              << (initialOverTcp ? "TCP" : "UDP") << ", protected " << answerSize
              << " bytes over TCP\n";

    client.signal(SIGTERM);
    reg::Message deregister = serverTcp.receive();
    EXPECT_EQ(deregister.header("Expires"), "0");
    serverTcp.send(responseText("200 OK", network.ok(deregister.headers, 0, {kImpu}, {})));
    EXPECT_FALSE(client.lineStartingWith("deregistered").empty()) << client.seen();
    EXPECT_EQ(client.wait(10s), 0) << client.seen();
    auto after = waitUntilClean();  // the TCP connection holds the set a moment
    EXPECT_EQ(after.ownSas, 0u) << after.ipXfrmState;
}

INSTANTIATE_TEST_SUITE_P(Udp, LargeRegisterTest, ::testing::Values("udp"),
                         [](const auto& transport) { return transport.param; });

}  // namespace
}  // namespace imsaka::daemontest
