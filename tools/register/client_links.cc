// The transport side of imsaka-register's Client: the sockets requests leave from and
// arrive on (the unprotected port, the daemon's protected ports over UDP and TCP), waiting on
// them with the bus and the signals, and answering requests from the network.
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "client.h"
#include "output.h"

namespace imsaka::reg {
namespace {

// "reg" or "reg;id=1" is the reg event package (RFC 3680).
bool isRegEvent(const Message& request) {
    std::string event = request.header("Event");
    if (event.empty()) event = request.header("o");  // compact form
    return event.substr(0, event.find(';')) == "reg";
}

}  // namespace

Client::Link& Client::linkFor(const Step& step) {
    const bool udp = step.transport != "tcp";
    if (!step.isProtected) {
        // From the unprotected port: over UDP the response comes back to it, over TCP on
        // the connection. Kept open between registrations: a new TCP connection from the
        // same port would wait out TIME_WAIT.
        auto& link = unprotected_[step.transport];
        bool usable = link && link->socket && localEndpoint(link->socket) == step.local &&
                      (udp || peerEndpoint(link->socket) == step.remote);
        if (!usable) {
            link = std::make_unique<Link>();
            link->kind = udp ? Link::Kind::Datagram : Link::Kind::Stream;
            link->socket = udp ? bindUdp(step.local) : connectTcp(step.local, step.remote);
            link->connected = !udp;
        }
        return *link;
    }
    openServerLinks();
    // Each request names the transport (a large one goes over TCP, RFC 3261 18.1.1) and the
    // port it leaves from (a new set's while its challenge is answered): the daemon's socket
    // for that transport, on that port.
    auto& link = clients_[step.transport];
    // A connection goes to one port_ps: a second challenge's set has another, and its
    // REGISTER goes over a new connection through that set (24.229 5.1.1.5.1).
    auto connectedElsewhere = [&] {
        if (udp || !link->connected) return false;
        try {
            return peerEndpoint(link->socket) != step.remote;
        } catch (const std::exception&) {
            return true;  // no longer connected
        }
    };
    if (!link || !link->socket || link->port != step.local.port || connectedElsewhere()) {
        link = std::make_unique<Link>();
        link->kind = udp ? Link::Kind::Datagram : Link::Kind::Stream;
        link->socket = Socket(registration_.OpenSocket(step.transport, "client").release());
        link->isProtected = true;
        link->port = step.local.port;
        if (localEndpoint(link->socket).port != step.local.port)
            throw TransportError("the daemon's client socket is not bound to port " +
                                 std::to_string(step.local.port));
    }
    if (link->kind == Link::Kind::Stream && !link->connected) {
        connect(link->socket, step.remote);
        link->connected = true;
    }
    return *link;
}

// Requests from the P-CSCF come to port_us over UDP, or over TCP when they are large (RFC
// 3261 18.1.1 holds the P-CSCF too): a datagram socket and a listener there, from the daemon
// (OpenSocket). port_us stays across re-authentications (TS 33.203 7.4); should it change,
// the previous port stays watched until the next change.
void Client::openServerLinks() {
    uint16_t portUs = registration_.PortUs();
    bool open = serverUdp_ && serverUdp_->socket && serverTcp_ && serverTcp_->socket;
    if (open && portUs == portUs_) return;
    previousServers_.clear();
    for (auto* link : {&serverUdp_, &serverTcp_})
        if (*link) previousServers_.push_back(std::move(*link));
    for (auto* link : {&serverUdp_, &serverTcp_}) {
        bool udp = link == &serverUdp_;
        *link = std::make_unique<Link>();
        (*link)->kind = udp ? Link::Kind::Datagram : Link::Kind::Listener;
        (*link)->socket = Socket(registration_.OpenSocket(udp ? "udp" : "tcp", "server").release());
        (*link)->isProtected = true;
        (*link)->port = portUs;
    }
    portUs_ = portUs;
}

// Waits until something arrives on a socket or the bus, a stop signal, or the deadline;
// handles what arrived. Returns at once when the bus had queued messages (a RefreshDue read
// during a method call, say): the caller looks at what they changed first.
void Client::waitFor(std::optional<Clock::time_point> deadline) {
    bool processed = false;
    while (bus_.processPendingRequest()) processed = true;
    if (processed) return;
    std::erase_if(accepted_, [](const auto& link) { return !link->socket; });

    std::vector<pollfd> fds;
    std::vector<Link*> links;
    auto bus = bus_.getEventLoopPollData();
    fds.push_back({bus.fd, bus.events, 0});
    fds.push_back({signals_, POLLIN, 0});
    auto watch = [&](Link* link) {
        if (!link || !link->socket) return;
        fds.push_back({link->socket.fd(), POLLIN, 0});
        links.push_back(link);
    };
    for (auto& [transport, link] : unprotected_) watch(link.get());
    for (auto& [transport, link] : clients_) watch(link.get());
    watch(serverUdp_.get());
    watch(serverTcp_.get());
    for (auto& link : previousServers_) watch(link.get());
    for (auto& link : accepted_) watch(link.get());

    int timeout = -1;
    if (deadline) {
        auto left = std::chrono::ceil<Milliseconds>(*deadline - Clock::now()).count();
        timeout = static_cast<int>(std::clamp<long>(left, 0, 60000));
    }
    if (poll(fds.data(), fds.size(), timeout) < 0) {
        if (errno == EINTR) return;
        throw std::system_error(errno, std::generic_category(), "poll");
    }
    if (fds[1].revents & POLLIN) {
        signalfd_siginfo signal{};
        if (read(signals_, &signal, sizeof signal) == sizeof signal) stopRequested_ = true;
    }
    for (size_t i = 0; i < links.size(); ++i)
        if (fds[i + 2].revents) readFrom(*links[i]);
    while (bus_.processPendingRequest()) {
    }
}

void Client::readFrom(Link& link) {
    try {
        switch (link.kind) {
            case Link::Kind::Listener: {
                auto connection = std::make_unique<Link>();
                connection->kind = Link::Kind::Stream;
                connection->socket = accept(link.socket);
                connection->isProtected = link.isProtected;
                connection->connected = true;
                accepted_.push_back(std::move(connection));
                return;
            }
            case Link::Kind::Datagram: {
                if (auto datagram = receiveDatagram(link.socket))
                    dispatch(datagram->data, link, datagram->from);
                return;
            }
            case Link::Kind::Stream: {
                std::optional<std::string> bytes = receiveStream(link.socket);
                if (!bytes) return closeLink(link);
                link.framer.append(*bytes);
                Endpoint peer = peerEndpoint(link.socket);
                while (auto message = link.framer.next()) dispatch(*message, link, peer);
                return;
            }
        }
    } catch (const SipMessageError& error) {
        // A stream that cannot be framed cannot be resynchronised.
        say(std::string("ignored error=stream message=") + error.what());
        if (link.kind == Link::Kind::Stream) closeLink(link);
    } catch (const TransportError& error) {
        say(std::string("ignored error=transport message=") + error.what());
        if (link.kind == Link::Kind::Stream) closeLink(link);
    }
}

void Client::dispatch(const std::string& text, Link& link, const Endpoint& from) {
    Message message;
    try {
        message = parseMessage(text);
    } catch (const SipMessageError& error) {
        say("ignored from=" + from.text() + " error=unparsable message=" + error.what());
        return;
    }
    if (message.isRequest) return answer(message, text, link, from);
    // Provisional responses and strays (a late answer to a retransmission) change nothing.
    if (!awaitedBranch_.empty() && message.branch == awaitedBranch_ && message.status >= 200 &&
        !finalResponse_)
        finalResponse_ = std::move(message);
}

// The SA set in use, as the daemon reports it (no pairs before the first 401).
ProtectedPairs Client::protectedPairs() {
    return {registration_.LocalAddress(), registration_.PcscfAddress(), registration_.PortUc(),
            registration_.PortUs(),       registration_.PortPc(),       registration_.PortPs()};
}

void Client::answer(const Message& request, const std::string& text, Link& link,
                    const Endpoint& to) {
    // Protected means on a pair of the SA set in use, which its policies pass only as ESP:
    // the socket a message used says nothing by itself (anything may be sent to a protected
    // port from another port, and the answer to it goes back outside the SAs).
    const Endpoint local = localEndpoint(link.socket);
    const bool isProtected = link.isProtected && protectedPairs().cover(local, to);
    say("received method=" + request.method + " from=" + to.text() + " to=" + local.text() +
        " protected=" + yesNo(isProtected));
    if (request.method == "ACK") return;
    bool known =
        request.method == "NOTIFY" || request.method == "MESSAGE" || request.method == "OPTIONS";
    uint16_t status = known ? 200 : 405;
    std::string response = buildResponse(text, status, known ? "OK" : "Method Not Allowed");
    if (link.kind == Link::Kind::Datagram)
        sendDatagram(link.socket, to, response);
    else
        sendStream(link.socket, response);
    say("sent status=" + std::to_string(status) + " method=" + request.method +
        " transport=" + (link.kind == Link::Kind::Datagram ? "udp" : "tcp") +
        " from=" + local.text() + " to=" + to.text() + " protected=" + yesNo(isProtected));

    // A retransmitted NOTIFY is answered again but handed over once.
    if (seenRequests_.size() > 256) seenRequests_.clear();
    bool isNew = seenRequests_.insert(request.callId + " " + request.cseq).second;
    if (!isNew || request.method != "NOTIFY" || !isRegEvent(request)) return;
    if (!request.body.empty()) notifyBodies_.push_back(request.body);
    // RFC 6665 4.1.3: the network ended the subscription; the next initial registration
    // subscribes again in a new dialog (TS 24.229 5.1.1.3).
    std::string state = request.header("Subscription-State");
    if (request.callId == subscribeCallId_ && state.rfind("terminated", 0) == 0) {
        subscribed_ = false;
        subscribeCallId_.clear();
        subscribeCseq_ = 0;
    }
}

void Client::closeLink(Link& link) {
    link.socket.close();
    link.connected = false;
    link.framer = StreamFramer();
    if (&link == awaitedLink_) awaitedLinkClosed_ = true;
}

}  // namespace imsaka::reg
