// The simulator's registrar and HSS side: REGISTER handling (challenge, check, bind),
// the response cache and the stdin commands.
#include "simulator.h"

#include <algorithm>

#include "event_line.h"
#include "sim_text.h"

namespace imsaka::scscfsim {
namespace {

constexpr size_t kCacheSize = 512;
constexpr size_t kOutstandingPerImpi = 8;
constexpr uint32_t kDefaultExpires = 3600;  // RFC 3261 10.2.1.1

std::string userPart(std::string_view uri) {
    auto colon = uri.find(':');
    auto at = uri.find('@');
    if (colon == std::string_view::npos || at == std::string_view::npos || at < colon) return {};
    return std::string(uri.substr(colon + 1, at - colon - 1));
}

std::string parameterOf(const sip::DigestCredentials& credentials, std::string_view name) {
    for (const auto& parameter : credentials.otherParameters)
        if (parameter.name == name) return parameter.value;
    return {};
}

// The contact as registered, with the expires the registrar granted.
std::string contactWithExpires(const ContactValue& contact, uint32_t expires) {
    std::string text = contact.text;
    auto closing = text.find('>');
    auto at = text.find(";expires=", closing == std::string::npos ? 0 : closing);
    if (at != std::string::npos) {
        auto end = text.find(';', at + 1);
        text.erase(at, end == std::string::npos ? std::string::npos : end - at);
    }
    return text + ";expires=" + std::to_string(expires);
}

// RFC 5626 6 (registrar): a REGISTER that asks for outbound (Supported: outbound, a Contact
// with +sip.instance and reg-id) through an edge proxy that supports it (the "ob" parameter
// in its Path, TS 24.229 5.2.2.2 for the P-CSCF) gets its flow, which the 2xx says with
// Require: outbound. Otherwise reg-id is ignored and the binding is a plain one.
bool acceptsOutbound(const SipMessage& request, const std::vector<std::string>& path) {
    auto supported = request.headerValues("Supported");
    bool asked = std::any_of(supported.begin(), supported.end(),
                             [](const std::string& tag) { return tag == "outbound"; });
    auto contacts = request.contacts();
    bool flow = std::any_of(contacts.begin(), contacts.end(), [](const ContactValue& contact) {
        return contact.instance && contact.regId;
    });
    bool edge = !path.empty() && path.front().find(";ob") != std::string::npos;
    return asked && flow && edge;
}

std::string bindingKey(const ContactValue& contact) {
    if (contact.instance && contact.regId) return *contact.instance + ";reg-id=" + *contact.regId;
    return contact.uri;
}

std::string_view reasonPhrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 423:
            return "Interval Too Brief";
        case 480:
            return "Temporarily Unavailable";
        case 489:
            return "Bad Event";
        case 500:
            return "Server Internal Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Failure";
    }
}

}  // namespace

std::optional<ContactNews> contactNewsFromString(std::string_view text) {
    for (auto news : {ContactNews::Active, ContactNews::Shortened, ContactNews::Deactivated,
                      ContactNews::Rejected})
        if (toString(news) == text) return news;
    return std::nullopt;
}

std::string_view toString(ContactNews news) {
    switch (news) {
        case ContactNews::Active:
            return "active";
        case ContactNews::Shortened:
            return "shortened";
        case ContactNews::Deactivated:
            return "deactivated";
        case ContactNews::Rejected:
            return "rejected";
    }
    return "active";
}

Simulator::Simulator(SimOptions options, EventSink events, std::function<Clock::time_point()> now)
    : options_(std::move(options)),
      events_(std::move(events)),
      now_(std::move(now)),
      centre_(options_.k, options_.opc, options_.amf) {
    if (options_.wrongK) {
        // Another subscriber's K: the card's MAC check on AUTN fails.
        auto k = fromHex(options_.k).value_or(Bytes{});
        for (auto& byte : k) byte ^= 0x5a;
        wrongCentre_.emplace(toHex(k), options_.opc, options_.amf);
    }
}

uint64_t Simulator::nextSqn(std::string_view impi) const {
    auto found = subscribers_.find(impi);
    return found == subscribers_.end() ? options_.sqn : found->second.nextSqn;
}

