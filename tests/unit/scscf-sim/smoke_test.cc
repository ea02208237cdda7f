// The imsaka-scscf-sim program on real sockets: started as a process, it prints `ready`,
// answers a REGISTER sent over UDP on loopback with a 401 the virtual card accepts, then a
// 200, and ends on `quit` with status 0.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "program.h"
#include "virtual_ue.h"

namespace imsaka::scscfsim::test {
namespace {

class UdpPeer {
  public:
    UdpPeer() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error(std::string("UDP socket: ") + std::strerror(errno));
        socklen_t length = sizeof address;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    ~UdpPeer() { ::close(fd_); }
    uint16_t port() const { return port_; }

    void sendTo(uint16_t port, const std::string& text) const {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(port);
        ASSERT_EQ(::sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&address),
                           sizeof address),
                  static_cast<ssize_t>(text.size()));
    }
    std::string receive() const {
        pollfd ready{fd_, POLLIN, 0};
        if (::poll(&ready, 1, 5000) != 1) throw std::runtime_error("no datagram within 5 s");
        char buffer[65536];
        ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
        if (got <= 0) throw std::runtime_error("recv failed");
        return std::string(buffer, static_cast<size_t>(got));
    }

  private:
    int fd_ = -1;
    uint16_t port_ = 0;
};

// A free UDP port on loopback (bound and released; nothing else takes it this quickly).
uint16_t freePort() {
    UdpPeer probe;
    return probe.port();
}

using namespace std::chrono_literals;

// The simulator on a loopback port, its event lines read as they come.
e2e::Program startSimulator(uint16_t port) {
    return e2e::Program("simulator",
                        {IMSAKA_SCSCF_SIM, "--listen", "127.0.0.1:" + std::to_string(port)});
}

// A request as if the P-CSCF were our UDP peer: its Via and Path name our port.
std::string viaOurPort(std::string text, uint16_t port) {
    std::string ours = "127.0.0.1:" + std::to_string(port);
    auto at = text.find("Via: SIP/2.0/UDP 10.46.0.2;");
    text.replace(at, 27, "Via: SIP/2.0/UDP " + ours + ";");
    if (auto path = text.find(kPath); path != std::string::npos)
        text.replace(path, kPath.size(), "<sip:term@" + ours + ";lr>");
    return text;
}

TEST(SimulatorProgram, RegistersOverUdpOnLoopback) {
    uint16_t port = freePort();
    e2e::Program sim = startSimulator(port);
    sim.waitFor("ready", 5s);
    EXPECT_EQ(sim.events().front().line, "ready listen=127.0.0.1:" + std::to_string(port));
    UdpPeer pcscf;
    VirtualUe ue;

    pcscf.sendTo(port, viaOurPort(ue.registerText({}), pcscf.port()));
    auto unauthorized = SipMessage::parse(pcscf.receive());
    EXPECT_EQ(unauthorized.status(), 401);
    EXPECT_EQ(sim.waitFor("challenge", 5s).line, "challenge algorithm=AKAv1-MD5 sqn=32");

    pcscf.sendTo(port, viaOurPort(ue.registerText({.cseq = 2,
                                                   .integrity = "yes",
                                                   .credentials = ue.answer(unauthorized)}),
                                  pcscf.port()));
    auto ok = SipMessage::parse(pcscf.receive());
    EXPECT_EQ(ok.status(), 200);
    EXPECT_EQ(sim.waitFor("auth", 5s).line, "auth result=ok");
    EXPECT_EQ(sim.waitFor("registered", 5s).line,
              "registered contact=" + ue.contactUri() + " expires=600");

    sim.send("quit");
    EXPECT_EQ(sim.waitExit(5s), 0);
}

TEST(SimulatorProgram, SendsNotifyAndMessageThroughThePathAndLogsTheAnswers) {
    uint16_t port = freePort();
    e2e::Program sim = startSimulator(port);
    sim.waitFor("ready", 5s);
    UdpPeer pcscf;
    VirtualUe ue;
    pcscf.sendTo(port, viaOurPort(ue.registerText({}), pcscf.port()));
    auto unauthorized = SipMessage::parse(pcscf.receive());
    pcscf.sendTo(port, viaOurPort(ue.registerText({.cseq = 2,
                                                   .integrity = "yes",
                                                   .credentials = ue.answer(unauthorized)}),
                                  pcscf.port()));
    ASSERT_EQ(SipMessage::parse(pcscf.receive()).status(), 200);

    pcscf.sendTo(port, viaOurPort(ue.subscribeText(1), pcscf.port()));
    EXPECT_EQ(SipMessage::parse(pcscf.receive()).status(), 200);
    auto notify = SipMessage::parse(pcscf.receive());  // to the Path's address: us
    EXPECT_EQ(notify.method(), "NOTIFY");
    // Unanswered, it comes again (T1 = 500 ms); then answered.
    EXPECT_EQ(SipMessage::parse(pcscf.receive()).cseq(), notify.cseq());
    pcscf.sendTo(port, VirtualUe::okTo(notify));
    EXPECT_EQ(sim.waitFor("notify", 5s).line, "notify state=active status=200");

    sim.send("message");
    auto message = SipMessage::parse(pcscf.receive());
    EXPECT_EQ(message.method(), "MESSAGE");
    pcscf.sendTo(port, VirtualUe::okTo(message));
    EXPECT_EQ(sim.waitFor("message", 5s).line, "message status=200");

    sim.send("quit");
    EXPECT_EQ(sim.waitExit(5s), 0);
}

TEST(SimulatorProgram, RefusesABadOption) {
    e2e::Program sim("simulator", {IMSAKA_SCSCF_SIM, "--algorithm", "MD5"});
    std::optional<int> status = sim.waitExit(5s);
    ASSERT_TRUE(status.has_value()) << "still running, or killed:\n" << sim.log();
    EXPECT_NE(*status, 0);
    EXPECT_NE(*status, 127) << "the program did not start";
}

}  // namespace
}  // namespace imsaka::scscfsim::test
