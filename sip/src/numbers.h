// Strict number syntax shared by the codecs.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace imsaka::sip {

// Decimal digits only (no sign, no spaces, at most 10 digits), no greater than max.
std::optional<uint64_t> parseDecimal(std::string_view text, uint64_t max);

// An RFC 3261 qvalue ("0", "0.5", "1.000") in thousandths.
std::optional<uint16_t> parseQValue(std::string_view text);

}  // namespace imsaka::sip
