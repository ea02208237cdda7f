#include "client.h"

#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <system_error>

#include "output.h"

namespace imsaka::reg {
namespace {

std::string milliseconds(Clock::duration duration) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1)
         << std::chrono::duration<double, std::milli>(duration).count();
    return text.str();
}

bool isSuccess(uint16_t status) {
    return status >= 200 && status < 300;
}

// The URI of a name-addr we built ourselves, "<sip:...>;params".
std::string uriOf(const std::string& nameAddr) {
    size_t open = nameAddr.find('<');
    size_t close = nameAddr.find('>', open);
    if (open == std::string::npos || close == std::string::npos) return nameAddr;
    return nameAddr.substr(open + 1, close - open - 1);
}

}  // namespace

Client::Client(sdbus::IConnection& bus, Registration& registration, ClientSettings settings)
    : bus_(bus),
      registration_(registration),
      settings_(settings),
      transport_(registration.Transport()) {
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stopSignals, nullptr);
    signals_ = signalfd(-1, &stopSignals, SFD_CLOEXEC);
    if (signals_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
}

Client::~Client() {
    close(signals_);
}

int Client::run() {
    if (settings_.cycles > 0) return runCycles();
    Outcome outcome = registerOnce(toStep(registration_.Register()));
    while (outcome != Outcome::Ended) {
        if (outcome == Outcome::Registered && settings_.subscribe && !subscribed_) subscribe();
        if (subscribeAgainAt_ && Clock::now() >= *subscribeAgainAt_) {
            subscribeAgainAt_.reset();
            if (!subscribed_) subscribe();
        }
        outcome = handleNotifies();
        if (outcome == Outcome::Ended) return 1;
        if (outcome == Outcome::Registered) continue;
        if (stopRequested_) return deregister() ? 0 : 1;
        if (auto reason = registration_.takeRefresh()) {
            say("refresh reason=" + *reason);
            if (*reason == "resubscribe") {
                // A reg-event notification was lost: the refreshed subscription's NOTIFY
                // brings the full state. No REGISTER.
                if (subscribed_) subscribe();
                continue;
            }
            outcome = registerOnce(toStep(registration_.Register()));
            continue;
        }
        waitFor(subscribeAgainAt_);
    }
    return 1;
}

int Client::runCycles() {
    auto started = Clock::now();
    unsigned done = 0;
    while (done < settings_.cycles && !stopRequested_) {
        if (registerOnce(toStep(registration_.Register())) != Outcome::Registered) return 1;
        if (!deregister()) return 1;
        ++done;
    }
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::ostringstream line;
    line << std::fixed << std::setprecision(3) << "cycles n=" << done << " seconds=" << seconds
         << " per-second=" << (seconds > 0 ? done / seconds : 0.0);
    say(line.str());
    return 0;
}

Client::Outcome Client::registerOnce(Step step) {
    challenge_ = {};
    firstSent_ = Clock::now();
    std::string next = exchange(std::move(step));
    if (next == "done") {
        openServerLinks();  // a new SA set may have brought a new port_us
        // Every request here is answered at once, so no transaction of ours outlives a
        // REGISTER: a set retiring after a re-authentication may go as soon as the network
        // has used the new one (24.229 5.1.1.5.1). WrongState: none is retiring.
        try {
            registration_.RetiringTransactions(false);
        } catch (const sdbus::Error& error) {
            if (error.getName() != "org.imsaka.Error.WrongState") throw;
        }
        printRegistered();
        return Outcome::Registered;
    }
    if (next == "wait") {
        say("waiting state=" + registration_.State());
        return Outcome::Unchanged;
    }
    printFailure(lastStatus_ ? "sip-" + std::to_string(lastStatus_) : "timeout",
                 registration_.LastError());
    return Outcome::Ended;
}

bool Client::deregister() {
    auto started = Clock::now();
    Step step;
    try {
        step = toStep(registration_.Deregister());
    } catch (const sdbus::Error& error) {
        // Not registered (waiting for a retry, say): nothing to tell the network.
        if (error.getName() == "org.imsaka.Error.WrongState") return true;
        throw;
    }
    std::string next = exchange(std::move(step));
    // The daemon removed the SA set: its ports are free again, ours must not hold them.
    clients_.clear();
    serverUdp_.reset();
    serverTcp_.reset();
    previousServers_.clear();
    accepted_.clear();
    portUs_ = 0;
    if (next == "stop" && isSuccess(lastStatus_)) {
        say("deregistered deregister-ms=" + milliseconds(Clock::now() - started));
        return true;
    }
    printFailure(lastStatus_ ? "sip-" + std::to_string(lastStatus_) : "timeout",
                 registration_.LastError());
    return false;
}

