// imsaka-scscf-sim: the S-CSCF/HSS simulator of the end-to-end tests. One thread, poll()
// over the UDP socket and stdin; events on stdout, one line each (see README.md).
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

// GCC 12 reports a null dereference inside CLI11's string helpers once they are
// inlined at -O2 (a false positive in the library, not in this file).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "event_line.h"
#include "simulator.h"

namespace imsaka::scscfsim {
namespace {

Endpoint parseListen(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) throw SimError(SimErrc::BadOption, "--listen wants ADDR:PORT");
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    unsigned long port = std::strtoul(text.c_str() + colon + 1, nullptr, 10);
    if (port == 0 || port > 65535) throw SimError(SimErrc::BadOption, "bad port in --listen");
    return Endpoint{host, static_cast<uint16_t>(port)};
}

sockaddr_storage socketAddress(const Endpoint& endpoint, socklen_t& length) {
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(endpoint.host.c_str(), std::to_string(endpoint.port).c_str(), &hints, &found) !=
        0)
        throw SimError(SimErrc::Io, "not an IP address: " + endpoint.host);
    sockaddr_storage address{};
    std::memcpy(&address, found->ai_addr, found->ai_addrlen);
    length = found->ai_addrlen;
    freeaddrinfo(found);
    return address;
}

// "ADDR:PORT" of a datagram's source, for --verbose.
std::string describe(const sockaddr_storage& address, socklen_t length) {
    char host[NI_MAXHOST] = "?";
    char port[NI_MAXSERV] = "?";
    getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof host, port,
                sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
    return std::string(host) + ":" + port;
}

class UdpSocket {
  public:
    explicit UdpSocket(const Endpoint& listen) {
        socklen_t length = 0;
        auto address = socketAddress(listen, length);
        fd_ = ::socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw SimError(SimErrc::Io, std::string("socket: ") + std::strerror(errno));
        int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0)
            throw SimError(SimErrc::Io, "bind " + listen.host + ":" + std::to_string(listen.port) +
                                            ": " + std::strerror(errno));
    }
    ~UdpSocket() { ::close(fd_); }
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    int fd() const { return fd_; }

    void send(const Datagram& datagram, bool verbose) const {
        socklen_t length = 0;
        auto address = socketAddress(datagram.to, length);
        if (::sendto(fd_, datagram.text.data(), datagram.text.size(), 0,
                     reinterpret_cast<sockaddr*>(&address), length) < 0)
            std::cerr << "sendto " << datagram.to.host << ":" << datagram.to.port << ": "
                      << std::strerror(errno) << "\n";
        if (verbose)
            std::cerr << "--> " << datagram.to.host << ":" << datagram.to.port << "\n"
                      << datagram.text << "\n";
    }

  private:
    int fd_ = -1;
};

int run(SimOptions options, bool verbose) {
    Simulator simulator(options, [](const std::string& line) { std::cout << line << std::endl; });
    UdpSocket socket(options.listen);
    std::cout << EventLine("ready")
                     .add("listen", options.listen.host + ":" + std::to_string(options.listen.port))
                     .str()
              << std::endl;
    std::array<pollfd, 2> fds{pollfd{socket.fd(), POLLIN, 0}, pollfd{STDIN_FILENO, POLLIN, 0}};
    std::string input;
    std::array<char, 65536> buffer{};
    auto sendAll = [&](const std::vector<Datagram>& datagrams) {
        for (const auto& datagram : datagrams) socket.send(datagram, verbose);
    };
    while (!simulator.quitRequested()) {
        int timeout = -1;
        if (auto next = simulator.nextTimer()) {
            auto wait =
                std::chrono::ceil<std::chrono::milliseconds>(*next - Simulator::Clock::now());
            timeout = static_cast<int>(std::max<int64_t>(0, wait.count()));
        }
        int ready = ::poll(fds.data(), fds[1].fd < 0 ? 1 : 2, timeout);
        if (ready < 0 && errno != EINTR)
            throw SimError(SimErrc::Io, std::string("poll: ") + std::strerror(errno));
        sendAll(simulator.expireTimers());
        if (ready <= 0) continue;
        if (fds[0].revents & POLLIN) {
            sockaddr_storage from{};
            socklen_t fromLength = sizeof from;
            ssize_t got = ::recvfrom(socket.fd(), buffer.data(), buffer.size(), 0,
                                     reinterpret_cast<sockaddr*>(&from), &fromLength);
            if (got > 0) {
                std::string_view text(buffer.data(), static_cast<size_t>(got));
                if (verbose)
                    std::cerr << "<-- " << describe(from, fromLength) << "\n" << text << "\n";
                try {
                    sendAll(simulator.receive(text));
                } catch (const SimError& error) {
                    std::cerr << "dropped a datagram: " << error.what() << "\n";
                }
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            ssize_t got = ::read(STDIN_FILENO, buffer.data(), buffer.size());
            if (got <= 0) {
                fds[1].fd = -1;  // stdin closed: keep serving until killed
                continue;
            }
            input.append(buffer.data(), static_cast<size_t>(got));
            for (auto end = input.find('\n'); end != std::string::npos; end = input.find('\n')) {
                std::string line = input.substr(0, end);
                input.erase(0, end + 1);
                if (line.empty()) continue;
                try {
                    sendAll(simulator.command(line));
                } catch (const SimError& error) {
                    std::cerr << error.what() << "\n";
                }
            }
        }
    }
    return 0;
}

}  // namespace
}  // namespace imsaka::scscfsim

