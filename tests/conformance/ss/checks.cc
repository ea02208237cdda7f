#include "checks.h"

#include <algorithm>

namespace imsaka::conformance {
namespace {

bool startsWith(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

std::string value(const Parameters& parameters, std::string_view name) {
    const auto* found = findParameter(parameters, name);
    return found ? found->value.value_or("") : std::string();
}

bool has(const Parameters& parameters, std::string_view name) {
    return findParameter(parameters, name) != nullptr;
}

// Runs a parse that may throw; records the failure as a broken requirement.
template <typename Parse>
auto parsed(Verdict& verdict, const std::string& what, Parse parse)
    -> std::optional<decltype(parse())> {
    try {
        return parse();
    } catch (const SipSyntaxError& error) {
        verdict.require(false, what + " parses (RFC 3261 25): " + error.what());
        return std::nullopt;
    }
}

bool containsToken(const std::vector<std::string>& values, std::string_view token) {
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& v) { return sameToken(trimmed(v), token); });
}

// From/To of requests outside a dialog (RFC 3261 8.1.1.2/8.1.1.3), with the identity.
void checkFromTo(Verdict& verdict, const SipMessage& message, const std::string& identity,
                 const std::string& clause) {
    auto from =
        parsed(verdict, "From", [&] { return parseNameAddr(message.first("From").value_or("")); });
    auto to =
        parsed(verdict, "To", [&] { return parseNameAddr(message.first("To").value_or("")); });
    if (from) {
        verdict.require(from->uri == identity, clause + " From addr-spec is " + identity);
        verdict.require(!value(from->parameters, "tag").empty(),
                        clause + " From tag present (RFC 3261 8.1.1.3)");
    }
    if (to) {
        verdict.require(to->uri == identity, clause + " To addr-spec is " + identity);
        verdict.require(!has(to->parameters, "tag"),
                        clause + " To tag not present (RFC 3261 8.1.1.2)");
    }
}

void checkVia(Verdict& verdict, const SipMessage& message, const std::string& address,
              Transport transport, bool protectedRequest, std::optional<uint16_t> portUs,
              const std::string& clause) {
    auto vias = message.values("Via");
    verdict.require(vias.size() == 1, clause + " one Via entry from the UE (RFC 3261 8.1.1.7)");
    if (vias.empty()) return;
    auto via = parsed(verdict, "Via", [&] { return parseVia(vias.front()); });
    if (!via) return;
    const std::string protocol = transport == Transport::Udp ? "SIP/2.0/UDP" : "SIP/2.0/TCP";
    verdict.require(via->protocol == protocol,
                    clause + " Via sent-protocol " + protocol + ", the transport it travelled on");
    verdict.require(via->host == address,
                    clause + " Via sent-by is the UE's IP address " + address);
    verdict.require(startsWith(value(via->parameters, "branch"), "z9hG4bK"),
                    clause + " Via branch starts with z9hG4bK (RFC 3261 8.1.1.7)");
    if (!protectedRequest) {
        if (transport == Transport::Udp)
            verdict.require(
                has(via->parameters, "rport") && value(via->parameters, "rport").empty(),
                "A.1.1 A1: Via rport without a value (24.229 5.1.1.2.1 d), RFC 3581)");
        return;
    }
    verdict.require(!has(via->parameters, "rport"),
                    "A.1.1 A2: no rport in a protected request (24.229 5.1.1.5.1 3) b))");
    if (transport == Transport::Udp && portUs)
        verdict.require(via->port == portUs,
                        "A.1.1 A2: Via sent-by carries the protected server port " +
                            std::to_string(*portUs) + " (24.229 5.1.1.2.2 c))");
}

// RFC 3261 18.1.1: a request over 1300 bytes (the path MTU being unknown) must travel over a
// congestion-controlled transport, TCP; below that the UE may use TCP too (a SUBSCRIBE
// follows its registration's connection), and a UE set up for TCP uses nothing else. The
// other checks (Via, rport, Content-Length) follow the transport it travelled on.
Transport checkTransport(Verdict& verdict, const Inbound& request, Transport configured,
                         const std::string& clause) {
    const size_t size = request.message.text().size();
    if (configured == Transport::Tcp)
        verdict.require(request.transport == Transport::Tcp,
                        clause + " over TCP, the transport the UE was set up with");
    else if (size > 1300)
        verdict.require(request.transport == Transport::Tcp,
                        clause + " a request of " + std::to_string(size) +
                            " bytes (over 1300) travels over TCP (RFC 3261 18.1.1)");
    return request.transport;
}

void checkSecurityClient(Verdict& verdict, const SipMessage& message) {
    auto lines = message.lines("Security-Client");
    if (!verdict.require(!lines.empty(),
                         "A.1.1 A1/A2: Security-Client present (24.229 5.1.1.2.2 d))"))
        return;
    bool sha1 = false;
    std::optional<std::string> sharedParameters;
    for (const auto& line : lines) {
        auto mechanisms =
            parsed(verdict, "Security-Client", [&] { return parseSecurityMechanisms(line); });
        if (!mechanisms) continue;
        for (const auto& m : *mechanisms) {
            if (!verdict.require(
                    m.name == "ipsec-3gpp",
                    "A.1.1: Security-Client mechanism-name ipsec-3gpp (33.203 Annex H): " + m.text))
                continue;
            std::string alg = value(m.parameters, "alg");
            sha1 = sha1 || alg == "hmac-sha-1-96";
            verdict.require(alg == "hmac-sha-1-96" || alg == "hmac-md5-96",
                            "33.203 H: alg is hmac-sha-1-96 or hmac-md5-96: " + m.text);
            verdict.require(!has(m.parameters, "prot") || value(m.parameters, "prot") == "esp",
                            "A.1.1: prot=esp if present: " + m.text);
            verdict.require(!has(m.parameters, "mod") || value(m.parameters, "mod") == "trans",
                            "A.1.1: mod=trans if present: " + m.text);
            std::string ealg = has(m.parameters, "ealg") ? value(m.parameters, "ealg") : "null";
            verdict.require(ealg == "des-ede3-cbc" || ealg == "aes-cbc" || ealg == "null",
                            "A.1.1: ealg des-ede3-cbc, aes-cbc or null: " + m.text);
            std::string shared;
            for (const char* name : {"spi-c", "spi-s", "port-c", "port-s"}) {
                auto number = parseUnsigned(value(m.parameters, name));
                verdict.require(
                    number.has_value() && (name[0] == 's' || (*number > 0 && *number < 65536)),
                    std::string("A.1.1: ") + name + " present and valid (33.203 H): " + m.text);
                shared += value(m.parameters, name) + " ";
            }
            if (!sharedParameters) sharedParameters = shared;
            verdict.require(
                *sharedParameters == shared,
                "33.203 7.1: every mechanism offers the same SPIs and ports: " + m.text);
        }
    }
    verdict.require(sha1, "A.1.1: Security-Client offers algorithm hmac-sha-1-96 (33.203 6.3)");
}

}  // namespace

