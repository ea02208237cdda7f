#include "scanner.h"

#include <array>

namespace imsaka::sip {

bool isToken(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        if (!isTokenChar(c)) return false;
    }
    return true;
}

namespace {
bool isBlank(char c) {
    return c == ' ' || c == '\t';
}

// Plain loops: string_view::find_first_of calls memchr once per character.
bool containsAny(std::string_view text, char a, char b) {
    for (char c : text) {
        if (c == a || c == b) return true;
    }
    return false;
}

std::string_view trimBlanks(std::string_view text) {
    while (!text.empty() && isBlank(text.front())) text.remove_prefix(1);
    while (!text.empty() && isBlank(text.back())) text.remove_suffix(1);
    return text;
}
}  // namespace

std::string toLower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = asciiLower(c);
    return out;
}

std::string unfold(std::string_view text) {
    if (!containsAny(text, '\r', '\n')) return std::string(trimBlanks(text));
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '\r' && c != '\n') {
            out.push_back(c);
            continue;
        }
        while (i + 1 < text.size() && (text[i + 1] == '\n' || isBlank(text[i + 1]))) ++i;
        out.push_back(' ');
    }
    return std::string(trimBlanks(out));
}

bool isHexDigits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        char folded = asciiLower(c);
        if (!((c >= '0' && c <= '9') || (folded >= 'a' && folded <= 'f'))) return false;
    }
    return true;
}

namespace {
constexpr std::array<bool, 256> kUnsafeInHeader = [] {
    std::array<bool, 256> table{};
    for (size_t c = 0; c < 0x20; ++c) table[c] = c != '\t';
    table[0x7f] = true;
    return table;
}();
}  // namespace

bool isHeaderSafe(std::string_view text) {
    bool unsafe = false;
    for (char c : text) unsafe |= kUnsafeInHeader[static_cast<unsigned char>(c)];
    return !unsafe;
}

void appendQuoted(std::string& out, std::string_view text) {
    if (!containsAny(text, '"', '\\')) {
        out.push_back('"');
        out.append(text);
        out.push_back('"');
        return;
    }
    out.push_back('"');
    for (char c : text) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

void Scanner::skipWhiteSpace() {
    while (!atEnd()) {
        char c = text_[position_];
        if (isBlank(c)) {
            ++position_;
            continue;
        }
        // A line break counts as white space only when the next line is a continuation.
        size_t next = position_;
        if (c == '\r' && next + 1 < text_.size() && text_[next + 1] == '\n') ++next;
        if (text_[next] != '\n') return;
        if (next + 1 < text_.size() && isBlank(text_[next + 1])) {
            position_ = next + 1;
            continue;
        }
        return;
    }
}

bool Scanner::consume(char c) {
    skipWhiteSpace();
    if (peek() != c || atEnd()) return false;
    ++position_;
    skipWhiteSpace();
    return true;
}

std::string_view Scanner::token() {
    size_t begin = position_;
    while (!atEnd() && isTokenChar(text_[position_])) ++position_;
    return text_.substr(begin, position_ - begin);
}

std::optional<std::string> Scanner::quotedString() {
    if (peek() != '"' || atEnd()) return std::nullopt;
    ++position_;
    std::string value;
    // Most values have no escapes or folds: take them in one piece.
    size_t end = position_;
    while (end < text_.size()) {
        auto byte = static_cast<unsigned char>(text_[end]);
        if (byte == '"' || byte == '\\' || byte < 0x20 || byte == 0x7f) break;
        ++end;
    }
    value.assign(text_.substr(position_, end - position_));
    position_ = end;
    while (!atEnd()) {
        char c = text_[position_];
        if (c == '"') {
            ++position_;
            return value;
        }
        if (c == '\\') {
            if (position_ + 1 >= text_.size()) return std::nullopt;
            char escaped = text_[position_ + 1];
            if (escaped == '\r' || escaped == '\n') return std::nullopt;
            value.push_back(escaped);
            position_ += 2;
            continue;
        }
        if (c == '\r' || c == '\n') {
            size_t before = position_;
            skipWhiteSpace();
            if (position_ == before) return std::nullopt;  // a line break that is no fold
            value.push_back(' ');
            continue;
        }
        auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t') || byte == 0x7f) return std::nullopt;
        value.push_back(c);
        ++position_;
    }
    return std::nullopt;
}

std::optional<std::string_view> Scanner::ipv6Reference() {
    if (peek() != '[' || atEnd()) return std::nullopt;
    size_t begin = position_++;
    while (!atEnd()) {
        char c = text_[position_];
        if (c == ']') {
            ++position_;
            return text_.substr(begin, position_ - begin);
        }
        bool hex = (c >= '0' && c <= '9') || (asciiLower(c) >= 'a' && asciiLower(c) <= 'f');
        if (!hex && c != ':' && c != '.') return std::nullopt;
        ++position_;
    }
    return std::nullopt;
}

}  // namespace imsaka::sip
