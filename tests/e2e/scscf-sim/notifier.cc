// The simulator's side as a notifier and sender (TS 24.229 5.4.2.1): reg-event
// subscriptions, NOTIFY and MESSAGE toward the UE through the registration's Path, and the
// retransmission of those requests until the UE answers.
#include <algorithm>

#include "event_line.h"
#include "reginfo_document.h"
#include "sim_text.h"
#include "simulator.h"

namespace imsaka::scscfsim {
namespace {

using namespace std::chrono_literals;
constexpr auto kT1 = 500ms;
constexpr auto kT2 = 4s;
constexpr uint32_t kMaxSubscriptionExpires = 600000;  // TS 24.229 5.1.1.3

}  // namespace

std::vector<Datagram> Simulator::handleSubscribe(const SipMessage& request) {
    auto event = request.headerValue("Event").value_or("");
    if (event.substr(0, event.find(';')) != "reg")
        return {respond(request, 489, "Bad Event", {"Allow-Events: reg"})};
    std::string aor = request.toUri();
    auto bindings = bindings_.find(aor);
    if (bindings == bindings_.end() || bindings->second.empty())
        return {respond(request, 403, "Forbidden")};
    auto contacts = request.contacts();
    if (contacts.empty() || contacts.front().wildcard)
        return {respond(request, 400, "Bad Request")};
    uint32_t expires = kMaxSubscriptionExpires;
    if (auto value = request.headerValue("Expires")) {
        auto parsed = parseSeconds(*value);
        if (!parsed) return {respond(request, 400, "Bad Request")};
        expires = std::min(*parsed, kMaxSubscriptionExpires);
    }
    auto existing = subscriptions_.find(request.callId());
    if (request.toTag() &&
        (existing == subscriptions_.end() || existing->second.localTag != *request.toTag()))
        return {respond(request, 481, "Call/Transaction Does Not Exist")};
    if (existing == subscriptions_.end()) {
        Subscription subscription;
        subscription.aor = aor;
        subscription.callId = request.callId();
        subscription.localTag = randomHex(6);
        subscription.remote = request.from();
        // The route to the UE is the Path of its registration (TS 24.229 5.4.2.1.2).
        const Binding* route = &bindings->second.back();
        for (const auto& binding : bindings->second)
            if (uriEndpoint(binding.contact.uri) == uriEndpoint(contacts.front().uri))
                route = &binding;
        subscription.route = route->path;
        existing = subscriptions_.emplace(subscription.callId, std::move(subscription)).first;
    }
    Subscription& subscription = existing->second;
    subscription.remoteTarget = contacts.front().uri;
    subscription.expires = expires;
    emit(EventLine("subscribe").add("expires", expires).str());
    std::vector<Datagram> out;
    out.push_back(
        respond(request, 200, "OK",
                {"Expires: " + std::to_string(expires), "Contact: <" + serverUri("scscf") + ">"},
                subscription.localTag));
    out.push_back(sendNotify(subscription, ContactNews::Active, expires == 0, true));
    if (expires == 0) subscriptions_.erase(existing);
    return out;
}

void Simulator::handleResponse(const SipMessage& response, std::vector<Datagram>& out) {
    auto found = transactions_.find(response.topViaBranch());
    if (found == transactions_.end() || response.status() < 200) return;
    ClientTransaction transaction = std::move(found->second);
    transactions_.erase(found);
    if (transaction.method == "NOTIFY") {
        emit(EventLine("notify")
                 .add("state", transaction.news)
                 .add("status", static_cast<uint64_t>(response.status()))
                 .str());
    } else {
        emit(EventLine("message").add("status", static_cast<uint64_t>(response.status())).str());
    }
    bool success = response.status() < 300;
    if (transaction.initialNotify && success && options_.notifyAfterRegister &&
        !afterRegisterSent_) {
        // Once the UE has taken the initial state, tell it the news it was started with.
        afterRegisterSent_ = true;
        auto subscription = subscriptions_.find(transaction.subscriptionCallId);
        if (subscription != subscriptions_.end()) {
            auto sent = notifyAll(*options_.notifyAfterRegister, subscription->second.aor);
            out.insert(out.end(), sent.begin(), sent.end());
        }
    }
}

std::vector<Datagram> Simulator::notifyAll(ContactNews news, const std::string& aorFilter) {
    std::vector<std::string> aors;
    for (const auto& [callId, subscription] : subscriptions_)
        if ((aorFilter.empty() || subscription.aor == aorFilter) &&
            std::find(aors.begin(), aors.end(), subscription.aor) == aors.end())
            aors.push_back(subscription.aor);
    std::vector<Datagram> out;
    bool ends = news == ContactNews::Deactivated || news == ContactNews::Rejected;
    for (const auto& aor : aors) {
        if (news == ContactNews::Shortened)
            for (auto& binding : bindings_[aor]) {
                binding.endsAt = std::min(binding.endsAt,
                                          now_() + std::chrono::seconds(options_.shortenedExpires));
                binding.event = "shortened";
            }
        for (auto& [callId, subscription] : subscriptions_)
            if (subscription.aor == aor) out.push_back(sendNotify(subscription, news, ends, false));
        if (ends) {
            // The network ended the registration: bindings and subscriptions go.
            bindings_.erase(aor);
            std::erase_if(subscriptions_,
                          [&](const auto& entry) { return entry.second.aor == aor; });
        }
    }
    return out;
}

Datagram Simulator::sendNotify(Subscription& subscription, ContactNews news, bool terminated,
                               bool initial) {
    std::string body = reginfoFor(subscription.aor, news, subscription.version++);
    std::string state =
        terminated ? "terminated;reason=" +
                         std::string(news == ContactNews::Active ? "timeout" : toString(news))
                   : "active;expires=" + std::to_string(subscription.expires);
    std::string branch = "z9hG4bK" + randomHex(8);
    std::string text = "NOTIFY " + subscription.remoteTarget + " SIP/2.0\r\n";
    text += "Via: SIP/2.0/UDP " + hostPort(options_.listen) + ";branch=" + branch + ";rport\r\n";
    text += "Max-Forwards: 70\r\n";
    for (const auto& route : subscription.route) text += "Route: " + route + "\r\n";
    text += "From: <" + subscription.aor + ">;tag=" + subscription.localTag + "\r\n";
    text += "To: " + subscription.remote + "\r\n";
    text += "Call-ID: " + subscription.callId + "\r\n";
    text += "CSeq: " + std::to_string(++subscription.localCSeq) + " NOTIFY\r\n";
    text += "Contact: <" + serverUri("scscf") + ">\r\n";
    text += "Event: reg\r\n";
    text += "Subscription-State: " + state + "\r\n";
    text += "Content-Type: application/reginfo+xml\r\n";
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    Endpoint to = uriEndpoint(subscription.route.empty() ? subscription.remoteTarget
                                                         : addrSpec(subscription.route.front()));
    ClientTransaction transaction;
    transaction.method = "NOTIFY";
    transaction.news = std::string(toString(news));
    transaction.subscriptionCallId = subscription.callId;
    transaction.initialNotify = initial;
    transaction.datagram = Datagram{to, std::move(text)};
    emit(EventLine("sent")
             .add("method", "NOTIFY")
             .add("state", toString(news))
             .add("to", hostPort(to))
             .str());
    return startTransaction(std::move(transaction), branch);
}

std::vector<Datagram> Simulator::sendMessages() {
    std::vector<Datagram> out;
    for (const auto& [aor, bindings] : bindings_) {
        for (const auto& binding : bindings) {
            std::string branch = "z9hG4bK" + randomHex(8);
            std::string body = "hello from the S-CSCF simulator";
            std::string text = "MESSAGE " + binding.contact.uri + " SIP/2.0\r\n";
            text += "Via: SIP/2.0/UDP " + hostPort(options_.listen) + ";branch=" + branch +
                    ";rport\r\n";
            text += "Max-Forwards: 70\r\n";
            for (const auto& route : binding.path) text += "Route: " + route + "\r\n";
            text += "From: <sip:simulator@" + options_.realm + ">;tag=" + randomHex(6) + "\r\n";
            text += "To: <" + aor + ">\r\n";
            text += "Call-ID: " + randomHex(12) + "@" + options_.listen.host + "\r\n";
            text += "CSeq: 1 MESSAGE\r\n";
            text += "Content-Type: text/plain\r\n";
            text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
            Endpoint to = uriEndpoint(binding.path.empty() ? binding.contact.uri
                                                           : addrSpec(binding.path.front()));
            ClientTransaction transaction;
            transaction.method = "MESSAGE";
            transaction.datagram = Datagram{to, std::move(text)};
            emit(EventLine("sent").add("method", "MESSAGE").add("to", hostPort(to)).str());
            out.push_back(startTransaction(std::move(transaction), branch));
        }
    }
    return out;
}

Datagram Simulator::startTransaction(ClientTransaction transaction, const std::string& branch) {
    auto now = now_();
    transaction.interval = kT1;
    transaction.nextAt = now + kT1;
    transaction.giveUpAt = now + 64 * kT1;
    Datagram datagram = transaction.datagram;
    transactions_[branch] = std::move(transaction);
    return datagram;
}

std::optional<Simulator::Clock::time_point> Simulator::nextTimer() const {
    std::optional<Clock::time_point> next;
    for (const auto& [branch, transaction] : transactions_)
        if (!next || transaction.nextAt < *next) next = transaction.nextAt;
    return next;
}

std::vector<Datagram> Simulator::expireTimers() {
    auto now = now_();
    std::vector<Datagram> out;
    for (auto it = transactions_.begin(); it != transactions_.end();) {
        auto& transaction = it->second;
        if (transaction.nextAt > now) {
            ++it;
            continue;
        }
        if (now >= transaction.giveUpAt) {
            EventLine line(transaction.method == "NOTIFY" ? "notify" : "message");
            if (transaction.method == "NOTIFY") line.add("state", transaction.news);
            emit(line.add("status", 408).str());
            it = transactions_.erase(it);
            continue;
        }
        out.push_back(transaction.datagram);
        transaction.interval = std::min<Clock::duration>(transaction.interval * 2, kT2);
        transaction.nextAt = now + transaction.interval;
        ++it;
    }
    return out;
}

std::string Simulator::reginfoFor(const std::string& aor, ContactNews news,
                                  uint32_t version) const {
    bool ends = news == ContactNews::Deactivated || news == ContactNews::Rejected;
    std::vector<ReginfoContactEntry> contacts;
    if (auto found = bindings_.find(aor); found != bindings_.end()) {
        for (const auto& binding : found->second) {
            ReginfoContactEntry entry;
            entry.id = binding.id;
            entry.state = ends ? "terminated" : "active";
            entry.event = ends ? std::string(toString(news)) : binding.event;
            if (!ends) entry.expires = secondsLeft(binding);
            entry.uri = binding.contact.uri;
            entry.callId = binding.callId;
            entry.cseq = binding.cseq;
            entry.instance = binding.contact.instance;
            entry.regId = binding.contact.regId;
            contacts.push_back(std::move(entry));
        }
    }
    std::string state = ends || contacts.empty() ? "terminated" : "active";
    std::vector<ReginfoRegistrationEntry> registrations;
    int id = 0;
    for (const auto& uri : associatedUris(aor)) {
        auto registration =
            ReginfoRegistrationEntry{uri, "r" + std::to_string(++id), state, contacts};
        for (auto& contact : registration.contacts) contact.id += "r" + std::to_string(id);
        registrations.push_back(std::move(registration));
    }
    return buildReginfo(version, registrations);
}

}  // namespace imsaka::scscfsim
