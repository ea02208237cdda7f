// The imsaka-scscf-sim program on real sockets: started as a process, it prints `ready`,
// answers a REGISTER sent over UDP on loopback with a 401 the virtual card accepts, then a
// 200, and ends on `quit` with status 0.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

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

class SimProcess {
  public:
    explicit SimProcess(uint16_t port) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(in[0], STDIN_FILENO);
            ::dup2(out[1], STDOUT_FILENO);
            std::string listen = "127.0.0.1:" + std::to_string(port);
            ::execl(IMSAKA_SCSCF_SIM, IMSAKA_SCSCF_SIM, "--listen", listen.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
    }
    ~SimProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(stdin_);
        ::close(stdout_);
    }

    // The next stdout line (5 s at most).
    std::string line() {
        for (;;) {
            if (auto end = buffered_.find('\n'); end != std::string::npos) {
                std::string next = buffered_.substr(0, end);
                buffered_.erase(0, end + 1);
                return next;
            }
            pollfd ready{stdout_, POLLIN, 0};
            if (::poll(&ready, 1, 5000) != 1) throw std::runtime_error("no output within 5 s");
            char buffer[4096];
            ssize_t got = ::read(stdout_, buffer, sizeof buffer);
            if (got <= 0) throw std::runtime_error("the simulator closed its stdout");
            buffered_.append(buffer, static_cast<size_t>(got));
        }
    }
    // Lines until one starting with `word`.
    std::string lineStarting(const std::string& word) {
        for (;;) {
            std::string next = line();
            if (next.rfind(word, 0) == 0) return next;
        }
    }
    void command(const std::string& text) {
        std::string line = text + "\n";
        ASSERT_EQ(::write(stdin_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    }
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

  private:
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    std::string buffered_;
};

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
    SimProcess sim(port);
    EXPECT_EQ(sim.line(), "ready listen=127.0.0.1:" + std::to_string(port));
    UdpPeer pcscf;
    VirtualUe ue;

    pcscf.sendTo(port, viaOurPort(ue.registerText({}), pcscf.port()));
    auto unauthorized = SipMessage::parse(pcscf.receive());
    EXPECT_EQ(unauthorized.status(), 401);
    EXPECT_EQ(sim.lineStarting("challenge"), "challenge algorithm=AKAv1-MD5 sqn=32");

    pcscf.sendTo(port, viaOurPort(ue.registerText({.cseq = 2,
                                                   .integrity = "yes",
                                                   .credentials = ue.answer(unauthorized)}),
                                  pcscf.port()));
    auto ok = SipMessage::parse(pcscf.receive());
    EXPECT_EQ(ok.status(), 200);
    EXPECT_EQ(sim.lineStarting("auth"), "auth result=ok");
    EXPECT_EQ(sim.lineStarting("registered"),
              "registered contact=" + ue.contactUri() + " expires=600");

    sim.command("quit");
    EXPECT_EQ(sim.wait(), 0);
}

TEST(SimulatorProgram, SendsNotifyAndMessageThroughThePathAndLogsTheAnswers) {
    uint16_t port = freePort();
    SimProcess sim(port);
    sim.lineStarting("ready");
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
    EXPECT_EQ(sim.lineStarting("notify"), "notify state=active status=200");

    sim.command("message");
    auto message = SipMessage::parse(pcscf.receive());
    EXPECT_EQ(message.method(), "MESSAGE");
    pcscf.sendTo(port, VirtualUe::okTo(message));
    EXPECT_EQ(sim.lineStarting("message"), "message status=200");

    sim.command("quit");
    EXPECT_EQ(sim.wait(), 0);
}

TEST(SimulatorProgram, RefusesABadOption) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, STDERR_FILENO);
        ::dup2(devnull, STDOUT_FILENO);
        ::execl(IMSAKA_SCSCF_SIM, IMSAKA_SCSCF_SIM, "--algorithm", "MD5",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_NE(WEXITSTATUS(status), 127) << "the program did not start";
}

}  // namespace
}  // namespace imsaka::scscfsim::test
