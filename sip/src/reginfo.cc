// RFC 3680 reginfo documents, read with pugixml. Elements are matched by local name within
// the reginfo namespace, whatever prefix the document binds it to.
#include "imsaka/sip/reginfo.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <pugixml.hpp>

#include "numbers.h"
#include "scanner.h"

namespace imsaka::sip {

namespace {

constexpr std::string_view kNamespace = "urn:ietf:params:xml:ns:reginfo";
// The state of a registration (a few identities, each with a few contacts and their feature
// tags) takes a few kB; 64 KiB, the most one UDP datagram carries, leaves wide room. Anything
// larger is refused unread, which bounds the work of a hostile body to about a millisecond.
constexpr size_t kMaxDocument = 64 << 10;
// Namespace lookups scan an element's attributes and those of its ancestors once per child:
// capping the count keeps the work linear in the document's size.
constexpr size_t kMaxAttributes = 64;

// Where an element starts: pugixml gives the offset of its name, one after the '<'.
size_t offsetOf(const pugi::xml_node& node) {
    ptrdiff_t offset = node.offset_debug();
    return offset <= 0 ? 0 : static_cast<size_t>(offset - 1);
}

[[noreturn]] void fail(ReginfoErrc code, std::string what, const pugi::xml_node& where) {
    throw ReginfoError(code, std::move(what), offsetOf(where));
}

std::string_view localName(const pugi::xml_node& node) {
    std::string_view name = node.name();
    size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string_view prefixOf(const pugi::xml_node& node) {
    std::string_view name = node.name();
    size_t colon = name.find(':');
    return colon == std::string_view::npos ? std::string_view() : name.substr(0, colon);
}

// The namespace a prefix stands for at this node (nearest declaration upwards).
std::string_view namespaceOf(pugi::xml_node node, std::string_view prefix) {
    std::string attribute = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
    for (; node; node = node.parent()) {
        if (auto declaration = node.attribute(attribute.c_str())) return declaration.value();
    }
    return {};
}

bool inReginfoNamespace(const pugi::xml_node& node) {
    return node.type() == pugi::node_element && namespaceOf(node, prefixOf(node)) == kNamespace;
}

// Children in the reginfo namespace with the given local name.
template <typename Visit>
void forEachChild(const pugi::xml_node& parent, std::string_view name, Visit visit) {
    for (auto child : parent.children()) {
        if (inReginfoNamespace(child) && localName(child) == name) visit(child);
    }
}

pugi::xml_node firstChild(const pugi::xml_node& parent, std::string_view name) {
    for (auto child : parent.children()) {
        if (inReginfoNamespace(child) && localName(child) == name) return child;
    }
    return {};
}

// Elements whose children we read: their attributes are scanned for each child.
void requireFewAttributes(const pugi::xml_node& node) {
    size_t count = 0;
    for (auto attribute = node.first_attribute(); attribute; attribute = attribute.next_attribute())
        if (++count > kMaxAttributes)
            fail(ReginfoErrc::TooLarge,
                 std::string(localName(node)) + " has more than " + std::to_string(kMaxAttributes) +
                     " attributes",
                 node);
}

std::string_view requiredAttribute(const pugi::xml_node& node, const char* name) {
    auto attribute = node.attribute(name);
    if (!attribute) {
        fail(ReginfoErrc::MissingAttribute,
             std::string(localName(node)) + " has no " + name + " attribute", node);
    }
    return attribute.value();
}

std::optional<uint32_t> numberAttribute(const pugi::xml_node& node, const char* name) {
    auto attribute = node.attribute(name);
    if (!attribute) return std::nullopt;
    auto number = parseDecimal(attribute.value(), UINT32_MAX);
    if (!number) fail(ReginfoErrc::BadValue, std::string("bad number in ") + name, node);
    return static_cast<uint32_t>(*number);
}

template <typename Enum, size_t N>
Enum enumAttribute(const pugi::xml_node& node, const char* name,
                   const std::array<Enum, N>& values) {
    std::string_view text = requiredAttribute(node, name);
    for (Enum value : values) {
        if (toString(value) == text) return value;
    }
    fail(ReginfoErrc::BadValue, std::string("unknown ") + name + " \"" + std::string(text) + "\"",
         node);
}

// Trimmed text content of an element.
std::string textOf(const pugi::xml_node& node) {
    std::string_view text = node.child_value();
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    size_t last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

ReginfoContact parseContact(const pugi::xml_node& node) {
    requireFewAttributes(node);
    ReginfoContact contact;
    contact.id = requiredAttribute(node, "id");
    contact.state =
        enumAttribute(node, "state", std::array{ContactState::Active, ContactState::Terminated});
    contact.event = enumAttribute(
        node, "event",
        std::array{ContactEvent::Registered, ContactEvent::Created, ContactEvent::Refreshed,
                   ContactEvent::Shortened, ContactEvent::Expired, ContactEvent::Deactivated,
                   ContactEvent::Probation, ContactEvent::Unregistered, ContactEvent::Rejected});
    contact.expires = numberAttribute(node, "expires");
    contact.retryAfter = numberAttribute(node, "retry-after");
    contact.durationRegistered = numberAttribute(node, "duration-registered");
    contact.cseq = numberAttribute(node, "cseq");
    if (auto q = node.attribute("q")) {
        if (!parseQValue(q.value())) fail(ReginfoErrc::BadValue, "bad q", node);
        contact.q = q.value();
    }
    if (auto callId = node.attribute("callid")) contact.callId = callId.value();
    auto uri = firstChild(node, "uri");
    if (!uri) fail(ReginfoErrc::MissingElement, "contact has no uri", node);
    contact.uri = textOf(uri);
    if (contact.uri.empty()) fail(ReginfoErrc::BadValue, "contact uri is empty", uri);
    if (auto name = firstChild(node, "display-name")) contact.displayName = textOf(name);
    forEachChild(node, "unknown-param", [&](const pugi::xml_node& parameter) {
        contact.unknownParams.emplace_back(std::string(requiredAttribute(parameter, "name")),
                                           textOf(parameter));
    });
    return contact;
}

ReginfoRegistration parseRegistration(const pugi::xml_node& node) {
    requireFewAttributes(node);
    ReginfoRegistration registration;
    registration.aor = requiredAttribute(node, "aor");
    registration.id = requiredAttribute(node, "id");
    registration.state =
        enumAttribute(node, "state",
                      std::array{RegistrationState::Init, RegistrationState::Active,
                                 RegistrationState::Terminated});
    forEachChild(node, "contact", [&](const pugi::xml_node& contact) {
        registration.contacts.push_back(parseContact(contact));
    });
    return registration;
}

// A host as compared: lower case, an IPv6 reference in its one canonical text form (RFC
// 5952), so that "[2001:DB8:0:0::2]" and "[2001:db8::2]" are the same host.
std::string canonicalHost(std::string_view host) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        std::string inner(host.substr(1, host.size() - 2));
        in6_addr address;
        char text[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET6, inner.c_str(), &address) == 1 &&
            inet_ntop(AF_INET6, &address, text, sizeof text))
            return "[" + std::string(text) + "]";
    }
    return toLower(host);
}

// The parts of a SIP URI that identify a binding: scheme, user, host, port.
struct UriKey {
    std::string scheme, user, host, port;
    bool operator==(const UriKey&) const = default;
};

UriKey uriKey(std::string_view uri) {
    if (!uri.empty() && uri.front() == '<') uri.remove_prefix(1);
    if (!uri.empty() && uri.back() == '>') uri.remove_suffix(1);
    UriKey key;
    size_t colon = uri.find(':');
    key.scheme = toLower(uri.substr(0, colon == std::string_view::npos ? 0 : colon));
    std::string_view rest = colon == std::string_view::npos ? uri : uri.substr(colon + 1);
    rest = rest.substr(0, rest.find_first_of(";?"));
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
        key.user = std::string(rest.substr(0, at));
        rest.remove_prefix(at + 1);
    }
    size_t portColon = rest.rfind(':');
    size_t bracket = rest.rfind(']');
    if (portColon != std::string_view::npos &&
        (bracket == std::string_view::npos || portColon > bracket)) {
        key.port = std::string(rest.substr(portColon + 1));
        rest = rest.substr(0, portColon);
    }
    key.host = canonicalHost(rest);
    if (key.port.empty()) key.port = key.scheme == "sips" ? "5061" : "5060";
    return key;
}