// Sends what the daemon asks for and hands it each final response (or the timeout) until
// it asks for nothing more; returns its last "next".
std::string Client::exchange(Step step) {
    while (step.next == "send") {
        if (step.isProtected) lastRegister_ = step.headers;
        std::optional<Message> response = transact(step, "REGISTER");
        if (!response) {
            lastStatus_ = 0;
            finalReceived_ = Clock::now();  // what register-ms measures up to
            step = toStep(registration_.HandleTimeout());
            continue;
        }
        lastStatus_ = response->status;
        finalReceived_ = Clock::now();
        if (isSuccess(response->status))
            granted_ = grantedExpires(*response, uriOf(findHeader(step.headers, "Contact")));
        std::vector<sdbus::Struct<std::string, std::string>> headers;
        for (const auto& [name, value] : response->headers) headers.emplace_back(name, value);
        step = toStep(registration_.HandleResponse(response->status, headers));
        if (response->status == 401) challenge_ += Clock::now() - finalReceived_;
    }
    return step.next;
}

// One non-INVITE client transaction (RFC 3261 17.1.2): over UDP retransmitted at timer E,
// given up at timer F; over TCP given up at timer F or when the connection goes.
std::optional<Message> Client::transact(const Step& step, const std::string& method) {
    std::string branch = newBranch();
    std::string text = buildRequest(method, step.uri, step.headers, branch);
    Link* link = nullptr;
    try {
        link = &linkFor(step);
        if (link->kind == Link::Kind::Datagram)
            sendDatagram(link->socket, step.remote, text);
        else
            sendStream(link->socket, text);
        say("sent method=" + method + " transport=" + step.transport +
            " from=" + localEndpoint(link->socket).text() + " to=" + step.remote.text() +
            " protected=" + yesNo(step.isProtected));
    } catch (const TransportError& error) {
        say("timeout method=" + method + " error=transport message=" + error.what());
        if (link && link->kind == Link::Kind::Stream) closeLink(*link);
        return std::nullopt;
    }

    awaitedBranch_ = branch;
    awaitedLink_ = link;
    awaitedLinkClosed_ = false;
    finalResponse_.reset();
    const bool retransmits = link->kind == Link::Kind::Datagram;
    auto interval = settings_.t1;
    auto retransmitAt = Clock::now() + interval;
    const auto giveUpAt = Clock::now() + settings_.timerF;
    while (!finalResponse_ && !awaitedLinkClosed_ && Clock::now() < giveUpAt) {
        waitFor(retransmits ? std::min(retransmitAt, giveUpAt) : giveUpAt);
        if (retransmits && !finalResponse_ && Clock::now() >= retransmitAt) {
            try {
                sendDatagram(link->socket, step.remote, text);
            } catch (const TransportError&) {
                // A lost datagram: timer F decides.
            }
            interval = std::min(interval * 2, settings_.t2);
            retransmitAt = Clock::now() + interval;
        }
    }
    awaitedBranch_.clear();
    awaitedLink_ = nullptr;
    if (!finalResponse_) {
        say("timeout method=" + method);
        return std::nullopt;
    }
    say("received status=" + std::to_string(finalResponse_->status) + " method=" + method);
    return std::exchange(finalResponse_, std::nullopt);
}