int main(int argc, char** argv) {
    using namespace imsaka::scscfsim;
    SimOptions options;
    CLI::App app{"S-CSCF/HSS simulator for the imsaka end-to-end tests"};
    std::string listen = "127.0.0.1:6060";
    std::string algorithm = "AKAv1-MD5";
    std::string notifyAfter;
    std::optional<uint32_t> minExpires;
    std::optional<int> failProtected;
    bool verbose = false;
    app.add_option("--listen", listen, "UDP ADDR:PORT to serve")->capture_default_str();
    app.add_option("--k", options.k, "subscriber K (32 hex)")->capture_default_str();
    app.add_option("--opc", options.opc, "subscriber OPc (32 hex)")->capture_default_str();
    app.add_option("--amf", options.amf, "AMF (4 hex)")->capture_default_str();
    app.add_option("--realm", options.realm, "realm of the challenges")->capture_default_str();
    app.add_option("--sqn", options.sqn, "SQN of the first challenge")->capture_default_str();
    app.add_option("--algorithm", algorithm, "AKAv1-MD5 or AKAv2-MD5")
        ->check(CLI::IsMember({"AKAv1-MD5", "AKAv2-MD5"}))
        ->capture_default_str();
    app.add_option("--expires", options.maxExpires, "largest registration expiry granted")
        ->capture_default_str();
    app.add_option("--min-expires", minExpires, "423 with Min-Expires below this");
    app.add_option("--fail-protected", failProtected,
                   "answer the REGISTER that answers a challenge with this status")
        ->check(CLI::Range(400, 699));
    app.add_flag("--wrong-k", options.wrongK, "challenge with another K (card: MAC failure)");
    app.add_flag("--sqn-behind", options.sqnBehind,
                 "first challenge with a SQN the card has seen (card: AUTS, resync)");
    app.add_option("--notify-after-register", notifyAfter,
                   "after the first reg-event SUBSCRIBE, once: shortened|deactivated|rejected")
        ->check(CLI::IsMember({"shortened", "deactivated", "rejected", "active"}));
    bool noChallengeRefresh = false;
    app.add_flag("--no-challenge-refresh", noChallengeRefresh,
                 "answer protected re-REGISTERs 200 without a new challenge");
    app.add_option("--associated-uri", options.associatedUris,
                   "P-Associated-URI entries after the IMPU")
        ->capture_default_str();
    app.add_flag("--verbose,-v", verbose, "whole messages on stderr");
    try {
        app.parse(argc, argv);
        options.listen = parseListen(listen);
        options.algorithm = algorithm == "AKAv2-MD5" ? imsaka::sip::DigestAlgorithm::AkaV2Md5
                                                     : imsaka::sip::DigestAlgorithm::AkaV1Md5;
        options.minExpires = minExpires;
        options.failProtected = failProtected;
        options.challengeRefresh = !noChallengeRefresh;
        if (!notifyAfter.empty()) options.notifyAfterRegister = contactNewsFromString(notifyAfter);
    } catch (const CLI::ParseError& error) {
        return app.exit(error);
    } catch (const SimError& error) {
        std::cerr << error.what() << "\n";
        return 2;
    }
    try {
        return run(std::move(options), verbose);
    } catch (const std::exception& error) {
        std::cerr << "imsaka-scscf-sim: " << error.what() << "\n";
        return 1;
    }
}