void Simulator::dropExpiredBindings() {
    auto now = now_();
    for (auto& entry : bindings_) {
        const std::string& aor = entry.first;
        std::erase_if(entry.second, [&](const Binding& binding) {
            if (binding.endsAt > now) return false;
            emit(EventLine("expired").add("contact", binding.contact.uri).str());
            return true;
        });
        if (entry.second.empty())
            std::erase_if(subscriptions_,
                          [&](const auto& subscription) { return subscription.second.aor == aor; });
    }
}

uint32_t Simulator::secondsLeft(const Binding& binding) const {
    auto left = std::chrono::ceil<std::chrono::seconds>(binding.endsAt - now_()).count();
    return static_cast<uint32_t>(std::max<int64_t>(0, left));
}

std::vector<Datagram> Simulator::receive(std::string_view text) {
    SipMessage message = SipMessage::parse(text);
    dropExpiredBindings();
    std::vector<Datagram> out;
    if (!message.isRequest()) {
        handleResponse(message, out);
        return out;
    }
    std::string key = message.callId() + "\n" + message.cseq() + "\n" + message.topViaBranch();
    if (auto cached = responseCache_.find(key); cached != responseCache_.end()) {
        emit(EventLine("retransmission")
                 .add("method", message.method())
                 .add("call-id", message.callId())
                 .str());
        return {cached->second};
    }
    std::string method = message.method();
    if (method == "REGISTER") {
        out = handleRegister(message);
    } else if (method == "SUBSCRIBE") {
        out = handleSubscribe(message);
    } else if (method == "ACK") {
        return out;
    } else if (method == "OPTIONS") {
        out.push_back(respond(message, 200, "OK"));
    } else {
        out.push_back(respond(message, 405, "Method Not Allowed",
                              {"Allow: REGISTER, SUBSCRIBE, OPTIONS, ACK"}));
    }
    // The first datagram is the response to this request: repeat it for retransmissions.
    if (!out.empty()) {
        responseCache_[key] = out.front();
        cacheOrder_.push_back(key);
        if (cacheOrder_.size() > kCacheSize) {
            responseCache_.erase(cacheOrder_.front());
            cacheOrder_.pop_front();
        }
    }
    return out;
}