std::string_view withoutAngles(std::string_view text) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        text = text.substr(1, text.size() - 2);
    }
    if (text.size() >= 2 && text.front() == '<' && text.back() == '>') {
        text = text.substr(1, text.size() - 2);
    }
    return text;
}

}  // namespace

std::string_view toString(RegistrationState state) {
    switch (state) {
        case RegistrationState::Init:
            return "init";
        case RegistrationState::Active:
            return "active";
        case RegistrationState::Terminated:
            return "terminated";
    }
    return "unknown";
}

std::string_view toString(ContactState state) {
    return state == ContactState::Active ? "active" : "terminated";
}

std::string_view toString(ContactEvent event) {
    switch (event) {
        case ContactEvent::Registered:
            return "registered";
        case ContactEvent::Created:
            return "created";
        case ContactEvent::Refreshed:
            return "refreshed";
        case ContactEvent::Shortened:
            return "shortened";
        case ContactEvent::Expired:
            return "expired";
        case ContactEvent::Deactivated:
            return "deactivated";
        case ContactEvent::Probation:
            return "probation";
        case ContactEvent::Unregistered:
            return "unregistered";
        case ContactEvent::Rejected:
            return "rejected";
    }
    return "unknown";
}

std::optional<std::string_view> ReginfoContact::unknownParam(std::string_view name) const {
    for (const auto& [key, value] : unknownParams) {
        if (equalsIgnoreCase(key, name)) return std::string_view(value);
    }
    return std::nullopt;
}

