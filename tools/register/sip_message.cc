#include "sip_message.h"

#include <openssl/rand.h>
#include <osipparser2/osip_parser.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstdarg>
#include <memory>

#include "imsaka/common/bytes.h"

namespace imsaka::reg {
namespace {

// libosip2 needs its tables built once, and prints parse errors to standard output unless
// given a trace function: our standard output is the event stream.
void initialiseOsip() {
    static const bool done = [] {
        parser_init();
        osip_trace_initialize_func(
            TRACE_LEVEL0, [](const char*, int, osip_trace_level_t, const char*, va_list) {});
        return true;
    }();
    (void)done;
}

struct MessageDeleter {
    void operator()(osip_message_t* message) const { osip_message_free(message); }
};
using OsipMessage = std::unique_ptr<osip_message_t, MessageDeleter>;
struct ContactDeleter {
    void operator()(osip_contact_t* contact) const { osip_contact_free(contact); }
};
struct UriDeleter {
    void operator()(osip_uri_t* uri) const { osip_uri_free(uri); }
};

OsipMessage parseWithOsip(std::string_view text) {
    initialiseOsip();
    if (text.size() > kMaxMessageSize)
        throw SipMessageError(SipErrorCode::TooLarge,
                              "message of " + std::to_string(text.size()) + " bytes is too large");
    osip_message_t* raw = nullptr;
    if (osip_message_init(&raw) != OSIP_SUCCESS) throw std::bad_alloc();
    OsipMessage message(raw);
    if (osip_message_parse(raw, text.data(), text.size()) != OSIP_SUCCESS)
        throw SipMessageError(SipErrorCode::Unparsable, "libosip2 cannot parse the message");
    return message;
}

// Takes a string libosip2 allocated.
std::string adopt(char* text) {
    std::string copy = text ? text : "";
    osip_free(text);
    return copy;
}

template <typename Element>
void appendValue(Headers& headers, const char* name, const Element* element,
                 int (*toString)(const Element*, char**)) {
    char* text = nullptr;
    if (element == nullptr) return;
    if (toString(element, &text) != OSIP_SUCCESS)
        throw SipMessageError(SipErrorCode::Unparsable,
                              std::string("unusable ") + name + " header");
    headers.emplace_back(name, adopt(text));
}

template <typename Element>
void appendList(Headers& headers, const char* name, const osip_list_t& list,
                int (*toString)(const Element*, char**)) {
    for (int position = 0; position < osip_list_size(&list); ++position)
        appendValue(headers, name, static_cast<const Element*>(osip_list_get(&list, position)),
                    toString);
}

// The headers libosip2 knows are kept in a list per name, the others in one list in order.
Headers headersOf(const osip_message_t& message) {
    Headers headers;
    appendList(headers, "Via", message.vias, osip_via_to_str);
    appendList<osip_from_t>(headers, "Record-Route", message.record_routes, osip_from_to_str);
    appendList<osip_from_t>(headers, "Route", message.routes, osip_from_to_str);
    appendValue(headers, "From", message.from, osip_from_to_str);
    appendValue<osip_from_t>(headers, "To", message.to, osip_from_to_str);
    appendValue(headers, "Call-ID", message.call_id, osip_call_id_to_str);
    appendValue(headers, "CSeq", message.cseq, osip_cseq_to_str);
    appendList(headers, "Contact", message.contacts, osip_contact_to_str);
    appendList(headers, "Authorization", message.authorizations, osip_authorization_to_str);
    appendList(headers, "WWW-Authenticate", message.www_authenticates,
               osip_www_authenticate_to_str);
    appendList(headers, "Proxy-Authenticate", message.proxy_authenticates,
               osip_www_authenticate_to_str);
    appendList(headers, "Proxy-Authorization", message.proxy_authorizations,
               osip_authorization_to_str);
    appendList(headers, "Authentication-Info", message.authentication_infos,
               osip_authentication_info_to_str);
    appendList(headers, "Proxy-Authentication-Info", message.proxy_authentication_infos,
               osip_authentication_info_to_str);
    appendList(headers, "Accept", message.accepts, osip_accept_to_str);
    appendList(headers, "Accept-Encoding", message.accept_encodings, osip_accept_encoding_to_str);
    appendList(headers, "Accept-Language", message.accept_languages, osip_accept_encoding_to_str);
    appendList(headers, "Alert-Info", message.alert_infos, osip_call_info_to_str);
    appendList(headers, "Allow", message.allows, osip_content_length_to_str);
    appendList(headers, "Call-Info", message.call_infos, osip_call_info_to_str);
    appendList(headers, "Content-Encoding", message.content_encodings, osip_content_length_to_str);
    appendList(headers, "Error-Info", message.error_infos, osip_call_info_to_str);
    appendValue(headers, "Mime-Version", message.mime_version, osip_content_length_to_str);
    appendValue(headers, "Content-Type", message.content_type, osip_content_type_to_str);
    for (int position = 0; position < osip_list_size(&message.headers); ++position) {
        auto* header = static_cast<const osip_header_t*>(osip_list_get(&message.headers, position));
        headers.emplace_back(header->hname ? header->hname : "",
                             header->hvalue ? header->hvalue : "");
    }
    appendValue(headers, "Content-Length", message.content_length, osip_content_length_to_str);
    return headers;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

size_t parseLength(std::string_view value, size_t position) {
    size_t length = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (value.empty() || error != std::errc() || end != value.data() + value.size() ||
        length > kMaxMessageSize)
        throw SipMessageError(SipErrorCode::BadHeaderValue,
                              "unusable Content-Length " + std::string(value), position);
    return length;
}

size_t contentLength(const osip_message_t& message) {
    if (message.content_length == nullptr || message.content_length->value == nullptr) return 0;
    return parseLength(message.content_length->value, 0);
}

// Framing needs only where a message ends (RFC 3261 18.3): the head's Content-Length (or its
// compact form "l"), mandatory on a stream. libosip2 parses the message once it is whole.
size_t streamContentLength(std::string_view head) {
    size_t lineStart = head.find("\r\n") + 2;
    while (lineStart < head.size()) {
        size_t lineEnd = head.find("\r\n", lineStart);
        std::string_view line = head.substr(lineStart, lineEnd - lineStart);
        size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string_view name = line.substr(0, colon);
            while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
                name.remove_suffix(1);
            if (equalsIgnoringCase(name, "Content-Length") || equalsIgnoringCase(name, "l")) {
                std::string_view value = line.substr(colon + 1);
                size_t first = value.find_first_not_of(" \t");
                size_t last = value.find_last_not_of(" \t");
                value = first == std::string_view::npos ? std::string_view()
                                                        : value.substr(first, last - first + 1);
                return parseLength(value, lineStart + colon + 1);
            }
        }
        lineStart = lineEnd + 2;
    }
    throw SipMessageError(SipErrorCode::MissingHeader, "no Content-Length on a stream",
                          head.size());
}

// The same binding: user, host and port (RFC 3261 10.2.4 compares URIs; the parameters the
// registrar may add do not make another binding).
bool sameBinding(const osip_uri_t& a, const osip_uri_t& b) {
    auto text = [](const char* value) { return std::string_view(value ? value : ""); };
    return text(a.username) == text(b.username) && equalsIgnoringCase(text(a.host), text(b.host)) &&
           text(a.port) == text(b.port);
}

bool hasLineBreak(std::string_view text) {
    return text.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

std::optional<uint32_t> parseSeconds(std::string_view value) {
    uint32_t seconds = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (value.empty() || error != std::errc() || end != value.data() + value.size())
        return std::nullopt;
    return seconds;
}

std::string findHeader(const Headers& headers, std::string_view name) {
    for (const auto& [headerName, value] : headers)
        if (equalsIgnoringCase(headerName, name)) return value;
    return "";
}

Message parseMessage(std::string_view text) {
    OsipMessage parsed = parseWithOsip(text);
    const osip_message_t& osip = *parsed;
    auto* via = static_cast<osip_via_t*>(osip_list_get(&osip.vias, 0));
    const char* missing = via == nullptr                 ? "Via"
                          : osip.from == nullptr         ? "From"
                          : osip.to == nullptr           ? "To"
                          : osip.call_id == nullptr      ? "Call-ID"
                          : osip.cseq == nullptr         ? "CSeq"
                          : osip.cseq->method == nullptr ? "CSeq"
                                                         : nullptr;
    if (missing) throw SipMessageError(SipErrorCode::MissingHeader, std::string("no ") + missing);

    Message message;
    message.isRequest = MSG_IS_REQUEST(&osip);
    if (!message.isRequest) {
        if (osip.status_code < 100 || osip.status_code > 699)
            throw SipMessageError(SipErrorCode::Unparsable, "status code out of range");
        message.status = static_cast<uint16_t>(osip.status_code);
    }
    message.method = message.isRequest ? osip.sip_method : osip.cseq->method;
    if (message.isRequest) {
        char* uri = nullptr;
        if (osip.req_uri == nullptr || osip_uri_to_str(osip.req_uri, &uri) != OSIP_SUCCESS)
            throw SipMessageError(SipErrorCode::Unparsable, "unusable Request-URI");
        message.uri = adopt(uri);
    }
    char* callId = nullptr;
    osip_call_id_to_str(osip.call_id, &callId);
    message.callId = adopt(callId);
    message.cseq =
        std::string(osip.cseq->number ? osip.cseq->number : "") + " " + osip.cseq->method;
    osip_generic_param_t* branch = nullptr;
    char branchName[] = "branch";
    if (osip_via_param_get_byname(via, branchName, &branch) == OSIP_SUCCESS && branch->gvalue)
        message.branch = branch->gvalue;
    message.headers = headersOf(osip);

    // libosip2 takes a body only with a Content-Type; a datagram must hold all of it.
    size_t bodyStart = text.find("\r\n\r\n");
    size_t declared = contentLength(osip);
    size_t present = bodyStart == std::string_view::npos ? 0 : text.size() - bodyStart - 4;
    if (present < declared)
        throw SipMessageError(
            SipErrorCode::Truncated,
            "body has " + std::to_string(present) + " of " + std::to_string(declared) + " bytes",
            text.size());
    auto* body = static_cast<const osip_body_t*>(osip_list_get(&osip.bodies, 0));
    if (body && body->body) message.body.assign(body->body, body->length);
    return message;
}

std::optional<uint32_t> grantedExpires(const Message& response, std::string_view contactUri) {
    initialiseOsip();
    osip_uri_t* ours = nullptr;
    if (osip_uri_init(&ours) != OSIP_SUCCESS) throw std::bad_alloc();
    std::unique_ptr<osip_uri_t, UriDeleter> oursOwned(ours);
    if (osip_uri_parse(ours, std::string(contactUri).c_str()) == OSIP_SUCCESS) {
        for (const auto& [name, value] : response.headers) {
            if (!equalsIgnoringCase(name, "Contact")) continue;
            osip_contact_t* contact = nullptr;
            if (osip_contact_init(&contact) != OSIP_SUCCESS) throw std::bad_alloc();
            std::unique_ptr<osip_contact_t, ContactDeleter> contactOwned(contact);
            if (osip_contact_parse(contact, value.c_str()) != OSIP_SUCCESS || !contact->url ||
                !sameBinding(*contact->url, *ours))
                continue;
            osip_generic_param_t* expires = nullptr;
            char expiresName[] = "expires";
            if (osip_contact_param_get_byname(contact, expiresName, &expires) == OSIP_SUCCESS &&
                expires->gvalue)
                return parseSeconds(expires->gvalue);
        }
    }
    return parseSeconds(response.header("Expires"));
}

std::string subscriptionIdentity(const std::string& registered,
                                 const std::vector<std::string>& barred,
                                 const std::vector<std::string>& associated) {
    bool isBarred = std::find(barred.begin(), barred.end(), registered) != barred.end();
    return isBarred && !associated.empty() ? associated.front() : registered;
}

std::string newBranch() {
    uint8_t random[12];
    if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("no random bytes");
    return "z9hG4bK" + toHex(random);
}

std::string buildRequest(std::string_view method, std::string_view uri, const Headers& headers,
                         std::string_view branch, std::string_view body) {
    if (hasLineBreak(method) || hasLineBreak(uri) || hasLineBreak(branch))
        throw SipMessageError(SipErrorCode::BadHeaderValue, "line break in the request line");
    std::string text = std::string(method) + " " + std::string(uri) + " SIP/2.0\r\n";
    bool branchAdded = false;
    for (const auto& [name, value] : headers) {
        if (hasLineBreak(name) || hasLineBreak(value))
            throw SipMessageError(SipErrorCode::BadHeaderValue, "line break in header " + name);
        text += name + ": " + value;
        if (!branchAdded && strcasecmp(name.c_str(), "Via") == 0) {
            text += ";branch=" + std::string(branch);
            branchAdded = true;
        }
        text += "\r\n";
    }
    if (!branchAdded) throw SipMessageError(SipErrorCode::MissingHeader, "no Via to send");
    text += "Max-Forwards: 70\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    text += body;
    return text;
}

std::string buildResponse(std::string_view requestText, uint16_t status, std::string_view reason) {
    OsipMessage request = parseWithOsip(requestText);
    if (!MSG_IS_REQUEST(request.get()) || request->cseq == nullptr || request->to == nullptr ||
        request->from == nullptr || request->call_id == nullptr ||
        osip_list_size(&request->vias) == 0)
        throw SipMessageError(SipErrorCode::MissingHeader, "not a request that can be answered");

    osip_message_t* raw = nullptr;
    if (osip_message_init(&raw) != OSIP_SUCCESS) throw std::bad_alloc();
    OsipMessage response(raw);
    osip_message_set_version(raw, osip_strdup("SIP/2.0"));
    osip_message_set_status_code(raw, status);
    osip_message_set_reason_phrase(raw, osip_strdup(std::string(reason).c_str()));
    // Copies of the request's headers, as RFC 3261 8.2.6.2 asks.
    for (int position = 0; position < osip_list_size(&request->vias); ++position) {
        osip_via_t* via = nullptr;
        if (osip_via_clone(static_cast<osip_via_t*>(osip_list_get(&request->vias, position)),
                           &via) != OSIP_SUCCESS)
            throw SipMessageError(SipErrorCode::Unparsable, "cannot copy a Via");
        osip_list_add(&raw->vias, via, -1);
    }
    bool copied = osip_from_clone(request->from, &raw->from) == OSIP_SUCCESS &&
                  osip_to_clone(request->to, &raw->to) == OSIP_SUCCESS &&
                  osip_call_id_clone(request->call_id, &raw->call_id) == OSIP_SUCCESS &&
                  osip_cseq_clone(request->cseq, &raw->cseq) == OSIP_SUCCESS;
    if (!copied) throw SipMessageError(SipErrorCode::Unparsable, "cannot copy the request headers");
    osip_generic_param_t* tag = nullptr;
    char tagName[] = "tag";
    if (osip_generic_param_get_byname(&raw->to->gen_params, tagName, &tag) != OSIP_SUCCESS)
        osip_to_set_tag(raw->to, osip_strdup(newBranch().substr(7).c_str()));
    osip_message_set_content_length(raw, "0");

    char* text = nullptr;
    size_t length = 0;
    if (osip_message_to_str(raw, &text, &length) != OSIP_SUCCESS)
        throw SipMessageError(SipErrorCode::Unparsable, "cannot write the response");
    return adopt(text);
}

std::optional<std::string> StreamFramer::next() {
    size_t start = buffer_.find_first_not_of("\r\n");
    if (start == std::string::npos) {
        buffer_.clear();
        return std::nullopt;
    }
    buffer_.erase(0, start);
    size_t headEnd = buffer_.find("\r\n\r\n");
    if (headEnd == std::string::npos) {
        if (buffer_.size() > kMaxMessageSize)
            throw SipMessageError(SipErrorCode::TooLarge, "no end of headers in 64 KiB",
                                  buffer_.size());
        return std::nullopt;
    }
    headEnd += 4;
    size_t total = headEnd + streamContentLength(std::string_view(buffer_).substr(0, headEnd));
    if (buffer_.size() < total) return std::nullopt;
    std::string message = buffer_.substr(0, total);
    buffer_.erase(0, total);
    return message;
}

}  // namespace imsaka::reg
