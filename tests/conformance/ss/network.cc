#include "network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "socket_util.h"

namespace imsaka::conformance {

struct SsNetwork::Socket {
    enum class Kind { Udp, Listener, Stream } kind = Kind::Udp;
    int fd = -1;
    Endpoint local;
    Endpoint remote;      // streams
    int connection = -1;  // streams
    std::string buffer;   // streams: bytes not yet framed
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
};

namespace {

std::string firstLine(std::string_view text) {
    return std::string(text.substr(0, text.find_first_of("\r\n")));
}

// What names a request's transaction (RFC 3261 17.2.3): top Via branch, method, Call-ID and
// CSeq.
std::string requestKey(const SipMessage& request) {
    std::string branch;
    try {
        auto vias = request.values("Via");
        if (!vias.empty()) {
            const Via via = parseVia(vias.front());
            if (const auto* parameter = findParameter(via.parameters, "branch"))
                branch = parameter->value.value_or("");
        }
    } catch (const SipSyntaxError&) {
        // A request without a usable Via is keyed by the rest.
    }
    return branch + " " + request.method() + " " + request.first("Call-ID").value_or("") + " " +
           request.first("CSeq").value_or("");
}

}  // namespace

std::string_view toString(Transport transport) {
    return transport == Transport::Udp ? "UDP" : "TCP";
}

std::string Route::describe() const {
    if (transport == Transport::Tcp) return "on TCP#" + std::to_string(connection);
    return "over UDP " + from.text() + " > " + to.text();
}

std::string Endpoint::text() const {
    return (isIpv6(address) ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

SsNetwork::SsNetwork(std::string netns) : netns_(std::move(netns)) {
    if (pipe2(wakePipe_, O_CLOEXEC | O_NONBLOCK) != 0) systemError("pipe");
    reader_ = std::thread([this] { readLoop(); });
}

SsNetwork::~SsNetwork() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake();
    reader_.join();
    ::close(wakePipe_[0]);
    ::close(wakePipe_[1]);
}

void SsNetwork::wake() {
    char byte = 0;
    [[maybe_unused]] ssize_t ignored = ::write(wakePipe_[1], &byte, 1);
}

void SsNetwork::listen(const std::string& address, uint16_t port, bool tcp) {
    const Endpoint local{address, port};
    {
        std::lock_guard lock(mutex_);
        for (const auto& socket : sockets_)
            if (socket->kind == Socket::Kind::Udp && socket->local == local) return;
    }
    int family = isIpv6(address) ? AF_INET6 : AF_INET;
    auto udp = std::make_unique<Socket>();
    udp->kind = Socket::Kind::Udp;
    udp->local = local;
    udp->fd = inNetworkNamespace(netns_, [&] {
        int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) systemError("socket");
        reuseAddress(fd);
        bindTo(fd, local);
        return fd;
    });
    std::unique_ptr<Socket> listener;
    if (tcp) {
        listener = std::make_unique<Socket>();
        listener->kind = Socket::Kind::Listener;
        listener->local = local;
        listener->fd = inNetworkNamespace(netns_, [&] {
            int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) systemError("socket");
            reuseAddress(fd);
            bindTo(fd, local);
            if (::listen(fd, 16) != 0) systemError("listen " + local.text());
            return fd;
        });
    }
    {
        std::lock_guard lock(mutex_);
        sockets_.push_back(std::move(udp));
        if (listener) sockets_.push_back(std::move(listener));
    }
    wake();
}

