#include "sip_message.h"

#include <osipparser2/osip_parser.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <utility>

namespace imsaka::scscfsim {
namespace {

std::string take(char* text) {
    std::string out = text ? text : "";
    osip_free(text);
    return out;
}

template <typename T, typename ToString>
std::string toText(T* value, ToString toString) {
    char* text = nullptr;
    if (!value || toString(value, &text) != 0) return {};
    return take(text);
}

[[noreturn]] void bad(const std::string& what) {
    throw SimError(SimErrc::BadMessage, what);
}

bool sameName(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string trim(std::string_view text) {
    auto begin = text.find_first_not_of(" \t");
    if (begin == std::string_view::npos) return {};
    auto end = text.find_last_not_of(" \t");
    return std::string(text.substr(begin, end - begin + 1));
}

uint16_t portOf(const char* text, const std::string& where) {
    if (!text || !*text) return 5060;
    char* end = nullptr;
    unsigned long value = std::strtoul(text, &end, 10);
    if (*end != '\0' || value == 0 || value > 65535) bad("bad port in " + where + ": " + text);
    return static_cast<uint16_t>(value);
}

std::optional<std::string> genericParam(osip_list_t* params, const char* name) {
    osip_generic_param_t* param = nullptr;
    if (osip_generic_param_get_byname(params, const_cast<char*>(name), &param) != 0 || !param)
        return std::nullopt;
    return std::string(param->gvalue ? param->gvalue : "");
}

}  // namespace

SipMessage SipMessage::parse(std::string_view text) {
    static std::once_flag initialised;
    std::call_once(initialised, [] { parser_init(); });
    osip_message_t* message = nullptr;
    if (osip_message_init(&message) != 0) bad("libosip2 cannot allocate a message");
    SipMessage parsed(message, std::string(text));
    if (osip_message_parse(message, parsed.text_.data(), parsed.text_.size()) != 0)
        bad("libosip2 cannot parse the message");
    if (!MSG_IS_REQUEST(message) && !MSG_IS_RESPONSE(message)) bad("neither request nor response");
    if (osip_list_size(&message->vias) == 0) bad("no Via");
    if (!message->from || !message->to || !message->call_id || !message->cseq ||
        !message->cseq->number || !message->cseq->method)
        bad("From, To, Call-ID or CSeq missing");
    if (MSG_IS_REQUEST(message) && (!message->sip_method || !message->req_uri))
        bad("request without method or Request-URI");
    parsed.cseqNumber();  // checks its syntax now
    return parsed;
}

SipMessage::SipMessage(osip_message* message, std::string text)
    : message_(message), text_(std::move(text)) {}

SipMessage::SipMessage(SipMessage&& other) noexcept
    : message_(std::exchange(other.message_, nullptr)), text_(std::move(other.text_)) {}

SipMessage& SipMessage::operator=(SipMessage&& other) noexcept {
    std::swap(message_, other.message_);
    std::swap(text_, other.text_);
    return *this;
}

SipMessage::~SipMessage() {
    if (message_) osip_message_free(message_);
}

bool SipMessage::isRequest() const {
    return MSG_IS_REQUEST(message_);
}

std::string SipMessage::method() const {
    return isRequest() ? message_->sip_method : message_->cseq->method;
}

std::string SipMessage::requestUri() const {
    return isRequest() ? toText(message_->req_uri, osip_uri_to_str) : std::string();
}

int SipMessage::status() const {
    return isRequest() ? 0 : message_->status_code;
}

std::vector<std::string> SipMessage::vias() const {
    std::vector<std::string> out;
    for (int i = 0; i < osip_list_size(&message_->vias); ++i) {
        auto* via = static_cast<osip_via_t*>(osip_list_get(&message_->vias, i));
        out.push_back(toText(via, osip_via_to_str));
    }
    return out;
}

std::string SipMessage::topViaBranch() const {
    auto* via = static_cast<osip_via_t*>(osip_list_get(&message_->vias, 0));
    return genericParam(&via->via_params, "branch").value_or("");
}

Endpoint SipMessage::responseTarget() const {
    auto* via = static_cast<osip_via_t*>(osip_list_get(&message_->vias, 0));
    if (!via->host) bad("top Via without host");
    Endpoint target{via->host, portOf(via->port, "Via")};
    if (auto received = genericParam(&via->via_params, "received"); received && !received->empty())
        target.host = *received;
    if (auto rport = genericParam(&via->via_params, "rport"); rport && !rport->empty())
        target.port = portOf(rport->c_str(), "rport");
    if (target.host.size() > 2 && target.host.front() == '[')
        target.host = target.host.substr(1, target.host.size() - 2);
    return target;
}

std::string SipMessage::from() const {
    return toText(message_->from, osip_from_to_str);
}

std::string SipMessage::to() const {
    return toText(message_->to, osip_to_to_str);
}

std::string SipMessage::fromUri() const {
    return toText(message_->from->url, osip_uri_to_str);
}

std::string SipMessage::toUri() const {
    return toText(message_->to->url, osip_uri_to_str);
}

std::optional<std::string> SipMessage::fromTag() const {
    return genericParam(&message_->from->gen_params, "tag");
}

std::optional<std::string> SipMessage::toTag() const {
    return genericParam(&message_->to->gen_params, "tag");
}

std::string SipMessage::callId() const {
    return toText(message_->call_id, osip_call_id_to_str);
}

uint32_t SipMessage::cseqNumber() const {
    const char* text = message_->cseq->number;
    char* end = nullptr;
    unsigned long value = std::strtoul(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value > 0xffffffffUL)
        bad(std::string("bad CSeq number: ") + text);
    return static_cast<uint32_t>(value);
}

std::string SipMessage::cseq() const {
    return std::string(message_->cseq->number) + " " + message_->cseq->method;
}

std::vector<ContactValue> SipMessage::contacts() const {
    std::vector<ContactValue> out;
    for (int i = 0; i < osip_list_size(&message_->contacts); ++i) {
        auto* contact = static_cast<osip_contact_t*>(osip_list_get(&message_->contacts, i));
        ContactValue value;
        value.text = toText(contact, osip_contact_to_str);
        if (!contact->url) {
            value.wildcard = contact->displayname && std::string_view(contact->displayname) == "*";
            if (!value.wildcard) bad("Contact without URI: " + value.text);
        } else {
            value.uri = toText(contact->url, osip_uri_to_str);
        }
        if (auto expires = genericParam(&contact->gen_params, "expires")) {
            char* end = nullptr;
            unsigned long seconds = std::strtoul(expires->c_str(), &end, 10);
            if (expires->empty() || *end != '\0' || seconds > 0xffffffffUL)
                bad("bad Contact expires: " + *expires);
            value.expires = static_cast<uint32_t>(seconds);
        }
        value.instance = genericParam(&contact->gen_params, "+sip.instance");
        value.regId = genericParam(&contact->gen_params, "reg-id");
        out.push_back(std::move(value));
    }
    return out;
}

std::vector<std::string> SipMessage::headerValues(std::string_view name) const {
    std::vector<std::string> out;
    for (int i = 0; i < osip_list_size(&message_->headers); ++i) {
        auto* header = static_cast<osip_header_t*>(osip_list_get(&message_->headers, i));
        if (header->hname && sameName(header->hname, name) && header->hvalue)
            out.push_back(trim(header->hvalue));
    }
    return out;
}

std::optional<std::string> SipMessage::headerValue(std::string_view name) const {
    auto values = headerValues(name);
    if (values.empty()) return std::nullopt;
    return values.front();
}

std::optional<std::string> SipMessage::rawHeader(std::string_view name) const {
    auto values = rawHeaders(name);
    if (values.empty()) return std::nullopt;
    return values.front();
}

std::vector<std::string> SipMessage::rawHeaders(std::string_view name) const {
    // The header section ends at the first empty line; a line starting with white space
    // continues the one before (RFC 3261 7.3.1).
    std::string_view rest = text_;
    std::vector<std::string> found;
    bool continuing = false;
    rest.remove_prefix(std::min(rest.size(), rest.find('\n') + 1));  // the start line
    while (!rest.empty()) {
        auto end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') {
            if (continuing) found.back() += " " + trim(line);
            continue;
        }
        auto colon = line.find(':');
        continuing = colon != std::string_view::npos && sameName(trim(line.substr(0, colon)), name);
        if (continuing) found.push_back(trim(line.substr(colon + 1)));
    }
    return found;
}

std::string SipMessage::body() const {
    osip_body_t* body = nullptr;
    if (osip_message_get_body(message_, 0, &body) != 0 || !body || !body->body) return {};
    return std::string(body->body, body->length);
}

Endpoint uriEndpoint(std::string_view text) {
    osip_uri_t* uri = nullptr;
    if (osip_uri_init(&uri) != 0) bad("libosip2 cannot allocate a URI");
    std::string copy(text);
    int parsed = osip_uri_parse(uri, copy.c_str());
    Endpoint endpoint;
    if (parsed == 0 && uri->host) {
        endpoint.host = uri->host;
        try {
            endpoint.port = portOf(uri->port, "URI");
        } catch (...) {
            osip_uri_free(uri);
            throw;
        }
    }
    osip_uri_free(uri);
    if (endpoint.host.empty()) bad("not a SIP URI with a host: " + copy);
    if (endpoint.host.size() > 2 && endpoint.host.front() == '[')
        endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
    return endpoint;
}

std::string addrSpec(std::string_view nameAddr) {
    auto open = nameAddr.find('<');
    auto close = nameAddr.find('>', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos)
        return trim(nameAddr.substr(0, nameAddr.find(';')));
    return std::string(nameAddr.substr(open + 1, close - open - 1));
}

}  // namespace imsaka::scscfsim