bool Verdict::require(bool condition, const std::string& requirement) {
    if (!condition) failures_.push_back(requirement);
    return condition;
}

std::string Verdict::report(const std::string& message) const {
    std::string text =
        subject_ + ": " + std::to_string(failures_.size()) + " requirement(s) not met\n";
    for (const auto& failure : failures_) text += "  - " + failure + "\n";
    if (!message.empty()) text += "--- the message ---\n" + message + "\n";
    return text;
}

std::string normalisedMechanisms(const std::string& value) {
    std::string out;
    try {
        for (const auto& mechanism : parseSecurityMechanisms(value)) {
            if (!out.empty()) out += ",";
            out += mechanism.name;
            for (const auto& parameter : mechanism.parameters)
                out += ";" + parameter.name + (parameter.value ? "=" + *parameter.value : "");
        }
    } catch (const SipSyntaxError&) {
        return "(unparsable) " + value;
    }
    return out;
}

Verdict checkRegister(const Inbound& request, const RegisterExpectation& expected) {
    const SipMessage& message = request.message;
    const bool isProtected = expected.over.has_value();
    const std::string row = isProtected ? "A.1.1 A2" : "A.1.1 A1";
    Verdict verdict(std::string(isProtected ? "protected" : "unprotected") + " REGISTER (" + row +
                    ")");
    const UeIdentity& id = expected.identity;
    const std::string homeUri = "sip:" + id.domain;

    verdict.require(message.method() == "REGISTER", row + ": method REGISTER");
    verdict.require(message.requestUri() == homeUri,
                    row + ": Request-URI is the home domain " + homeUri + " (24.229 5.1.1.2.1 f))");
    verdict.require(message.count("Route") == 0, row + ": Route not present");
    const Transport transport = checkTransport(verdict, request, expected.transport, row + ":");
    checkVia(verdict, message, id.address, transport, isProtected,
             isProtected ? std::optional<uint16_t>(expected.over->portUs) : std::nullopt,
             row + ":");
    checkFromTo(verdict, message, id.impu, row + " (24.229 5.1.1.2.1 a) b)):");

    // Contact: the UE's address; protected, its protected server port (24.229 5.1.1.2.2 b)).
    auto contacts = message.values("Contact");
    verdict.require(contacts.size() == 1, row + ": one Contact");
    std::optional<uint32_t> contactExpires;
    if (!contacts.empty()) {
        auto contact = parsed(verdict, "Contact", [&] { return parseNameAddr(contacts.front()); });
        auto uri = contact ? parsed(verdict, "Contact URI", [&] { return parseUri(contact->uri); })
                           : std::nullopt;
        if (uri) {
            verdict.require(
                uri->scheme == "sip" && uri->host == id.address,
                row + ": Contact is a SIP URI with the UE's IP address (24.229 5.1.1.2.1 c))");
            if (isProtected)
                verdict.require(uri->port == expected.over->portUs,
                                "A.1.1 A2: Contact carries the protected server port " +
                                    std::to_string(expected.over->portUs) +
                                    " (24.229 5.1.1.2.2 b))");
        }
        if (contact) {
            const auto* instance = findParameter(contact->parameters, "+sip.instance");
            verdict.require(instance && instance->quoted &&
                                startsWith(instance->value.value_or(""), "<urn:") &&
                                instance->value->back() == '>',
                            "A.1.1 A5: Contact +sip.instance=\"<urn:...>\" (24.229 5.1.1.2.1 c), "
                            "RFC 5626 4.1)");
            if (has(contact->parameters, "expires"))
                contactExpires = parseUnsigned(value(contact->parameters, "expires"));
        }
    }
    // Expires: in Contact or in Expires (24.229 5.1.1.2.1 e), 5.1.1.6).
    auto expiresHeader = message.first("Expires");
    std::optional<uint32_t> expires = contactExpires;
    if (!expires && expiresHeader) expires = parseUnsigned(*expiresHeader);
    verdict.require(expires.has_value(), row + ": an expiration in Contact expires or Expires");
    if (expected.deregistration) {
        verdict.require(expires == 0u,
                        row + " A17: deregistration asks for expiration 0 (24.229 5.1.1.6)");
    } else if (expected.expires) {
        verdict.require(
            expires == expected.expires,
            row + ": expiration " + std::to_string(*expected.expires) + " (24.229 5.1.1.2.1 e))");
    }
    if (contactExpires && expiresHeader)
        verdict.require(parseUnsigned(*expiresHeader) == contactExpires,
                        row + ": Expires and Contact expires agree (RFC 3261 10.2.1.1)");

    verdict.require(containsToken(message.values("Require"), "sec-agree"),
                    row + ": Require sec-agree (RFC 3329 2.3.1, 24.229 5.1.1.2)");
    verdict.require(containsToken(message.values("Proxy-Require"), "sec-agree"),
                    row + ": Proxy-Require sec-agree (RFC 3329 2.3.1)");
    auto supported = message.values("Supported");
    verdict.require(containsToken(supported, "path"),
                    row + ": Supported path (24.229 5.1.1.2.1 g))");
    verdict.require(containsToken(supported, "gruu"),
                    "A.1.1 A5: Supported gruu (24.229 5.1.1.2.1 g) 1))");
    verdict.require(message.cseqMethod() == "REGISTER", row + ": CSeq method REGISTER");
    verdict.require(!message.first("Call-ID").value_or("").empty(), row + ": Call-ID present");
    auto maxForwards = parseUnsigned(message.first("Max-Forwards").value_or(""));
    verdict.require(maxForwards && *maxForwards > 0,
                    row + ": Max-Forwards non-zero (RFC 3261 8.1.1.6)");
    if (transport == Transport::Tcp)
        verdict.require(message.count("Content-Length") == 1,
                        row + ": Content-Length over TCP (RFC 3261 18.3, 20.14)");
    checkSecurityClient(verdict, message);

    // Security-Verify: none before the agreement; after it, the Security-Server mirrored.
    auto verify = message.lines("Security-Verify");
    if (!isProtected) {
        verdict.require(verify.empty(), "A.1.1 A1: Security-Verify not present");
    } else {
        std::string mirrored;
        for (const auto& line : verify) mirrored += (mirrored.empty() ? "" : ", ") + line;
        const std::string& server =
            expected.answering ? expected.answering->securityServer : std::string();
        if (expected.answering)
            verdict.require(normalisedMechanisms(mirrored) == normalisedMechanisms(server),
                            "A.1.1 A2: Security-Verify mirrors the Security-Server of the 401 "
                            "(24.229 5.1.1.5.1)");
        else
            verdict.require(!verify.empty(),
                            "A.1.1 A2: Security-Verify present (24.229 5.1.1.4.2 e))");
    }

    // Authorization (24.229 5.1.1.2.2 a), 5.1.1.5.1, 5.1.1.4.2 a)).
    auto authorization = message.first("Authorization");
    if (!verdict.require(authorization.has_value(), row + ": Authorization present"))
        return verdict;
    auto credentials =
        parsed(verdict, "Authorization", [&] { return parseCredentials(*authorization); });
    if (!credentials) return verdict;
    const auto& p = credentials->parameters;
    verdict.require(credentials->scheme == "Digest", row + ": Authorization scheme Digest");
    verdict.require(value(p, "username") == id.impi,
                    row + ": username is the private identity " + id.impi);
    verdict.require(value(p, "uri") == homeUri,
                    row + ": uri is the home domain's SIP URI " + homeUri);
    if (!isProtected) {
        verdict.require(value(p, "realm") == id.domain, "A.1.1 A1: realm is the home domain");
        if (expected.answersInvalidChallenge) return verdict;
        verdict.require(has(p, "nonce") && value(p, "nonce").empty(), "A.1.1 A1: nonce empty");
        verdict.require(has(p, "response") && value(p, "response").empty(),
                        "A.1.1 A1: response empty");
        return verdict;
    }
    if (expected.answering) {
        const Challenge& challenge = *expected.answering;
        verdict.require(value(p, "nonce") == challenge.vector.nonce,
                        "A.1.1 A2: nonce as in WWW-Authenticate");
        verdict.require(value(p, "realm") == expected.identity.domain,
                        "A.1.1 A2: realm as in WWW-Authenticate");
        verdict.require(value(p, "opaque") == challenge.opaque, "A.1.1 A2: opaque as in the 401");
        verdict.require(value(p, "algorithm") == "AKAv1-MD5", "A.1.1 A2: algorithm AKAv1-MD5");
        verdict.require(value(p, "qop") == "auth", "A.1.1 A2: qop-value auth");
        verdict.require(!value(p, "cnonce").empty(), "A.1.1 A2: cnonce-value present");
        verdict.require(value(p, "nc") == "00000001",
                        "A.1.1 A2: nonce-count 00000001 for a new nonce");
        verdict.require(expected.authorization && expected.authorization->responseMatches,
                        "A.1.1 A2: response computed from RES (RFC 3310 3.4, RFC 2617 3.2.2.1)");
        verdict.require(message.first("Call-ID") == challenge.callId,
                        "24.229 5.1.1.5.1: the Call-ID of the 401 that carried the challenge");
        verdict.require(message.first("Security-Client") == challenge.securityClient,
                        "24.229 5.1.1.5.1: Security-Client identical to the challenged REGISTER's");
    } else {
        verdict.require(value(p, "nonce") == expected.lastNonce,
                        "24.229 5.1.1.4.2 a): nonce is the last received nonce");
        verdict.require(value(p, "realm") == expected.lastRealm,
                        "24.229 5.1.1.4.2 a): realm as received in WWW-Authenticate");
        verdict.require(!value(p, "response").empty(),
                        "24.229 5.1.1.4.2 a): the last calculated response");
    }
    return verdict;
}

