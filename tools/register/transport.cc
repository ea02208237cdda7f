#include "transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace imsaka::reg {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw TransportError(what + ": " + std::strerror(errno));
}

struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
    sockaddr* raw() { return reinterpret_cast<sockaddr*>(&storage); }
};

Address toAddress(const Endpoint& endpoint) {
    Address address;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
    if (inet_pton(AF_INET, endpoint.address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(endpoint.port);
        address.length = sizeof *v4;
    } else if (inet_pton(AF_INET6, endpoint.address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(endpoint.port);
        address.length = sizeof *v6;
    } else {
        throw TransportError("not an IP address: " + endpoint.address);
    }
    return address;
}

Endpoint fromAddress(const sockaddr_storage& storage) {
    char text[INET6_ADDRSTRLEN] = "";
    if (storage.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(storage);
        inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
        return {text, ntohs(v6.sin6_port)};
    }
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(storage);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return {text, ntohs(v4.sin_port)};
}

// A socket may be non-blocking: wait until `events`, bounded so that a peer that never
// answers cannot hold the client.
void waitUntil(const Socket& socket, short events, const std::string& what) {
    pollfd wait{socket.fd(), events, 0};
    int ready = poll(&wait, 1, 10000);
    if (ready < 0) fail(what);
    if (ready == 0) throw TransportError(what + ": timed out");
}

Socket boundSocket(const Endpoint& local, int type) {
    Address address = toAddress(local);
    Socket socket(::socket(address.storage.ss_family, type | SOCK_CLOEXEC, 0));
    if (!socket) fail("socket");
    int on = 1;
    // The unprotected port is 5060 for every registration of the host; another address's
    // registration, or the last run's TIME_WAIT, must not keep it.
    setsockopt(socket.fd(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(socket.fd(), address.raw(), address.length) != 0) fail("bind " + local.text());
    return socket;
}

}  // namespace

std::string Endpoint::text() const {
    bool v6 = address.find(':') != std::string::npos;
    return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

namespace {

// The same IP address, however it is written ("fd46::1", "fd46:0::1").
bool sameAddress(const std::string& a, const std::string& b) {
    unsigned char first[sizeof(in6_addr)], second[sizeof(in6_addr)];
    int family = a.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    if (inet_pton(family, a.c_str(), first) != 1 || inet_pton(family, b.c_str(), second) != 1)
        return false;
    return std::memcmp(first, second, family == AF_INET6 ? sizeof(in6_addr) : sizeof(in_addr)) == 0;
}

}  // namespace

bool ProtectedPairs::cover(const Endpoint& local, const Endpoint& remote) const {
    if (portUc == 0 || !sameAddress(local.address, ue) || !sameAddress(remote.address, pcscf))
        return false;
    return (local.port == portUc && remote.port == portPs) ||
           (local.port == portUs && remote.port == portPc);
}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

void Socket::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

Socket bindUdp(const Endpoint& local) {
    return boundSocket(local, SOCK_DGRAM);
}

Socket connectTcp(const Endpoint& local, const Endpoint& remote) {
    Socket socket = boundSocket(local, SOCK_STREAM);
    connect(socket, remote);
    return socket;
}

Socket listenTcp(const Endpoint& local) {
    Socket socket = boundSocket(local, SOCK_STREAM);
    if (listen(socket.fd(), 8) != 0) fail("listen on " + local.text());
    return socket;
}

void connect(const Socket& socket, const Endpoint& remote) {
    // Without an answer a blocking connect waits for the kernel's two minutes: connect
    // without blocking and wait a bounded time. The flag is restored: the socket may be
    // shared with imsakad (OpenSocket hands out a duplicate).
    Address address = toAddress(remote);
    const std::string what = "connect to " + remote.text();
    int flags = fcntl(socket.fd(), F_GETFL);
    if (flags < 0 || fcntl(socket.fd(), F_SETFL, flags | O_NONBLOCK) != 0) fail(what);
    int result = ::connect(socket.fd(), address.raw(), address.length);
    int error = result == 0 ? 0 : errno;
    if (error == EINPROGRESS) {
        pollfd wait{socket.fd(), POLLOUT, 0};
        int ready = poll(&wait, 1, 10000);
        socklen_t length = sizeof error;
        if (ready == 0)
            error = ETIMEDOUT;
        else if (ready < 0 || getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &length) != 0)
            error = errno;
    }
    fcntl(socket.fd(), F_SETFL, flags);
    if (error != 0 && error != EISCONN) {
        errno = error;
        fail(what);
    }
}

void sendDatagram(const Socket& socket, const Endpoint& to, std::string_view data) {
    Address address = toAddress(to);
    if (sendto(socket.fd(), data.data(), data.size(), 0, address.raw(), address.length) < 0)
        fail("send to " + to.text());
}

void sendStream(const Socket& socket, std::string_view data) {
    while (!data.empty()) {
        ssize_t sent = send(socket.fd(), data.data(), data.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            waitUntil(socket, POLLOUT, "send");
            continue;
        }
        if (sent < 0) fail("send");
        data.remove_prefix(static_cast<size_t>(sent));
    }
}

std::optional<Datagram> receiveDatagram(const Socket& socket) {
    char buffer[65536];
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    ssize_t got = recvfrom(socket.fd(), buffer, sizeof buffer, 0,
                           reinterpret_cast<sockaddr*>(&from), &length);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::nullopt;
    if (got < 0) fail("receive");
    return Datagram{std::string(buffer, static_cast<size_t>(got)), fromAddress(from)};
}

std::optional<std::string> receiveStream(const Socket& socket) {
    char buffer[65536];
    ssize_t got = recv(socket.fd(), buffer, sizeof buffer, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::string();
    if (got < 0 && errno != ECONNRESET) fail("receive");
    if (got <= 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(got));
}

Socket accept(const Socket& listener) {
    Socket socket(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!socket) fail("accept");
    return socket;
}

namespace {

Endpoint endpointOf(const Socket& socket, int (*name)(int, sockaddr*, socklen_t*),
                    const char* what) {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (name(socket.fd(), reinterpret_cast<sockaddr*>(&storage), &length) != 0) fail(what);
    return fromAddress(storage);
}

}  // namespace

Endpoint localEndpoint(const Socket& socket) {
    return endpointOf(socket, getsockname, "getsockname");
}

Endpoint peerEndpoint(const Socket& socket) {
    return endpointOf(socket, getpeername, "getpeername");
}

}  // namespace imsaka::reg