// SUBSCRIBE to our own reg event (TS 24.229 5.1.1.3) over the protected client port, routed
// through the P-CSCF's protected server port and the Service-Route, with the identity
// subscriptionIdentity() picks.
void Client::subscribe() {
    const std::string impu = subscriptionIdentity(registration_.Impu(), registration_.BarredUris(),
                                                  registration_.AssociatedUris());
    const std::string local = registration_.LocalAddress();
    if (subscribeCallId_.empty()) {
        subscribeCallId_ = newBranch().substr(7) + "@" + local;
        subscribeTag_ = newBranch().substr(7);
    }
    Step step;
    step.uri = impu;
    step.transport = transport_;
    step.local = {local, registration_.PortUc()};
    step.remote = {registration_.PcscfAddress(), registration_.PortPs()};
    step.isProtected = true;
    Headers& headers = step.headers;
    // The REGISTER's sent-by (address and port_us), with the sent-protocol of the transport
    // this request takes: a REGISTER over 1300 bytes went over TCP (RFC 3261 18.1.1), the
    // SUBSCRIBE may not.
    const std::string registerVia = findHeader(lastRegister_, "Via");
    const size_t sentBy = registerVia.find(' ');
    const std::string protocol = transport_ == "tcp" ? "SIP/2.0/TCP" : "SIP/2.0/UDP";
    headers.emplace_back(
        "Via", sentBy == std::string::npos ? registerVia : protocol + registerVia.substr(sentBy));
    headers.emplace_back("Route", "<sip:" + step.remote.text() + ";lr>");
    for (const auto& route : registration_.ServiceRoute())
        headers.emplace_back("Route", "<" + route + ">");
    headers.emplace_back("From", "<" + impu + ">;tag=" + subscribeTag_);
    headers.emplace_back("To", "<" + impu + ">");
    headers.emplace_back("Call-ID", subscribeCallId_);
    headers.emplace_back("CSeq", std::to_string(++subscribeCseq_) + " SUBSCRIBE");
    headers.emplace_back("Event", "reg");
    headers.emplace_back("Accept", "application/reginfo+xml");
    headers.emplace_back("Expires", "600000");
    headers.emplace_back("Contact", "<" + uriOf(findHeader(lastRegister_, "Contact")) + ">");
    headers.emplace_back("P-Preferred-Identity", "<" + impu + ">");
    // The access network the application gave for its REGISTERs goes on the SUBSCRIBE too
    // (24.229 7.2A.4; 34.229-1 A.1.4 A1).
    if (auto access = findHeader(lastRegister_, "P-Access-Network-Info"); !access.empty())
        headers.emplace_back("P-Access-Network-Info", access);
    // The security agreement goes on every request sent over it (RFC 3329 2.3.1; TS 34.229-1
    // A.1.4 for IMS AKA): the P-CSCF checks Security-Verify against what it offered.
    headers.emplace_back("Security-Verify", findHeader(lastRegister_, "Security-Verify"));
    headers.emplace_back("Require", "sec-agree");
    headers.emplace_back("Proxy-Require", "sec-agree");

    std::optional<Message> response = transact(step, "SUBSCRIBE");
    if (response && isSuccess(response->status)) {
        subscribed_ = true;
        say("subscribed expires=" + response->header("Expires"));
        return;
    }
    // TS 24.229 5.1.2.2 (TS 34.229-1 10.1): after 503 with Retry-After, again once that time
    // has passed, in a new dialog; other failures leave it to the next registration.
    auto retryAfter = response && response->status == 503
                          ? parseSeconds(response->header("Retry-After"))
                          : std::nullopt;
    say("subscribe-failed status=" + std::to_string(response ? response->status : 0) +
        (retryAfter ? " retry-after=" + std::to_string(*retryAfter) : std::string()));
    subscribeCallId_.clear();
    subscribeCseq_ = 0;
    if (retryAfter) subscribeAgainAt_ = Clock::now() + std::chrono::seconds(*retryAfter);
}

// Hands the reg-event bodies that came to the daemon: Ended when the registration ended,
// Registered when it registered again (initial registration or re-authentication).
Client::Outcome Client::handleNotifies() {
    Outcome outcome = Outcome::Unchanged;
    while (!notifyBodies_.empty()) {
        std::string body = std::move(notifyBodies_.front());
        notifyBodies_.pop_front();
        Step step;
        try {
            step = toStep(registration_.HandleNotify(body));
        } catch (const sdbus::Error& error) {
            // A body the daemon cannot use changes nothing; the registration goes on.
            say("notify error=" + error.getName() + " message=" + error.getMessage());
            continue;
        }
        say("notify state=" + registration_.State() + " next=" + step.next);
        if (step.next == "send") {
            outcome = registerOnce(std::move(step));
            if (outcome == Outcome::Ended) return outcome;
        } else if (step.next == "stop") {
            // The network ended the registration. "deactivated" asks for a new one (TS 24.229
            // 5.1.1.7): the daemon then says so with RefreshDue("register-again"), a signal
            // sent right after its reply.
            auto reason = registration_.takeRefresh();
            const auto deadline = Clock::now() + std::chrono::seconds(5);
            while (!reason && registration_.State() == "unregistered" && Clock::now() < deadline) {
                waitFor(deadline);
                reason = registration_.takeRefresh();
            }
            if (registration_.State() != "unregistered" || reason != "register-again") {
                printFailure("terminated", registration_.LastError());
                return Outcome::Ended;
            }
            say("refresh reason=" + *reason);
            subscribed_ = false;
            outcome = registerOnce(toStep(registration_.Register()));
            if (outcome == Outcome::Ended) return outcome;
        }
    }
    return outcome;
}

void Client::printRegistered() {
    // What the network granted; the seconds left when the 200 did not say.
    const auto expiresAt = static_cast<long long>(registration_.Expires());
    const long long left = expiresAt > 0 ? std::max(0LL, expiresAt - std::time(nullptr)) : 0;
    say("registered expires=" + std::to_string(granted_ ? *granted_ : left) +
        " port-uc=" + std::to_string(registration_.PortUc()) +
        " port-us=" + std::to_string(registration_.PortUs()) +
        " port-pc=" + std::to_string(registration_.PortPc()) +
        " port-ps=" + std::to_string(registration_.PortPs()) + " register-ms=" +
        milliseconds(finalReceived_ - firstSent_) + " challenge-ms=" + milliseconds(challenge_));
}

void Client::printFailure(const std::string& error, const std::string& message) {
    say("failed error=" + error + " message=" + (message.empty() ? "-" : message));
}

}  // namespace imsaka::reg
