#include "sip_text.h"

#include <algorithm>
#include <cctype>

namespace imsaka::conformance {
namespace {

[[noreturn]] void bad(const std::string& what) {
    throw SipSyntaxError(what);
}

char lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool isSpace(char c) {
    return c == ' ' || c == '\t';
}

// RFC 3261 7.3.3 and the event framework's compact forms.
constexpr std::pair<std::string_view, std::string_view> kCompactForms[] = {
    {"i", "Call-ID"},
    {"m", "Contact"},
    {"e", "Content-Encoding"},
    {"l", "Content-Length"},
    {"c", "Content-Type"},
    {"f", "From"},
    {"s", "Subject"},
    {"k", "Supported"},
    {"t", "To"},
    {"v", "Via"},
    {"o", "Event"},
    {"u", "Allow-Events"},
    {"r", "Refer-To"},
    {"x", "Session-Expires"},
    {"a", "Accept-Contact"},
    {"j", "Reject-Contact"},
    {"d", "Request-Disposition"},
    {"b", "Referred-By"}};

// The header block of a message and the offset of its body (npos when the block has not
// ended yet).
std::pair<std::string_view, size_t> headerBlock(std::string_view text) {
    size_t end = text.find("\r\n\r\n");
    size_t separator = 4;
    size_t bare = text.find("\n\n");
    if (bare != std::string_view::npos && (end == std::string_view::npos || bare < end)) {
        end = bare;
        separator = 2;
    }
    if (end == std::string_view::npos) return {text, std::string_view::npos};
    return {text.substr(0, end), end + separator};
}

std::vector<std::string> logicalLines(std::string_view block) {
    std::vector<std::string> lines;
    while (!block.empty()) {
        size_t end = block.find('\n');
        std::string_view line = block.substr(0, end);
        block.remove_prefix(end == std::string_view::npos ? block.size() : end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty() && isSpace(line.front())) {
            // RFC 3261 7.3.1: a line starting with white space continues the one before.
            if (lines.size() < 2) bad("a continuation line where no header began");
            lines.back() += " " + trimmed(line);
            continue;
        }
        lines.emplace_back(line);
    }
    return lines;
}

std::vector<HeaderLine> headerLines(const std::vector<std::string>& lines) {
    std::vector<HeaderLine> headers;
    for (size_t i = 1; i < lines.size(); ++i) {
        size_t colon = lines[i].find(':');
        if (colon == std::string::npos || colon == 0) bad("a header line without a name");
        std::string name = trimmed(std::string_view(lines[i]).substr(0, colon));
        if (name.empty() || name.find_first_of(" \t") != std::string::npos)
            bad("a bad header name: " + lines[i]);
        headers.push_back({name, trimmed(std::string_view(lines[i]).substr(colon + 1))});
    }
    return headers;
}

std::optional<size_t> contentLength(const std::vector<HeaderLine>& headers) {
    std::optional<size_t> length;
    for (const auto& header : headers) {
        if (!sameToken(fullHeaderName(header.name), "Content-Length")) continue;
        auto value = parseUnsigned(header.value);
        if (!value) bad("Content-Length is not a number: " + header.value);
        if (length && *length != *value) bad("two different Content-Length values");
        length = *value;
    }
    return length;
}

// Splits at a separator outside quotes.
std::vector<std::string> splitOutsideQuotes(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::string current;
    bool quoted = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '"' && (i == 0 || text[i - 1] != '\\')) quoted = !quoted;
        if (c == separator && !quoted) {
            parts.push_back(trimmed(current));
            current.clear();
            continue;
        }
        current += c;
    }
    if (quoted) bad("an unterminated quoted string");
    parts.push_back(trimmed(current));
    return parts;
}

Parameter parameter(std::string_view text) {
    Parameter result;
    size_t equals = text.find('=');
    result.name = trimmed(text.substr(0, equals));
    if (result.name.empty() || result.name.find_first_of(" \t\"") != std::string::npos)
        bad("a bad parameter name in: " + std::string(text));
    if (equals == std::string_view::npos) return result;
    std::string value = trimmed(text.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        result.quoted = true;
        value = value.substr(1, value.size() - 2);
    } else if (value.find('"') != std::string::npos) {
        bad("a stray quote in parameter " + result.name);
    }
    result.value = value;
    return result;
}

// host[:port], IPv6 in brackets.
void hostPort(std::string_view text, std::string& host, std::optional<uint16_t>& port) {
    if (text.empty()) bad("an empty host");
    std::string_view rest;
    bool portGiven = false;
    if (text.front() == '[') {
        size_t close = text.find(']');
        if (close == std::string_view::npos) bad("an IPv6 reference without ]");
        host = std::string(text.substr(1, close - 1));
        rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') bad("text after an IPv6 reference");
            rest.remove_prefix(1);
            portGiven = true;
        }
    } else {
        size_t colon = text.find(':');
        host = std::string(text.substr(0, colon));
        if (colon != std::string_view::npos) {
            rest = text.substr(colon + 1);
            portGiven = true;
        }
    }
    if (host.empty() || host.find_first_of(" \t;,") != std::string::npos)
        bad("a bad host: " + std::string(text));
    if (portGiven) {
        auto value = parseUnsigned(rest);
        if (!value || *value == 0 || *value > 65535) bad("a bad port: " + std::string(text));
        port = static_cast<uint16_t>(*value);
    }
}

}  // namespace