std::vector<Datagram> Simulator::handleRegister(const SipMessage& request) {
    std::string impu = request.toUri();
    std::optional<sip::DigestCredentials> credentials;
    if (auto authorization = request.authorization()) {
        try {
            credentials = sip::parseAuthorization(*authorization);
        } catch (const sip::DigestError& error) {
            emit(EventLine("bad-authorization").add("call-id", request.callId()).str());
            return {respond(request, 400, "Bad Request")};
        }
    }
    std::string integrity = credentials ? parameterOf(*credentials, "integrity-protected") : "";
    if (integrity.empty()) integrity = "absent";
    bool protectedRequest = integrity == "yes";
    std::string impi = credentials && !credentials->username.empty()
                           ? credentials->username
                           : userPart(impu) + "@" + options_.realm;

    auto contacts = request.contacts();
    std::optional<uint32_t> headerExpires;
    if (auto value = request.headerValue("Expires")) {
        headerExpires = parseSeconds(*value);
        if (!headerExpires) return {respond(request, 400, "Bad Request")};
    }
    uint32_t asked = kDefaultExpires;
    if (!contacts.empty() && contacts.front().expires) {
        asked = *contacts.front().expires;
    } else if (headerExpires) {
        asked = *headerExpires;
    }
    const auto& existing = bindings_[impu];
    bool initial = contacts.empty() || contacts.front().wildcard ||
                   std::none_of(existing.begin(), existing.end(), [&](const Binding& binding) {
                       return binding.key == bindingKey(contacts.front());
                   });
    emit(EventLine("request")
             .add("method", "REGISTER")
             .add("initial", initial ? "yes" : "no")
             .add("integrity-protected", integrity)
             .add("expires", asked)
             .add("call-id", request.callId())
             .str());

    // RFC 3261 10.2.2: "*" only with Expires 0.
    if (contacts.empty() || (contacts.front().wildcard && asked != 0))
        return {respond(request, 400, "Bad Request")};
    if (asked != 0 && options_.minExpires && asked < *options_.minExpires)
        return {respond(request, 423, "Interval Too Brief",
                        {"Min-Expires: " + std::to_string(*options_.minExpires)})};
    // TS 24.229 5.4.1.4: a deregistration through the SAs is not challenged.
    if (asked == 0 && protectedRequest) return {deregisterContacts(request)};
    if (asked != 0 && protectedRequest && !initial && !options_.challengeRefresh)
        return {registerContacts(request, asked)};

    auto& subscriber =
        subscribers_.try_emplace(impi, Subscriber{options_.sqn, false, {}}).first->second;
    auto outstanding = subscriber.challenges.end();
    if (credentials && !credentials->nonce.empty()) {
        outstanding = std::find_if(
            subscriber.challenges.begin(), subscriber.challenges.end(),
            [&](const Outstanding& entry) { return entry.issued.nonce == credentials->nonce; });
    }
    if (outstanding == subscriber.challenges.end()) return {challenge(request, impi)};

    Outstanding answered = std::move(*outstanding);
    subscriber.challenges.erase(outstanding);
    const auto& centre = wrongCentre_ ? *wrongCentre_ : centre_;
    auto verdict = centre.verify(answered.issued, *credentials, options_.algorithm, "REGISTER");
    // RFC 2617 3.2.2: realm and opaque come back unchanged.
    if (verdict.kind == testing::AuthorizationKind::Valid &&
        (credentials->realm != options_.realm || credentials->opaque != answered.opaque))
        verdict.kind = testing::AuthorizationKind::WrongResponse;

    switch (verdict.kind) {
        case testing::AuthorizationKind::SyncFailure:
            emit(EventLine("auth").add("result", "sync-failure").str());
            if (!verdict.sqnMs) return {respond(request, 403, "Forbidden")};
            emit(EventLine("resync").add("sqn-ms", *verdict.sqnMs).str());
            subscriber.nextSqn = *verdict.sqnMs + 32;
            return {challenge(request, impi)};
        case testing::AuthorizationKind::MacFailure:
            // TS 33.203 6.1.2: the UE found the network not authentic; the S-CSCF fails
            // the registration (TS 24.229 5.4.1.2.3: 403).
            emit(EventLine("auth").add("result", "mac-failure").str());
            return {respond(request, 403, "Forbidden")};
        case testing::AuthorizationKind::WrongResponse:
            emit(EventLine("auth").add("result", "mismatch").str());
            return {respond(request, 403, "Forbidden")};
        case testing::AuthorizationKind::Valid:
            break;
    }
    emit(EventLine("auth").add("result", "ok").str());
    if (options_.failProtected)
        return {respond(request, *options_.failProtected, reasonPhrase(*options_.failProtected))};
    if (asked == 0) return {deregisterContacts(request)};
    return {registerContacts(request, asked)};
}

Datagram Simulator::challenge(const SipMessage& request, const std::string& impi) {
    auto& subscriber = subscribers_.at(impi);
    uint64_t sqn = subscriber.nextSqn;
    if (options_.sqnBehind && !subscriber.behindUsed) {
        // SEQ 0 is never fresh to a card (it needs SEQ above what its slot holds).
        sqn = 0;
        subscriber.behindUsed = true;
    } else {
        subscriber.nextSqn += 32;
    }
    const auto& centre = wrongCentre_ ? *wrongCentre_ : centre_;
    Outstanding entry{centre.issue(sqn), randomHex(8)};
    std::string header =
        "WWW-Authenticate: Digest realm=\"" + options_.realm + "\", nonce=\"" + entry.issued.nonce +
        "\", algorithm=" + std::string(sip::toString(options_.algorithm)) +
        ", qop=\"auth\", opaque=\"" + entry.opaque + "\", ck=\"" + toHex(entry.issued.vector.ck) +
        "\", ik=\"" + toHex(entry.issued.vector.ik) + "\"";
    subscriber.challenges.push_back(std::move(entry));
    if (subscriber.challenges.size() > kOutstandingPerImpi) subscriber.challenges.pop_front();
    emit(EventLine("challenge")
             .add("algorithm", sip::toString(options_.algorithm))
             .add("sqn", sqn)
             .str());
    return respond(request, 401, "Unauthorized", {header});
}

