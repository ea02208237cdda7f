#include "system_simulator.h"

#include <stdexcept>

namespace imsaka::conformance {
namespace {

bool isIpv6(const std::string& address) {
    return address.find(':') != std::string::npos;
}

std::string hostText(const std::string& address) {
    return isIpv6(address) ? "[" + address + "]" : address;
}

std::string topBranch(const SipMessage& message) {
    auto vias = message.values("Via");
    if (vias.empty()) return {};
    const Via via = parseVia(vias.front());
    const auto* branch = findParameter(via.parameters, "branch");
    return branch ? branch->value.value_or("") : std::string();
}

// One ipsec-3gpp mechanism of the UE's Security-Client, read by the network.
struct Offer {
    std::string integrity, encryption;
    uint32_t spiC = 0, spiS = 0;
    uint16_t portC = 0, portS = 0;
};

std::vector<Offer> offersOf(const SipMessage& request) {
    std::vector<Offer> offers;
    for (const auto& line : request.lines("Security-Client")) {
        for (const auto& mechanism : parseSecurityMechanisms(line)) {
            if (!sameToken(mechanism.name, "ipsec-3gpp")) continue;
            auto value = [&](const char* name) -> std::optional<std::string> {
                const auto* parameter = findParameter(mechanism.parameters, name);
                if (!parameter) return std::nullopt;
                return parameter->value.value_or("");
            };
            auto number = [&](const char* name) { return parseUnsigned(value(name).value_or("")); };
            auto spiC = number("spi-c"), spiS = number("spi-s"), portC = number("port-c"),
                 portS = number("port-s");
            if (!value("alg") || !spiC || !spiS || !portC || !portS || *portC > 65535 ||
                *portS > 65535)
                continue;
            offers.push_back({*value("alg"), value("ealg").value_or("null"), *spiC, *spiS,
                              static_cast<uint16_t>(*portC), static_cast<uint16_t>(*portS)});
        }
    }
    return offers;
}

std::string mechanismText(const std::string& integrity, const std::string& encryption,
                          const char* q, const SaSet& set) {
    return "ipsec-3gpp;q=" + std::string(q) + ";alg=" + integrity + ";ealg=" + encryption +
           ";spi-c=" + std::to_string(set.spiPc) + ";spi-s=" + std::to_string(set.spiPs) +
           ";port-c=" + std::to_string(set.portPc) + ";port-s=" + std::to_string(set.portPs) +
           ";prot=esp;mod=trans";
}

}  // namespace

std::string contactUri(const SipMessage& message) {
    auto contacts = message.values("Contact");
    if (contacts.empty()) return {};
    return parseNameAddr(contacts.front()).uri;
}

std::string AuthorizationCheck::parameter(std::string_view name) const {
    const auto* found = findParameter(credentials.parameters, name);
    return found ? found->value.value_or("") : std::string();
}

bool AuthorizationCheck::has(std::string_view name) const {
    return findParameter(credentials.parameters, name) != nullptr;
}

SystemSimulator::SystemSimulator(SsOptions options)
    : options_(std::move(options)),
      network_(options_.netns),
      security_(options_.netns),
      home_(options_.k, options_.opc, options_.amf),
      nextPort_(options_.firstProtectedPort),
      nextSpi_(options_.firstSpi),
      nextSqn_(options_.firstSqn) {
    network_.listen(options_.pcscfAddress, options_.unprotectedPort);
}

Inbound SystemSimulator::expectRequest(std::string_view method, Clock::duration timeout) {
    if (auto request = waitForRequest(method, timeout)) return *request;
    throw std::runtime_error(
        "the UE sent no " + std::string(method) + " within " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s");
}

std::optional<Inbound> SystemSimulator::waitForRequest(std::string_view method,
                                                       Clock::duration timeout) {
    return network_.take(
        [&](const Inbound& inbound) {
            return inbound.message.isRequest() && inbound.message.method() == method;
        },
        timeout);
}

std::string SystemSimulator::toTagFor(const SipMessage& request) {
    auto& tag = toTags_[request.first("Call-ID").value_or("")];
    if (tag.empty()) tag = randomToken();
    return tag;
}

Route SystemSimulator::responseRoute(const Inbound& request) const {
    if (request.transport == Transport::Tcp)
        return Route{Transport::Tcp, request.local, request.remote, request.connection};
    Route route{Transport::Udp, request.local, request.remote, -1};
    for (const auto& [id, set] : sets_)
        if (request.local.port == set.portPs && request.local.address == set.pcscf)
            route.from.port = set.portPc;  // the P-CSCF sends on port_pc (33.203 7.1)
    auto vias = request.message.values("Via");
    Via via = parseVia(vias.front());
    // RFC 3581: with rport, back to the source port; RFC 3261 18.2.2: else to the sent-by
    // port (5060 when absent), at the source address.
    if (!findParameter(via.parameters, "rport")) route.to.port = via.port.value_or(5060);
    return route;
}

void SystemSimulator::respond(const Inbound& request, int status, std::string_view reason,
                              const Headers& extra, std::string_view contentType,
                              std::string_view body) {
    std::string text = buildResponse(request.message, status, reason, toTagFor(request.message),
                                     extra, contentType, body);
    Route route = responseRoute(request);
    network_.send(route, text);
    network_.remember(request, route, text);
}

void SystemSimulator::installSet(const SaSet& set, const Vector& vector) {
    security_.install(set, vector.ck, vector.ik);
    sets_[set.id] = set;
}

Challenge SystemSimulator::challenge(const Inbound& request, const ChallengeOptions& options) {
    Challenge result;
    std::vector<int> replaced;  // sets the new one takes the UE's SPIs from
    result.callId = request.message.first("Call-ID").value_or("");
    result.securityClient = request.message.first("Security-Client").value_or("");
    result.vector = home_.vector(options.sqn.value_or(nextSqn_), options.kind);
    if (!options.sqn && options.kind == ChallengeKind::Valid) nextSqn_ += 32;
    result.opaque = randomToken();
    result.wwwAuthenticate =
        "Digest realm=\"" + options_.domain + "\", nonce=\"" + result.vector.nonce +
        "\", algorithm=AKAv1-MD5, qop=\"auth\", opaque=\"" + result.opaque + "\"";
    Headers extra{{"WWW-Authenticate", result.wwwAuthenticate}};

    if (options.securityServerText) {
        result.securityServer = *options.securityServerText;
    } else if (options.securityServer) {
        auto offers = offersOf(request.message);
        if (offers.empty())
            throw std::runtime_error("the REGISTER offers no usable ipsec-3gpp mechanism\n" +
                                     request.message.text());
        auto pick = [&](auto&& wanted) -> const Offer* {
            for (const auto& offer : offers)
                if (wanted(offer)) return &offer;
            return nullptr;
        };
        const Offer* chosen = pick([&](const Offer& o) {
            return o.integrity == options.integrity && o.encryption == options.encryption;
        });
        if (!chosen)
            chosen = pick([&](const Offer& o) { return o.integrity == options.integrity; });
        if (!chosen) chosen = &offers.front();
        const Offer* second = pick([&](const Offer& o) {
            return o.integrity != chosen->integrity && o.encryption == chosen->encryption;
        });
        if (!second)
            second = pick([&](const Offer& o) { return o.integrity != chosen->integrity; });

        SaSet set;
        set.id = nextSetId_++;
        set.ue = options_.ueAddress;
        set.pcscf = options_.pcscfAddress;
        set.spiUc = chosen->spiC;
        set.spiUs = chosen->spiS;
        set.portUc = chosen->portC;
        set.portUs = chosen->portS;
        set.spiPc = nextSpi_++;
        set.spiPs = nextSpi_++;
        set.portPc = nextPort_++;
        set.portPs = nextPort_++;
        handedOut_.ports.insert({set.portPc, set.portPs});
        handedOut_.spis.insert({set.spiPc, set.spiPs});
        set.integrity = chosen->integrity;
        set.encryption = chosen->encryption;
        result.securityServer = mechanismText(set.integrity, set.encryption, "0.9", set);
        if (second)
            result.securityServer +=
                ", " + mechanismText(second->integrity, second->encryption, "0.7", set);
        network_.listen(set.pcscf, set.portPs);
        network_.listen(set.pcscf, set.portPc, false);
        if (options.kind == ChallengeKind::Valid) {
            // A new challenge for the same offer (a second 401 to the protected REGISTER)
            // replaces the temporary set made for it: the UE's SPIs name one SA each.
            for (const auto& [id, old] : sets_)
                if (old.ue == set.ue && (old.spiUc == set.spiUc || old.spiUs == set.spiUs))
                    replaced.push_back(id);
            result.set = set;
        }
    }
    if (result.set && replaced.empty()) installSet(*result.set, result.vector);
    if (!result.securityServer.empty()) extra.push_back({"Security-Server", result.securityServer});
    respond(request, 401, "Unauthorized", extra);
    // The 401 answers a request that came over the set it replaces, so it goes over that set
    // (24.229 5.1.1.5.1: a response uses the set its request came on; the UE holds no other
    // until it has read the 401); the new set takes the SPIs afterwards.
    if (!replaced.empty()) {
        for (int id : replaced) dropSet(id);
        installSet(*result.set, result.vector);
    }
    return result;
}

AuthorizationCheck SystemSimulator::verify(const Inbound& request,
                                           const Challenge& challenge) const {
    AuthorizationCheck check;
    auto line = request.message.first("Authorization");
    if (!line) return check;
    check.credentials = parseCredentials(*line);
    check.expectedResponse =
        digestResponse(check.parameter("username"), check.parameter("realm"), challenge.vector.xres,
                       check.parameter("nonce"), request.message.method(), check.parameter("uri"),
                       check.parameter("qop"), check.parameter("nc"), check.parameter("cnonce"));
    check.responseMatches = check.parameter("response") == check.expectedResponse;
    if (check.has("auts")) {
        check.auts = check.parameter("auts");
        check.sqnMs = home_.sqnFromAuts(challenge.vector, *check.auts);
    }
    return check;
}

void SystemSimulator::acceptRegister(const Inbound& request, uint32_t expires) {
    Headers extra;
    for (const auto& value : request.message.values("Contact")) {
        NameAddr contact = parseNameAddr(value);
        std::string text = "<" + contact.uri + ">";
        for (const auto& parameter : contact.parameters) {
            if (sameToken(parameter.name, "expires")) continue;
            text += ";" + parameter.name;
            if (parameter.value)
                text +=
                    "=" + (parameter.quoted ? "\"" + *parameter.value + "\"" : *parameter.value);
        }
        extra.push_back({"Contact", text + ";expires=" + std::to_string(expires)});
    }
    std::string associated;
    for (const auto& uri : options_.associatedUris)
        associated += (associated.empty() ? "<" : ", <") + uri + ">";
    if (!associated.empty()) extra.push_back({"P-Associated-URI", associated});
    extra.push_back({"Service-Route", options_.serviceRoute});
    extra.push_back({"Path", "<sip:" + hostText(options_.pcscfAddress) + ";lr>"});
    respond(request, 200, "OK", extra);
}

Subscription SystemSimulator::acceptSubscribe(const Inbound& subscribe, uint32_t expires) {
    Subscription subscription;
    subscription.callId = subscribe.message.first("Call-ID").value_or("");
    subscription.localTag = toTagFor(subscribe.message);
    subscription.remote = subscribe.message.first("From").value_or("");
    subscription.local =
        subscribe.message.first("To").value_or("") + ";tag=" + subscription.localTag;
    subscription.remoteTarget = contactUri(subscribe.message);
    subscription.aor = subscribe.message.requestUri();
    Headers extra{{"Contact", "<sip:scscf.3gpp.org>"}, {"Expires", std::to_string(expires)}};
    if (auto set = setOf(subscribe))
        extra.push_back({"Record-Route", "<sip:" + hostText(set->pcscf) + ":" +
                                             std::to_string(set->portPs) + ";lr>"});
    respond(subscribe, 200, "OK", extra);
    return subscription;
}

Sent SystemSimulator::sendRequest(const SaSet& over, Transport transport, std::string_view method,
                                  std::string_view requestUri, Headers headers,
                                  std::string_view contentType, std::string_view body) {
    Sent sent;
    sent.method = std::string(method);
    sent.set = over;
    sent.transport = transport;
    sent.branch = "z9hG4bK" + randomToken();
    const Endpoint from{over.pcscf, over.portPc};
    const Endpoint to{over.ue, over.portUs};
    const std::string protocol = transport == Transport::Udp ? "SIP/2.0/UDP " : "SIP/2.0/TCP ";
    // 34.229-1 A.1.6: the P-CSCF's Via names its protected server port; the S-CSCF's follows.
    Headers all{{"Via", protocol + hostText(over.pcscf) + ":" + std::to_string(over.portPs) +
                            ";branch=" + sent.branch},
                {"Via", protocol + "scscf.3gpp.org;branch=z9hG4bK" + randomToken()},
                {"Max-Forwards", "69"}};
    all.insert(all.end(), headers.begin(), headers.end());
    for (const auto& header : all)
        if (sameToken(header.name, "Call-ID")) sent.callId = header.value;
    sent.text = buildRequest(method, requestUri, all, contentType, body);
    if (transport == Transport::Udp) {
        sent.route = Route{Transport::Udp, from, to, -1};
    } else {
        sent.route = Route{Transport::Tcp, from, to, network_.connect(from, to)};
    }
    network_.send(sent.route, sent.text);
    return sent;
}

Sent SystemSimulator::notify(const SaSet& over, Transport transport, Subscription& subscription,
                             std::string_view subscriptionState, std::string_view body) {
    Headers headers{{"From", subscription.local},
                    {"To", subscription.remote},
                    {"Call-ID", subscription.callId},
                    {"CSeq", std::to_string(++subscription.cseq) + " NOTIFY"},
                    {"Contact", "<sip:scscf.3gpp.org>"},
                    {"Event", "reg"},
                    {"Subscription-State", std::string(subscriptionState)}};
    return sendRequest(over, transport, "NOTIFY", subscription.remoteTarget, headers,
                       "application/reginfo+xml", body);
}

Sent SystemSimulator::message(const SaSet& over, Transport transport, std::string_view requestUri,
                              std::string_view text) {
    Headers headers{{"From", "<sip:+15550000002@" + options_.domain + ">;tag=" + randomToken()},
                    {"To", "<" + options_.associatedUris.front() + ">"},
                    {"Call-ID", randomToken(12) + "@scscf.3gpp.org"},
                    {"CSeq", "1 MESSAGE"},
                    {"P-Asserted-Identity", "<sip:+15550000002@" + options_.domain + ">"}};
    return sendRequest(over, transport, "MESSAGE", requestUri, headers, "text/plain", text);
}

Inbound SystemSimulator::expectResponse(const Sent& sent, Clock::duration timeout) {
    if (auto response = waitForResponse(sent, timeout)) return *response;
    throw std::runtime_error("the UE did not answer the " + sent.method + " (" +
                             sent.route.describe() + ")");
}

std::optional<Inbound> SystemSimulator::waitForResponse(const Sent& sent, Clock::duration timeout) {
    return network_.take(
        [&](const Inbound& inbound) {
            if (inbound.message.isRequest() || inbound.message.status() < 200) return false;
            try {
                return topBranch(inbound.message) == sent.branch;
            } catch (const SipSyntaxError&) {
                return false;
            }
        },
        timeout);
}

std::optional<SaSet> SystemSimulator::setOf(const Inbound& message) const {
    for (const auto& [id, set] : sets_) {
        if (message.local.address != set.pcscf || message.remote.address != set.ue) continue;
        bool requestPath = message.local.port == set.portPs && message.remote.port == set.portUc;
        bool serverPath = message.local.port == set.portPc && message.remote.port == set.portUs;
        if (requestPath || serverPath) return set;
    }
    return std::nullopt;
}

std::vector<SaSet> SystemSimulator::sets() const {
    std::vector<SaSet> all;
    for (const auto& [id, set] : sets_) all.push_back(set);
    return all;
}

void SystemSimulator::dropSet(int id) {
    auto found = sets_.find(id);
    if (found == sets_.end()) return;
    security_.remove(found->second);
    sets_.erase(found);
}

std::string SystemSimulator::diagnostics() const {
    std::string text = "--- system simulator ---\n" + network_.log();
    for (const auto& left : network_.untaken())
        text += "--- received and not taken ---\n" + left.message.text() + "\n";
    for (const auto& [id, set] : sets_) text += "  ss set| " + set.describe() + "\n";
    try {
        text += security_.dump();
    } catch (const std::exception& error) {
        text += std::string("P-CSCF SAs unreadable: ") + error.what() + "\n";
    }
    return text;
}

}  // namespace imsaka::conformance
