#include "imsaka/daemon/headers.h"

#include <arpa/inet.h>

#include <algorithm>
#include <limits>

namespace imsaka::daemon {
namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool isTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

bool isControl(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

// A cursor over one header value; folded line breaks count as white space.
class Cursor {
  public:
    explicit Cursor(std::string_view text) : text_(text) {}

    bool atEnd() const { return at_ >= text_.size(); }
    char peek() const { return atEnd() ? '\0' : text_[at_]; }
    size_t position() const { return at_; }
    void rewind(size_t to) { at_ = to; }
    void advance() { ++at_; }

    void skipWhiteSpace() {
        while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\r' || peek() == '\n')) {
            ++at_;
        }
    }
    bool consume(char c) {
        skipWhiteSpace();
        if (peek() != c) return false;
        ++at_;
        skipWhiteSpace();
        return true;
    }
    std::string_view token() {
        size_t begin = at_;
        while (!atEnd() && isTokenChar(peek())) ++at_;
        return text_.substr(begin, at_ - begin);
    }
    // At '"': the unescaped content, the cursor after the closing quote.
    std::string quotedString() {
        size_t begin = at_;
        ++at_;
        std::string out;
        while (!atEnd()) {
            char c = text_[at_++];
            if (c == '"') return out;
            if (c == '\\') {
                if (atEnd() || isControl(peek())) break;
                out += text_[at_++];
            } else if (isControl(c) && c != '\t') {
                fail(HeaderErrc::UnexpectedCharacter, "control character in a quoted string",
                     at_ - 1);
            } else {
                out += c;
            }
        }
        fail(HeaderErrc::UnterminatedQuote, "quoted string without its closing quote", begin);
    }
    // Characters up to one of the stop characters, white space or a control character.
    std::string_view until(std::string_view stops) {
        size_t begin = at_;
        while (!atEnd() && stops.find(peek()) == std::string_view::npos && peek() != ' ' &&
               !isControl(peek())) {
            ++at_;
        }
        return text_.substr(begin, at_ - begin);
    }

    [[noreturn]] static void fail(HeaderErrc code, const std::string& message, size_t at) {
        throw HeaderError(code, message, at);
    }
    [[noreturn]] void fail(HeaderErrc code, const std::string& message) const {
        fail(code, message, at_);
    }

  private:
    std::string_view text_;
    size_t at_ = 0;
};

uint32_t readDeltaSeconds(Cursor& cursor) {
    cursor.skipWhiteSpace();
    if (cursor.peek() < '0' || cursor.peek() > '9') {
        cursor.fail(HeaderErrc::ExpectedNumber, "expected delta-seconds");
    }
    uint64_t value = 0;
    constexpr uint64_t cap = std::numeric_limits<uint32_t>::max();
    while (cursor.peek() >= '0' && cursor.peek() <= '9') {
        value = std::min(cap, value * 10 + static_cast<uint64_t>(cursor.peek() - '0'));
        cursor.advance();
    }
    cursor.skipWhiteSpace();
    return static_cast<uint32_t>(value);
}

// *( ";" name [ "=" value ] ), stopping at ',' or the end.
void readParameters(Cursor& cursor, NameAddr& into) {
    while (cursor.consume(';')) {
        std::string_view name = cursor.token();
        if (name.empty()) cursor.fail(HeaderErrc::ExpectedParameterName, "expected a parameter");
        std::optional<std::string> value;
        if (cursor.consume('=')) {
            if (cursor.peek() == '"') {
                value = cursor.quotedString();
            } else {
                std::string_view text = cursor.until(";,\"");
                if (text.empty()) {
                    cursor.fail(HeaderErrc::UnexpectedCharacter, "expected a parameter value");
                }
                value = std::string(text);
            }
        }
        into.parameters.emplace_back(std::string(name), std::move(value));
        cursor.skipWhiteSpace();
    }
}

NameAddr readNameAddr(Cursor& cursor) {
    NameAddr entry;
    cursor.skipWhiteSpace();
    size_t start = cursor.position();
    // display-name: a quoted string, or tokens, before '<'.
    if (cursor.peek() == '"') {
        entry.displayName = cursor.quotedString();
        cursor.skipWhiteSpace();
        if (cursor.peek() != '<')
            cursor.fail(HeaderErrc::ExpectedUri, "expected '<' after the name");
    } else {
        std::string words;
        while (true) {
            cursor.skipWhiteSpace();
            std::string_view word = cursor.token();
            if (word.empty()) break;
            if (!words.empty()) words += ' ';
            words += word;
        }
        if (cursor.peek() == '<') {
            entry.displayName = std::move(words);
        } else {
            cursor.rewind(start);
        }
    }
    if (cursor.peek() == '<') {
        size_t open = cursor.position();
        cursor.advance();
        std::string_view uri = cursor.until(">");
        if (cursor.peek() != '>') {
            if (cursor.atEnd()) cursor.fail(HeaderErrc::UnterminatedUri, "'<' without '>'", open);
            cursor.fail(HeaderErrc::UnexpectedCharacter, "unexpected character in a URI");
        }
        cursor.advance();
        entry.uri = std::string(uri);
    } else {
        // addr-spec: its parameters are header parameters (RFC 3261 20.10).
        entry.uri = std::string(cursor.until(";,<>\""));
    }
    if (entry.uri.empty()) cursor.fail(HeaderErrc::ExpectedUri, "expected a URI");
    readParameters(cursor, entry);
    return entry;
}

}  // namespace

