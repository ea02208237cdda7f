// Test plumbing inside the user-mode Linux guest: two network namespaces joined by a veth
// pair (UE side and P-CSCF side), sockets bound in either, and a packet capture.
#pragma once

#include <netinet/in.h>
#include <sched.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "imsaka/ipsec/address.h"

namespace imsaka::ipsec::test {

// Runs a shell command and fails the test (by exception) when it fails.
void shell(const std::string& command);
// Runs a shell command and returns its standard output.
std::string shellOutput(const std::string& command);

class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    ~Fd();
    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

  private:
    int fd_ = -1;
};

class Netns {
  public:
    explicit Netns(std::string name);
    ~Netns();
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;
    const std::string& name() const { return name_; }

    // Runs f with this thread in the namespace; sockets made inside stay there.
    template <typename F>
    auto run(F&& f) {
        enter();
        struct Back {
            const Netns* self;
            ~Back() { self->leave(); }
        } back{this};
        return f();
    }

  private:
    void enter() const;
    void leave() const;
    std::string name_;
    Fd own_;
    Fd home_;
};

// "imsaka-ue" and "imsaka-pc" joined by veth, with 10.45.0.1/24 fd45::1/64 on the UE side
// and 10.45.0.2/24 fd45::2/64 on the other (no duplicate address detection).
struct TwoSides {
    TwoSides();
    Netns ue{"imsaka-ue"};
    Netns pcscf{"imsaka-pc"};
    IpAddress ueAddress(bool v6) const;
    IpAddress pcscfAddress(bool v6) const;
};

Fd udpSocket(const IpAddress& address, uint16_t port);
void sendUdp(int fd, const IpAddress& to, uint16_t port, const std::string& payload);
// sendto()'s errno, or 0 when the datagram went.
int trySendUdp(int fd, const IpAddress& to, uint16_t port, const std::string& payload);
// The next datagram, or nothing after timeout.
std::optional<std::string> receive(int fd, std::chrono::milliseconds timeout);

Fd tcpListen(const IpAddress& address, uint16_t port);
Fd tcpConnect(const IpAddress& from, uint16_t fromPort, const IpAddress& to, uint16_t toPort);
Fd tcpAccept(int listener);
void sendAll(int fd, const std::string& data);

struct Packet {
    uint8_t protocol = 0;  // IPPROTO_ESP, IPPROTO_UDP, IPPROTO_TCP, ...
    IpAddress source = IpAddress::fromText("0.0.0.0");
    IpAddress destination = IpAddress::fromText("0.0.0.0");
    uint16_t sourcePort = 0;
    uint16_t destinationPort = 0;
};

// Every IP packet that passes an interface, in both directions (AF_PACKET).
class Capture {
  public:
    explicit Capture(const std::string& interface);
    // Packets seen since the last call.
    std::vector<Packet> drain();

  private:
    Fd socket_;
};

}  // namespace imsaka::ipsec::test
