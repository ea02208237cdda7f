// The transport side of imsaka-register: UDP and TCP sockets over IPv4 and IPv6, named by
// address and port as imsakad names them. Errors throw TransportError.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace imsaka::reg {

class TransportError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct Endpoint {
    std::string address;  // an IP literal, IPv6 without brackets
    uint16_t port = 0;

    std::string text() const;  // "10.0.0.1:5060", "[fd00::1]:5060"
    bool operator==(const Endpoint&) const = default;
};

// The two address and port pairs of an SA set (TS 33.203): UE port_uc <-> P-CSCF port_ps and
// UE port_us <-> P-CSCF port_pc. The set's policies pass these, in both directions, only as
// ESP; anything else between the two hosts (another port on either side) they do not cover.
struct ProtectedPairs {
    std::string ue;     // the UE's address
    std::string pcscf;  // the P-CSCF's
    uint16_t portUc = 0, portUs = 0, portPc = 0, portPs = 0;

    // Whether a packet between local (ours) and remote travels on one of the pairs.
    bool cover(const Endpoint& local, const Endpoint& remote) const;
};

// Owns one file descriptor.
class Socket {
  public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() { close(); }

    int fd() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void close();

  private:
    int fd_ = -1;
};

Socket bindUdp(const Endpoint& local);
// A TCP connection from local (port 0: any) to remote.
Socket connectTcp(const Endpoint& local, const Endpoint& remote);
// A listening TCP socket.
Socket listenTcp(const Endpoint& local);
// Connects a TCP socket that is already bound (as OpenSocket("tcp", "client") gives it).
void connect(const Socket& socket, const Endpoint& remote);

void sendDatagram(const Socket& socket, const Endpoint& to, std::string_view data);
void sendStream(const Socket& socket, std::string_view data);

struct Datagram {
    std::string data;
    Endpoint from;
};
// The next datagram; nothing when none is waiting (a non-blocking socket).
std::optional<Datagram> receiveDatagram(const Socket& socket);
// What a stream holds now ("" when nothing is waiting); nothing when the peer closed it.
std::optional<std::string> receiveStream(const Socket& socket);
Socket accept(const Socket& listener);

Endpoint localEndpoint(const Socket& socket);
Endpoint peerEndpoint(const Socket& socket);

}  // namespace imsaka::reg