Verdict checkSubscribe(const Inbound& request, const SubscribeExpectation& expected) {
    const SipMessage& message = request.message;
    Verdict verdict("SUBSCRIBE for the reg-event package (A.1.4 A1)");
    verdict.require(message.requestUri() == expected.subscribedIdentity,
                    "A.1.4: Request-URI is the public user identity used for subscription " +
                        expected.subscribedIdentity + " (24.229 5.1.1.3 a), NOTE 2)");
    // Route: the P-CSCF with its protected server port, then the Service-Route.
    auto routes = message.values("Route");
    verdict.require(routes.size() == 2,
                    "A.1.4: Route has the P-CSCF and the Service-Route (24.229 5.1.2A.1.1)");
    if (routes.size() >= 1) {
        auto first =
            parsed(verdict, "Route", [&] { return parseUri(parseNameAddr(routes[0]).uri); });
        if (first)
            verdict.require(first->host == expected.over.pcscf &&
                                first->port == expected.over.portPs &&
                                findParameter(first->parameters, "lr"),
                            "A.1.4: first Route <sip:P-CSCF:protected server port;lr>");
    }
    if (routes.size() >= 2) {
        auto second = parsed(verdict, "Route", [&] { return parseNameAddr(routes[1]).uri; });
        verdict.require(second == parseNameAddr(expected.serviceRoute).uri,
                        "A.1.4: second Route is the stored Service-Route " + expected.serviceRoute +
                            " (24.229 5.1.1.2.1 d))");
    }
    const Transport transport = checkTransport(verdict, request, expected.transport, "A.1.4:");
    checkVia(verdict, message, expected.identity.address, transport, true, expected.over.portUs,
             "A.1.4:");
    // checkVia's UDP sent-by rule is the REGISTER's; A.1.4 asks port_us over TCP too.
    auto vias = message.values("Via");
    if (!vias.empty() && transport == Transport::Tcp) {
        auto via = parsed(verdict, "Via", [&] { return parseVia(vias.front()); });
        if (via)
            verdict.require(via->port == expected.over.portUs,
                            "A.1.4: Via sent-by has the protected server port of the UE");
    }
    checkFromTo(verdict, message, expected.subscribedIdentity, "A.1.4 (24.229 5.1.1.3 b) c)):");
    auto contacts = message.values("Contact");
    if (verdict.require(contacts.size() == 1, "A.1.4: one Contact")) {
        auto uri =
            parsed(verdict, "Contact", [&] { return parseUri(parseNameAddr(contacts[0]).uri); });
        if (uri)
            verdict.require(
                uri->host == expected.identity.address && uri->port == expected.over.portUs,
                "A.1.4: Contact with the UE's IP address and protected server port (24.229 5.1.1.3 "
                "g))");
    }
    verdict.require(message.first("Expires") == "600000",
                    "A.1.4: Expires 600000 (24.229 5.1.1.3 e))");
    std::string mirrored;
    for (const auto& line : message.lines("Security-Verify"))
        mirrored += (mirrored.empty() ? "" : ", ") + line;
    verdict.require(
        normalisedMechanisms(mirrored) == normalisedMechanisms(expected.securityServer),
        "A.1.4 A1: Security-Verify is the Security-Server sent by the SS (RFC 3329 2.3.1)");
    verdict.require(containsToken(message.values("Require"), "sec-agree"),
                    "A.1.4 A1: Require sec-agree");
    verdict.require(containsToken(message.values("Proxy-Require"), "sec-agree"),
                    "A.1.4 A1: Proxy-Require sec-agree");
    verdict.require(message.cseqMethod() == "SUBSCRIBE", "A.1.4: CSeq method SUBSCRIBE");
    verdict.require(!message.first("Call-ID").value_or("").empty(), "A.1.4: Call-ID present");
    auto maxForwards = parseUnsigned(message.first("Max-Forwards").value_or(""));
    verdict.require(maxForwards && *maxForwards > 0, "A.1.4: Max-Forwards non-zero");
    auto accept = message.values("Accept");
    verdict.require(accept.empty() || containsToken(accept, "application/reginfo+xml"),
                    "A.1.4: Accept application/reginfo+xml if present (RFC 3680 3.3)");
    auto event = message.first("Event").value_or("");
    verdict.require(trimmed(event.substr(0, event.find(';'))) == "reg",
                    "A.1.4: Event reg (24.229 5.1.1.3 d), RFC 3680)");
    if (transport == Transport::Tcp)
        verdict.require(message.count("Content-Length") == 1,
                        "A.1.4: Content-Length over TCP (RFC 3261 18.3)");
    return verdict;
}

Verdict checkResponseTo(const Inbound& response, const Sent& request, int status) {
    Verdict verdict("the UE's response to " + request.method + " (RFC 3261 8.2.6.2)");
    const SipMessage& message = response.message;
    verdict.require(message.status() == status, "status " + std::to_string(status));
    auto sentMessage = SipMessage::parse(request.text);
    verdict.require(message.lines("Via") == sentMessage.lines("Via"),
                    "the request's Via, in order");
    verdict.require(message.first("Call-ID") == sentMessage.first("Call-ID"),
                    "the request's Call-ID");
    verdict.require(message.first("CSeq") == sentMessage.first("CSeq"), "the request's CSeq");
    verdict.require(message.first("From") == sentMessage.first("From"), "the request's From");
    auto to =
        parsed(verdict, "To", [&] { return parseNameAddr(message.first("To").value_or("")); });
    if (to) verdict.require(!value(to->parameters, "tag").empty(), "a To tag (RFC 3261 8.2.6.2)");
    return verdict;
}

}  // namespace imsaka::conformance
