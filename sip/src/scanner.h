// A cursor over a SIP header value (RFC 3261 section 25.1): tokens, quoted strings and
// linear white space, including folded lines. It never reads past the text it was given
// and reports problems by returning nothing, so each codec throws its own error type.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace imsaka::sip {

inline constexpr std::array<bool, 256> kTokenChars = [] {
    std::array<bool, 256> table{};
    for (int c = 'a'; c <= 'z'; ++c) table[static_cast<size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<size_t>(c)] = true;
    for (int c = '0'; c <= '9'; ++c) table[static_cast<size_t>(c)] = true;
    for (char c : std::string_view("-.!%*_+`'~")) table[static_cast<unsigned char>(c)] = true;
    return table;
}();

inline bool isTokenChar(char c) {
    return kTokenChars[static_cast<unsigned char>(c)];
}
// A non-empty run of token characters and nothing else.
bool isToken(std::string_view text);
inline char asciiLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Inline: header parsing compares names constantly, mostly against short literals.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (asciiLower(a[i]) != asciiLower(b[i])) return false;
    }
    return true;
}
std::string toLower(std::string_view text);

// Replaces each folded line break (CRLF or LF and the white space after it) by one space
// (RFC 3261 7.3.1) and trims both ends; other white space is kept as it is.
std::string unfold(std::string_view text);

// Non-empty, and only the digits 0-9, a-f, A-F.
bool isHexDigits(std::string_view text);

// True when the text can be written into a header value as it is (no line breaks or
// other control characters).
bool isHeaderSafe(std::string_view text);

// Writes text as a quoted-string, escaping '"' and '\'.
void appendQuoted(std::string& out, std::string_view text);

class Scanner {
  public:
    // origin: where the text starts in the caller's larger input, so that positions
    // reported for several header instances count from the first one.
    explicit Scanner(std::string_view text, size_t origin = 0) : text_(text), origin_(origin) {}

    size_t position() const { return origin_ + position_; }
    bool atEnd() const { return position_ >= text_.size(); }
    char peek() const { return atEnd() ? '\0' : text_[position_]; }
    // The text between two positions returned by position().
    std::string_view slice(size_t begin, size_t end) const {
        return text_.substr(begin - origin_, end - begin);
    }

    // Skips spaces, tabs and folded line breaks; stops at a line break that is not a fold.
    void skipWhiteSpace();
    // Consumes c (after white space) and the white space after it.
    bool consume(char c);
    // The longest run of token characters; empty when there is none.
    std::string_view token();
    // At '"': the unescaped content, with the cursor after the closing quote. Nothing when
    // the string is not closed or holds a bare control character (the cursor is then at
    // the offending place).
    std::optional<std::string> quotedString();
    // At '[': an IPv6 reference up to and including ']'.
    std::optional<std::string_view> ipv6Reference();

  private:
    std::string_view text_;
    size_t origin_;
    size_t position_ = 0;
};

}  // namespace imsaka::sip