uint32_t parseDeltaSeconds(std::string_view value) {
    Cursor cursor(value);
    cursor.skipWhiteSpace();
    if (cursor.atEnd()) cursor.fail(HeaderErrc::Empty, "empty value");
    uint32_t seconds = readDeltaSeconds(cursor);
    if (!cursor.atEnd()) cursor.fail(HeaderErrc::UnexpectedCharacter, "text after the number");
    return seconds;
}

uint32_t parseRetryAfter(std::string_view value) {
    Cursor cursor(value);
    cursor.skipWhiteSpace();
    if (cursor.atEnd()) cursor.fail(HeaderErrc::Empty, "empty value");
    uint32_t seconds = readDeltaSeconds(cursor);
    if (cursor.peek() == '(') {
        size_t open = cursor.position();
        int depth = 0;
        do {
            if (cursor.atEnd())
                cursor.fail(HeaderErrc::UnterminatedQuote, "unclosed comment", open);
            char c = cursor.peek();
            if (c == '\\') cursor.advance();
            if (c == '(') ++depth;
            if (c == ')') --depth;
            cursor.advance();
        } while (depth > 0);
    }
    NameAddr ignored;
    readParameters(cursor, ignored);
    if (!cursor.atEnd()) cursor.fail(HeaderErrc::UnexpectedCharacter, "unexpected character");
    return seconds;
}

std::optional<std::optional<std::string>> NameAddr::parameter(std::string_view name) const {
    for (const auto& [key, value] : parameters) {
        if (equalsIgnoreCase(key, name)) return value;
    }
    return std::nullopt;
}

std::vector<NameAddr> parseNameAddrList(std::string_view value) {
    Cursor cursor(value);
    cursor.skipWhiteSpace();
    if (cursor.atEnd()) cursor.fail(HeaderErrc::Empty, "empty value");
    std::vector<NameAddr> list;
    do {
        list.push_back(readNameAddr(cursor));
        cursor.skipWhiteSpace();
    } while (cursor.consume(','));
    if (!cursor.atEnd()) cursor.fail(HeaderErrc::UnexpectedCharacter, "unexpected character");
    return list;
}

std::string sipUriHostPort(std::string_view uri) {
    size_t colon = uri.find(':');
    if (colon == std::string_view::npos) return {};
    std::string_view scheme = uri.substr(0, colon);
    if (!equalsIgnoreCase(scheme, "sip") && !equalsIgnoreCase(scheme, "sips")) return {};
    std::string_view rest = uri.substr(colon + 1);
    rest = rest.substr(0, std::min(rest.find(';'), rest.find('?')));
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    std::string out;
    // An IPv6 reference has many spellings: write it in its one canonical form (RFC 5952).
    if (size_t close = rest.find(']');
        !rest.empty() && rest.front() == '[' && close != std::string_view::npos) {
        std::string inner(rest.substr(1, close - 1));
        in6_addr address;
        char text[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET6, inner.c_str(), &address) == 1 &&
            inet_ntop(AF_INET6, &address, text, sizeof text)) {
            out = "[" + std::string(text) + "]";
            rest.remove_prefix(close + 1);
        }
    }
    for (char c : rest) out += lower(c);
    return out;
}

}  // namespace imsaka::daemon