Datagram Simulator::registerContacts(const SipMessage& request, uint32_t asked) {
    std::string impu = request.toUri();
    uint32_t granted = std::min(asked, options_.maxExpires);
    auto& bindings = bindings_[impu];
    auto path = request.headerValues("Path");
    for (const auto& contact : request.contacts()) {
        if (contact.wildcard) continue;
        std::string key = bindingKey(contact);
        auto binding = std::find_if(bindings.begin(), bindings.end(),
                                    [&](const Binding& entry) { return entry.key == key; });
        if (binding == bindings.end()) {
            Binding created;
            created.key = key;
            created.id = "c" + std::to_string(nextBindingId_++);
            created.event = "registered";
            bindings.push_back(std::move(created));
            binding = std::prev(bindings.end());
        } else {
            binding->event = "refreshed";
        }
        binding->contact = contact;
        binding->endsAt = now_() + std::chrono::seconds(granted);
        binding->path = path;
        binding->callId = request.callId();
        binding->cseq = request.cseqNumber();
        emit(EventLine("registered").add("contact", contact.uri).add("expires", granted).str());
    }
    std::vector<std::string> headers;
    for (const auto& binding : bindings)
        headers.push_back("Contact: " + contactWithExpires(binding.contact, secondsLeft(binding)));
    headers.push_back("Expires: " + std::to_string(granted));
    for (const auto& entry : path) headers.push_back("Path: " + entry);
    std::string associated;
    for (const auto& uri : associatedUris(impu))
        associated += (associated.empty() ? "<" : ", <") + uri + ">";
    headers.push_back("P-Associated-URI: " + associated);
    headers.push_back("Service-Route: <" + serverUri("orig") + ";lr>");
    headers.push_back("Supported: path");
    if (acceptsOutbound(request, path)) headers.push_back("Require: outbound");
    return respond(request, 200, "OK", headers);
}

Datagram Simulator::deregisterContacts(const SipMessage& request) {
    std::string impu = request.toUri();
    auto& bindings = bindings_[impu];
    std::vector<std::string> headers;
    for (const auto& contact : request.contacts()) {
        auto removed = std::stable_partition(
            bindings.begin(), bindings.end(),
            [&](const Binding& b) { return !contact.wildcard && b.key != bindingKey(contact); });
        for (auto it = removed; it != bindings.end(); ++it) {
            emit(EventLine("deregistered").add("contact", it->contact.uri).str());
            headers.push_back("Contact: " + contactWithExpires(it->contact, 0));
        }
        bindings.erase(removed, bindings.end());
    }
    if (bindings.empty()) {
        // Nothing left to report on: the reg-event subscriptions of this AoR end with it.
        std::erase_if(subscriptions_, [&](const auto& entry) { return entry.second.aor == impu; });
    }
    return respond(request, 200, "OK", headers);
}

std::vector<Datagram> Simulator::command(std::string_view line) {
    dropExpiredBindings();
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line == "quit") {
        quit_ = true;
        return {};
    }
    if (line == "message") return sendMessages();
    if (line.substr(0, 7) == "notify ") {
        if (auto news = contactNewsFromString(line.substr(7))) return notifyAll(*news);
    }
    throw SimError(SimErrc::UnknownCommand,
                   "unknown command (notify active|shortened|deactivated|rejected, message, "
                   "quit): " +
                       std::string(line));
}

Datagram Simulator::respond(const SipMessage& request, int status, std::string_view reason,
                            const std::vector<std::string>& extraHeaders,
                            std::optional<std::string> toTag) {
    std::string text = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    for (const auto& via : request.vias()) text += "Via: " + via + "\r\n";
    text += "From: " + request.from() + "\r\n";
    std::string to = request.to();
    if (!request.toTag()) to += ";tag=" + toTag.value_or(randomHex(6));
    text += "To: " + to + "\r\n";
    text += "Call-ID: " + request.callId() + "\r\n";
    text += "CSeq: " + request.cseq() + "\r\n";
    for (const auto& header : extraHeaders) text += header + "\r\n";
    text += "Content-Length: 0\r\n\r\n";
    emit(EventLine("response")
             .add("status", static_cast<uint64_t>(status))
             .add("method", request.method())
             .str());
    return Datagram{request.responseTarget(), std::move(text)};
}

std::vector<std::string> Simulator::associatedUris(const std::string& impu) const {
    std::vector<std::string> uris{impu};
    for (const auto& uri : options_.associatedUris)
        if (uri != impu) uris.push_back(uri);
    return uris;
}

std::string Simulator::serverUri(std::string_view user) const {
    return "sip:" + std::string(user) + "@" + hostPort(options_.listen);
}

}  // namespace imsaka::scscfsim