Reginfo parseReginfo(std::string_view xml) {
    if (xml.size() > kMaxDocument) {
        throw ReginfoError(ReginfoErrc::TooLarge,
                           "reginfo larger than " + std::to_string(kMaxDocument >> 10) + " KiB",
                           kMaxDocument);
    }
    pugi::xml_document document;
    // Default options: no DOCTYPE processing, so no entity expansion beyond the five
    // predefined ones.
    auto result =
        document.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!result) {
        throw ReginfoError(
            ReginfoErrc::MalformedXml, result.description(),
            std::min(static_cast<size_t>(std::max<ptrdiff_t>(result.offset, 0)), xml.size()));
    }
    auto root = document.document_element();
    if (!root || localName(root) != "reginfo" || !inReginfoNamespace(root)) {
        throw ReginfoError(ReginfoErrc::NotReginfo,
                           "the root element is not reginfo in " + std::string(kNamespace),
                           offsetOf(root));
    }
    requireFewAttributes(root);
    Reginfo reginfo;
    auto version = numberAttribute(root, "version");
    if (!version) fail(ReginfoErrc::MissingAttribute, "reginfo has no version attribute", root);
    reginfo.version = *version;
    std::string_view state = requiredAttribute(root, "state");
    if (state != "full" && state != "partial") {
        fail(ReginfoErrc::BadValue, "state must be full or partial", root);
    }
    reginfo.full = state == "full";
    forEachChild(root, "registration", [&](const pugi::xml_node& registration) {
        reginfo.registrations.push_back(parseRegistration(registration));
    });
    return reginfo;
}

std::string canonicalUri(std::string_view uri) {
    UriKey key = uriKey(uri);
    if (key.scheme == "sip" || key.scheme == "sips")
        return key.scheme + ":" + key.user + (key.user.empty() ? "" : "@") + key.host + ":" +
               key.port;
    // tel (RFC 3966 compares numbers without visual separators) and others: the scheme in
    // lower case, the rest up to its parameters.
    if (!uri.empty() && uri.front() == '<') uri.remove_prefix(1);
    std::string_view rest = uri.substr(std::min(uri.size(), key.scheme.size() + 1));
    rest = rest.substr(0, rest.find_first_of(";?>"));
    std::string out = key.scheme + ":";
    for (char c : rest)
        if (key.scheme != "tel" || (c != '-' && c != '.' && c != '(' && c != ')')) out += c;
    return out;
}

bool isOurContact(const ReginfoContact& contact, const OurContact& ours) {
    if (ours.instanceId) {
        auto instance = contact.unknownParam("+sip.instance");
        if (!instance) return false;
        if (withoutAngles(*instance) != withoutAngles(*ours.instanceId)) return false;
        if (!ours.regId) return true;
        auto regId = contact.unknownParam("reg-id");
        return regId && parseDecimal(*regId, UINT32_MAX) == ours.regId;
    }
    return uriKey(contact.uri) == uriKey(ours.uri);
}

const ReginfoContact* findOurContact(const Reginfo& reginfo, const OurContact& ours,
                                     std::string_view aor) {
    for (const auto& registration : reginfo.registrations) {
        if (!aor.empty() && uriKey(registration.aor) != uriKey(aor)) continue;
        for (const auto& contact : registration.contacts) {
            if (isOurContact(contact, ours)) return &contact;
        }
    }
    return nullptr;
}

ContactAction actionFor(const ReginfoContact& contact) {
    switch (contact.event) {
        case ContactEvent::Registered:
        case ContactEvent::Created:
        case ContactEvent::Refreshed:
            return ContactAction::None;
        case ContactEvent::Shortened:
            return ContactAction::Reauthenticate;
        case ContactEvent::Deactivated:
        case ContactEvent::Expired:
        case ContactEvent::Probation:
            return ContactAction::RegisterAgain;
        case ContactEvent::Rejected:
        case ContactEvent::Unregistered:
            return ContactAction::Stop;
    }
    return ContactAction::None;
}

}  // namespace imsaka::sip