std::string_view fullHeaderName(std::string_view name) {
    for (auto [compact, full] : kCompactForms)
        if (sameToken(name, compact)) return full;
    return name;
}

bool sameToken(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

std::string trimmed(std::string_view text) {
    size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) return {};
    size_t end = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(begin, end - begin + 1));
}

std::optional<uint32_t> parseUnsigned(std::string_view text) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value > 0xffffffffULL) return std::nullopt;
    return static_cast<uint32_t>(value);
}

std::vector<std::string> splitList(std::string_view value) {
    std::vector<std::string> parts;
    std::string current;
    bool quoted = false;
    int angle = 0;
    for (size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (c == '"' && (i == 0 || value[i - 1] != '\\')) quoted = !quoted;
        if (!quoted && c == '<') ++angle;
        if (!quoted && c == '>' && angle > 0) --angle;
        if (c == ',' && !quoted && angle == 0) {
            parts.push_back(trimmed(current));
            current.clear();
            continue;
        }
        current += c;
    }
    if (quoted || angle != 0) bad("an unterminated quote or <> in: " + std::string(value));
    parts.push_back(trimmed(current));
    return parts;
}

SipMessage SipMessage::parse(std::string_view text) {
    auto [block, bodyAt] = headerBlock(text);
    if (bodyAt == std::string_view::npos) bad("the header block does not end");
    auto lines = logicalLines(block);
    if (lines.empty() || lines.front().empty()) bad("no start line");
    SipMessage message;
    message.text_ = std::string(text);
    const std::string& start = lines.front();
    if (start.rfind("SIP/", 0) == 0) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        size_t space = start.find(' ');
        message.version_ = start.substr(0, space);
        if (space == std::string::npos || start.size() < space + 4) bad("a short status line");
        auto code = parseUnsigned(std::string_view(start).substr(space + 1, 3));
        if (!code || *code < 100 || *code > 699) bad("a bad status code: " + start);
        message.status_ = static_cast<int>(*code);
        message.reason_ = trimmed(std::string_view(start).substr(space + 4));
    } else {
        // Request-Line = Method SP Request-URI SP SIP-Version, single spaces.
        size_t first = start.find(' ');
        size_t second = first == std::string::npos ? first : start.find(' ', first + 1);
        if (second == std::string::npos || start.find(' ', second + 1) != std::string::npos)
            bad("a request line that is not 'Method URI Version': " + start);
        message.method_ = start.substr(0, first);
        message.requestUri_ = start.substr(first + 1, second - first - 1);
        message.version_ = start.substr(second + 1);
    }
    if (message.version_ != "SIP/2.0") bad("not SIP/2.0: " + start);
    message.headers_ = headerLines(lines);
    std::string_view body = text.substr(bodyAt);
    auto length = contentLength(message.headers_);
    if (length) {
        if (body.size() < *length) bad("the body is shorter than Content-Length");
        body = body.substr(0, *length);
    }
    message.body_ = std::string(body);
    for (const char* required : {"Via", "From", "To", "Call-ID", "CSeq"})
        if (message.count(required) == 0) bad(std::string("no ") + required + " header");
    message.cseqNumber();  // checks its syntax
    return message;
}

std::vector<std::string> SipMessage::lines(std::string_view name) const {
    std::vector<std::string> found;
    std::string_view wanted = fullHeaderName(name);
    for (const auto& header : headers_)
        if (sameToken(fullHeaderName(header.name), wanted)) found.push_back(header.value);
    return found;
}

std::vector<std::string> SipMessage::values(std::string_view name) const {
    std::vector<std::string> found;
    for (const auto& line : lines(name))
        for (auto& value : splitList(line)) found.push_back(std::move(value));
    return found;
}

std::optional<std::string> SipMessage::first(std::string_view name) const {
    auto found = lines(name);
    if (found.empty()) return std::nullopt;
    return found.front();
}

std::string SipMessage::cseqMethod() const {
    std::string cseq = first("CSeq").value_or("");
    size_t space = cseq.find_first_of(" \t");
    return space == std::string::npos ? std::string() : trimmed(cseq.substr(space));
}

uint32_t SipMessage::cseqNumber() const {
    std::string cseq = first("CSeq").value_or("");
    auto number = parseUnsigned(cseq.substr(0, cseq.find_first_of(" \t")));
    if (!number || cseqMethod().empty()) bad("a bad CSeq: " + cseq);
    return *number;
}

std::optional<size_t> completeMessageLength(std::string_view stream) {
    auto [block, bodyAt] = headerBlock(stream);
    if (bodyAt == std::string_view::npos) return std::nullopt;
    auto length = contentLength(headerLines(logicalLines(block)));
    // RFC 3261 18.3: over a stream, Content-Length is required.
    if (!length) bad("a message on a stream without Content-Length");
    if (stream.size() < bodyAt + *length) return std::nullopt;
    return bodyAt + *length;
}

