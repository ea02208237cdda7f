#include "numbers.h"

namespace imsaka::sip {

std::optional<uint64_t> parseDecimal(std::string_view text, uint64_t max) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value > max) return std::nullopt;
    return value;
}

std::optional<uint16_t> parseQValue(std::string_view text) {
    if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
    uint16_t whole = static_cast<uint16_t>(text[0] - '0');
    if (text.size() == 1) return static_cast<uint16_t>(whole * 1000);
    if (text[1] != '.' || text.size() > 5) return std::nullopt;
    uint16_t fraction = 0;
    uint16_t scale = 100;
    for (char c : text.substr(2)) {
        if (c < '0' || c > '9') return std::nullopt;
        fraction = static_cast<uint16_t>(fraction + (c - '0') * scale);
        scale = static_cast<uint16_t>(scale / 10);
    }
    if (whole == 1 && fraction != 0) return std::nullopt;
    return static_cast<uint16_t>(whole * 1000 + fraction);
}

}  // namespace imsaka::sip