void SsNetwork::stopListening(const std::string& address, uint16_t port) {
    const Endpoint local{address, port};
    std::lock_guard lock(mutex_);
    std::erase_if(sockets_, [&](const std::unique_ptr<Socket>& socket) {
        if (socket->local != local) return false;
        if (socket->kind == Socket::Kind::Stream) {
            linger reset{1, 0};
            setsockopt(socket->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        }
        return true;
    });
    note("closed " + local.text());
    wake();
}

void SsNetwork::sendUdp(const Endpoint& from, const Endpoint& to, std::string_view text) {
    send(Route{Transport::Udp, from, to, -1}, text);
}

void SsNetwork::sendOnConnection(int connection, std::string_view text) {
    send(Route{Transport::Tcp, {}, {}, connection}, text);
}

void SsNetwork::send(const Route& route, std::string_view text) {
    std::lock_guard lock(mutex_);
    sendLocked(route, text);
}

void SsNetwork::sendLocked(const Route& route, std::string_view text) {
    for (const auto& socket : sockets_) {
        if (route.transport == Transport::Udp) {
            if (socket->kind != Socket::Kind::Udp || socket->local != route.from) continue;
            socklen_t length = 0;
            auto address = toSockaddr(route.to, length);
            if (::sendto(socket->fd, text.data(), text.size(), 0,
                         reinterpret_cast<sockaddr*>(&address), length) < 0)
                systemError("sendto " + route.to.text());
            note("out UDP " + route.from.text() + " > " + route.to.text() + " " +
                 std::to_string(text.size()) + " bytes \"" + firstLine(text) + "\"");
            return;
        }
        if (socket->kind != Socket::Kind::Stream || socket->connection != route.connection)
            continue;
        sendAll(socket->fd, text);
        note("out TCP#" + std::to_string(route.connection) + " " + socket->local.text() + " > " +
             socket->remote.text() + " " + std::to_string(text.size()) + " bytes \"" +
             firstLine(text) + "\"");
        return;
    }
    throw std::runtime_error("the simulator cannot send " + route.describe() +
                             ": no such socket or connection");
}

void SsNetwork::remember(const Inbound& request, const Route& route, std::string response) {
    std::lock_guard lock(mutex_);
    transactions_[requestKey(request.message)] = Remembered{route, std::move(response)};
}

int SsNetwork::connect(const Endpoint& from, const Endpoint& to) {
    if (auto open = connectionBetween(from, to)) return *open;
    auto stream = std::make_unique<Socket>();
    stream->kind = Socket::Kind::Stream;
    stream->local = from;
    stream->remote = to;
    stream->fd = inNetworkNamespace(netns_, [&] {
        int fd = ::socket(isIpv6(from.address) ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) systemError("socket");
        reuseAddress(fd);
        bindTo(fd, from);
        return fd;
    });
    socklen_t length = 0;
    auto address = toSockaddr(to, length);
    if (::connect(stream->fd, reinterpret_cast<sockaddr*>(&address), length) != 0)
        systemError("connect " + from.text() + " > " + to.text());
    std::lock_guard lock(mutex_);
    stream->connection = nextConnection_++;
    int id = stream->connection;
    note("TCP#" + std::to_string(id) + " connected " + from.text() + " > " + to.text());
    sockets_.push_back(std::move(stream));
    wake();
    return id;
}

void SsNetwork::closeConnection(int connection, bool reset) {
    std::lock_guard lock(mutex_);
    std::erase_if(sockets_, [&](const std::unique_ptr<Socket>& socket) {
        if (socket->kind != Socket::Kind::Stream || socket->connection != connection) return false;
        if (reset) {
            linger option{1, 0};
            setsockopt(socket->fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
        }
        return true;
    });
    note("TCP#" + std::to_string(connection) + (reset ? " reset" : " closed") +
         " by the simulator");
    wake();
}

std::optional<int> SsNetwork::connectionBetween(const Endpoint& local,
                                                const Endpoint& remote) const {
    std::lock_guard lock(mutex_);
    for (const auto& socket : sockets_)
        if (socket->kind == Socket::Kind::Stream && socket->local == local &&
            socket->remote == remote)
            return socket->connection;
    return std::nullopt;
}

Endpoint SsNetwork::connectionLocal(int connection) const {
    std::lock_guard lock(mutex_);
    for (const auto& socket : sockets_)
        if (socket->kind == Socket::Kind::Stream && socket->connection == connection)
            return socket->local;
    return {};
}

std::optional<Inbound> SsNetwork::take(const std::function<bool(const Inbound&)>& match,
                                       Clock::duration timeout) {
    std::unique_lock lock(mutex_);
    auto deadline = Clock::now() + timeout;
    while (true) {
        for (size_t i = 0; i < inbox_.size(); ++i) {
            if (taken_[i] || !match(inbox_[i])) continue;
            taken_[i] = true;
            return inbox_[i];
        }
        if (Clock::now() >= deadline) return std::nullopt;
        arrived_.wait_until(lock, deadline);
    }
}

std::vector<Inbound> SsNetwork::untaken() const {
    std::lock_guard lock(mutex_);
    std::vector<Inbound> left;
    for (size_t i = 0; i < inbox_.size(); ++i)
        if (!taken_[i]) left.push_back(inbox_[i]);
    return left;
}

std::string SsNetwork::log() const {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const auto& line : log_) text += "  ss| " + line + "\n";
    return text;
}

void SsNetwork::note(const std::string& line) {
    auto elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
    std::ostringstream stamp;
    stamp << std::fixed << std::setprecision(3) << elapsed << " ";
    log_.push_back(stamp.str() + line);
}

void SsNetwork::deliver(std::string text, Transport transport, const Endpoint& local,
                        const Endpoint& remote, int connection) {
    std::string where = std::string(toString(transport)) +
                        (connection > 0 ? "#" + std::to_string(connection) : "") + " " +
                        remote.text() + " > " + local.text();
    std::optional<SipMessage> message;
    try {
        message = SipMessage::parse(text);
    } catch (const SipSyntaxError& error) {
        note("in " + where + " UNPARSABLE (" + error.what() + "): \"" + firstLine(text) + "\"");
        return;
    }
    note("in " + where + " " + std::to_string(text.size()) + " bytes \"" + firstLine(text) + "\"");
    if (message->isRequest()) {
        auto key = requestKey(*message);
        if (auto known = transactions_.find(key); known != transactions_.end()) {
            if (known->second.response.empty()) {
                note("  a retransmission, not answered yet");
            } else {
                note("  a retransmission: the same response again");
                try {
                    sendLocked(known->second.route, known->second.response);
                } catch (const std::exception& error) {
                    note(std::string("  cannot send it again: ") + error.what());
                }
            }
            return;
        }
        transactions_[key] = Remembered{};
    }
    Inbound inbound{std::move(*message), transport,    local,       remote,
                    connection,          Clock::now(), text.size(), inbox_.size()};
    inbox_.push_back(std::move(inbound));
    taken_.push_back(false);
    arrived_.notify_all();
}

void SsNetwork::receive(Socket& socket) {
    char buffer[65536];
    switch (socket.kind) {
        case Socket::Kind::Udp: {
            sockaddr_storage from{};
            socklen_t length = sizeof from;
            ssize_t got = ::recvfrom(socket.fd, buffer, sizeof buffer, MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&from), &length);
            if (got > 0)
                deliver(std::string(buffer, static_cast<size_t>(got)), Transport::Udp, socket.local,
                        fromSockaddr(from), -1);
            return;
        }
        case Socket::Kind::Listener: {
            sockaddr_storage from{};
            socklen_t length = sizeof from;
            int fd =
                ::accept4(socket.fd, reinterpret_cast<sockaddr*>(&from), &length, SOCK_CLOEXEC);
            if (fd < 0) return;
            auto stream = std::make_unique<Socket>();
            stream->kind = Socket::Kind::Stream;
            stream->fd = fd;
            stream->local = socket.local;
            stream->remote = fromSockaddr(from);
            stream->connection = nextConnection_++;
            note("TCP#" + std::to_string(stream->connection) + " accepted " +
                 stream->remote.text() + " > " + socket.local.text());
            sockets_.push_back(std::move(stream));
            return;
        }
        case Socket::Kind::Stream: {
            ssize_t got = ::recv(socket.fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
            if (got <= 0) {
                note("TCP#" + std::to_string(socket.connection) + " closed by " +
                     socket.remote.text());
                ::close(socket.fd);
                socket.fd = -1;
                return;
            }
            socket.buffer.append(buffer, static_cast<size_t>(got));
            try {
                while (auto length = completeMessageLength(socket.buffer)) {
                    std::string text = socket.buffer.substr(0, *length);
                    socket.buffer.erase(0, *length);
                    deliver(std::move(text), Transport::Tcp, socket.local, socket.remote,
                            socket.connection);
                }
            } catch (const SipSyntaxError& error) {
                note("TCP#" + std::to_string(socket.connection) +
                     " unframable, closed: " + error.what());
                ::close(socket.fd);
                socket.fd = -1;
            }
            return;
        }
    }
}

void SsNetwork::readLoop() {
    while (true) {
        std::vector<pollfd> fds;
        std::vector<Socket*> sockets;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            std::erase_if(sockets_,
                          [](const std::unique_ptr<Socket>& socket) { return socket->fd < 0; });
            fds.push_back({wakePipe_[0], POLLIN, 0});
            for (auto& socket : sockets_) {
                fds.push_back({socket->fd, POLLIN, 0});
                sockets.push_back(socket.get());
            }
        }
        if (::poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) return;
        if (fds[0].revents) {
            char drain[64];
            while (::read(wakePipe_[0], drain, sizeof drain) > 0) {
            }
            continue;  // the socket list may have changed
        }
        std::lock_guard lock(mutex_);
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!fds[i].revents) continue;
            Socket* socket = sockets[i - 1];
            bool stillThere = false;
            for (const auto& owned : sockets_) stillThere = stillThere || owned.get() == socket;
            if (stillThere && socket->fd >= 0) receive(*socket);
        }
    }
}

}  // namespace imsaka::conformance
