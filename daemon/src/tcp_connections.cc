#include "tcp_connections.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "log.h"

namespace imsaka::daemon {
namespace {

constexpr uint32_t bit(int state) {
    return 1u << state;
}

// States in which the socket may still put a segment on the wire.
constexpr uint32_t kBusyStates = bit(TCP_ESTABLISHED) | bit(TCP_SYN_SENT) | bit(TCP_SYN_RECV) |
                                 bit(TCP_FIN_WAIT1) | bit(TCP_CLOSE_WAIT) | bit(TCP_LAST_ACK) |
                                 bit(TCP_CLOSING);

class Descriptor {
  public:
    explicit Descriptor(int fd) : fd_(fd) {}
    ~Descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

bool sameLocal(const inet_diag_msg& socket, const ipsec::IpAddress& local,
               std::span<const uint16_t> ports) {
    if (socket.idiag_family != local.family()) return false;
    uint16_t port = ntohs(socket.id.idiag_sport);
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) return false;
    auto address = local.bytes();
    return std::memcmp(socket.id.idiag_src, address.data(), address.size()) == 0;
}

}  // namespace

bool tcpConnectionsBusy(const ipsec::IpAddress& local, std::span<const uint16_t> ports) {
    Descriptor netlink(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (netlink.get() < 0) {
        log::debug(std::string("sock_diag: ") + std::strerror(errno));
        return false;
    }
    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = static_cast<uint8_t>(local.family());
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = kBusyStates;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(netlink.get(), &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
        log::debug(std::string("sock_diag request: ") + std::strerror(errno));
        return false;
    }
    // Read the whole dump (the socket goes with it), noting whether any entry matches.
    alignas(nlmsghdr) std::array<char, 16384> buffer;
    bool busy = false;
    for (;;) {
        ssize_t length = recv(netlink.get(), buffer.data(), buffer.size(), 0);
        if (length < 0) {
            if (errno == EINTR) continue;
            log::debug(std::string("sock_diag answer: ") + std::strerror(errno));
            return busy;
        }
        auto remaining = static_cast<size_t>(length);
        for (const char* at = buffer.data(); remaining >= sizeof(nlmsghdr);) {
            nlmsghdr header;
            std::memcpy(&header, at, sizeof header);
            if (header.nlmsg_len < sizeof header || header.nlmsg_len > remaining) return busy;
            if (header.nlmsg_type == NLMSG_DONE || header.nlmsg_type == NLMSG_ERROR) return busy;
            if (header.nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
                inet_diag_msg socket;
                std::memcpy(&socket, at + NLMSG_LENGTH(0), sizeof socket);
                busy = busy || sameLocal(socket, local, ports);
            }
            size_t step = NLMSG_ALIGN(header.nlmsg_len);
            if (step >= remaining) break;
            at += step;
            remaining -= step;
        }
    }
}

}  // namespace imsaka::daemon
