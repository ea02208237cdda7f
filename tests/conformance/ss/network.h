// The system simulator's sockets: UDP and TCP on the P-CSCF's addresses inside the network
// namespace of the test network, read by one thread from construction to destruction.
// Everything received is parsed (sip_text.h) and queued for the script, which takes what it
// expects in order; everything sent and received is logged for failure messages.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sip_text.h"

namespace imsaka::conformance {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

enum class Transport { Udp, Tcp };
std::string_view toString(Transport transport);

struct Endpoint {
    std::string address;  // IP literal, IPv6 without brackets
    uint16_t port = 0;
    std::string text() const;  // "a.b.c.d:p" or "[v6]:p"
    bool operator==(const Endpoint&) const = default;
};

// One SIP message the simulator received.
struct Inbound {
    SipMessage message;
    Transport transport = Transport::Udp;
    Endpoint local;       // where it arrived (the P-CSCF's address and port)
    Endpoint remote;      // where it came from (the UE's)
    int connection = -1;  // TCP: the connection it came on
    Clock::time_point at;
    size_t bytes = 0;  // the SIP message's size
    size_t index = 0;  // arrival order
};

// Where a message leaves: over UDP from a local port to an address, or on a connection.
struct Route {
    Transport transport = Transport::Udp;
    Endpoint from;
    Endpoint to;
    int connection = -1;
    std::string describe() const;
};

class SsNetwork {
  public:
    // Sockets are made in the named network namespace (/run/netns/NAME).
    explicit SsNetwork(std::string netns);
    ~SsNetwork();
    SsNetwork(const SsNetwork&) = delete;
    SsNetwork& operator=(const SsNetwork&) = delete;

    // UDP and, with tcp, a TCP listener on address:port (SO_REUSEADDR); idempotent. A port
    // the SS opens TCP connections from (port_pc) has no listener.
    void listen(const std::string& address, uint16_t port, bool tcp = true);
    // Closes the UDP socket and the listener there (a P-CSCF that went away); connections
    // accepted there are reset.
    void stopListening(const std::string& address, uint16_t port);

    void sendUdp(const Endpoint& from, const Endpoint& to, std::string_view text);
    void sendOnConnection(int connection, std::string_view text);
    void send(const Route& route, std::string_view text);
    // The server transaction of RFC 3261 17.2.2 in short: a request that arrives again
    // (same Via branch, Call-ID and CSeq) is answered with the response remembered for it,
    // or dropped while none is, and never queued twice.
    void remember(const Inbound& request, const Route& route, std::string response);
    // A TCP connection from a local port (bound with SO_REUSEADDR) to the UE; an open one
    // between the same ends is reused. Returns its id.
    int connect(const Endpoint& from, const Endpoint& to);
    // Closes a connection: with reset, an RST (SO_LINGER 0), else a FIN.
    void closeConnection(int connection, bool reset);
    std::optional<int> connectionBetween(const Endpoint& local, const Endpoint& remote) const;
    Endpoint connectionLocal(int connection) const;

    // The first message not yet taken for which match is true, waiting up to timeout.
    std::optional<Inbound> take(const std::function<bool(const Inbound&)>& match,
                                Clock::duration timeout);
    // Messages received and not taken.
    std::vector<Inbound> untaken() const;
    // Every message in and out so far, one line each, for failure messages.
    std::string log() const;

  private:
    struct Socket;
    void readLoop();
    void receive(Socket& socket);
    void deliver(std::string text, Transport transport, const Endpoint& local,
                 const Endpoint& remote, int connection);
    void note(const std::string& line);
    void sendLocked(const Route& route, std::string_view text);
    void wake();

    struct Remembered {
        Route route;
        std::string response;  // empty while the request is unanswered
    };
    std::map<std::string, Remembered> transactions_;  // by request key

    std::string netns_;
    mutable std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<std::unique_ptr<Socket>> sockets_;
    int nextConnection_ = 1;
    std::vector<Inbound> inbox_;
    std::vector<bool> taken_;
    std::vector<std::string> log_;
    Clock::time_point started_ = Clock::now();
    int wakePipe_[2] = {-1, -1};
    bool stopping_ = false;
    std::thread reader_;
};

}  // namespace imsaka::conformance