const Parameter* findParameter(const Parameters& parameters, std::string_view name) {
    for (const auto& parameter : parameters)
        if (sameToken(parameter.name, name)) return &parameter;
    return nullptr;
}

Parameters parseParameters(std::string_view text) {
    Parameters parameters;
    text = std::string_view(text).substr(std::min(text.size(), text.find_first_not_of(" \t")));
    if (text.empty()) return parameters;
    if (text.front() != ';') bad("parameters that do not start with ';': " + std::string(text));
    auto parts = splitOutsideQuotes(text.substr(1), ';');
    for (const auto& part : parts) parameters.push_back(parameter(part));
    return parameters;
}

SipUri parseUri(std::string_view text) {
    SipUri uri;
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) bad("a URI without a scheme: " + std::string(text));
    uri.scheme = std::string(text.substr(0, colon));
    std::string_view rest = text.substr(colon + 1);
    if (sameToken(uri.scheme, "tel")) {
        size_t semicolon = rest.find(';');
        uri.user = std::string(rest.substr(0, semicolon));
        if (semicolon != std::string_view::npos)
            uri.parameters = parseParameters(rest.substr(semicolon));
        return uri;
    }
    if (!sameToken(uri.scheme, "sip") && !sameToken(uri.scheme, "sips"))
        bad("not a SIP or tel URI: " + std::string(text));
    if (rest.find('?') != std::string_view::npos)
        bad("URI headers are not expected: " + std::string(text));
    size_t at = rest.rfind('@');
    if (at != std::string_view::npos) {
        uri.user = std::string(rest.substr(0, at));
        rest = rest.substr(at + 1);
    }
    size_t semicolon = rest.find(';');
    hostPort(rest.substr(0, semicolon), uri.host, uri.port);
    if (semicolon != std::string_view::npos)
        uri.parameters = parseParameters(rest.substr(semicolon));
    return uri;
}

NameAddr parseNameAddr(std::string_view text) {
    NameAddr result;
    std::string value = trimmed(text);
    size_t open = value.find('<');
    size_t afterUri = 0;
    if (open != std::string::npos) {
        size_t close = value.find('>', open);
        if (close == std::string::npos) bad("a name-addr without >: " + value);
        result.display = trimmed(std::string_view(value).substr(0, open));
        result.uri = value.substr(open + 1, close - open - 1);
        result.angleBrackets = true;
        afterUri = close + 1;
    } else {
        // addr-spec: its parameters belong to the header (RFC 3261 20).
        afterUri = value.find(';');
        result.uri = trimmed(std::string_view(value).substr(0, afterUri));
        if (afterUri == std::string::npos) afterUri = value.size();
    }
    result.parameters = parseParameters(std::string_view(value).substr(afterUri));
    return result;
}

Via parseVia(std::string_view text) {
    Via via;
    std::string value = trimmed(text);
    // sent-protocol LWS sent-by *( SEMI via-params )
    size_t slash1 = value.find('/');
    size_t slash2 = slash1 == std::string::npos ? slash1 : value.find('/', slash1 + 1);
    size_t space = slash2 == std::string::npos ? slash2 : value.find_first_of(" \t", slash2);
    if (space == std::string::npos) bad("a Via without sent-protocol and sent-by: " + value);
    via.protocol = value.substr(0, space);
    via.transport = value.substr(slash2 + 1, space - slash2 - 1);
    std::string rest = trimmed(std::string_view(value).substr(space));
    size_t semicolon = rest.find(';');
    hostPort(std::string_view(rest).substr(0, semicolon), via.host, via.port);
    if (semicolon != std::string::npos)
        via.parameters = parseParameters(std::string_view(rest).substr(semicolon));
    return via;
}

Credentials parseCredentials(std::string_view text) {
    Credentials credentials;
    std::string value = trimmed(text);
    size_t space = value.find_first_of(" \t");
    credentials.scheme = value.substr(0, space);
    if (space == std::string::npos) return credentials;
    for (const auto& part : splitOutsideQuotes(std::string_view(value).substr(space + 1), ','))
        credentials.parameters.push_back(parameter(part));
    return credentials;
}

std::vector<SecurityMechanism> parseSecurityMechanisms(std::string_view value) {
    std::vector<SecurityMechanism> mechanisms;
    for (const auto& element : splitList(value)) {
        SecurityMechanism mechanism;
        mechanism.text = element;
        size_t semicolon = element.find(';');
        mechanism.name = trimmed(std::string_view(element).substr(0, semicolon));
        if (mechanism.name.empty()) bad("a security mechanism without a name: " + element);
        if (semicolon != std::string::npos)
            mechanism.parameters = parseParameters(std::string_view(element).substr(semicolon));
        mechanisms.push_back(std::move(mechanism));
    }
    return mechanisms;
}

}  // namespace imsaka::conformance
