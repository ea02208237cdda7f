// The few SIP response headers the registration engine reads that the sip codecs do not
// cover: delta-seconds (Expires, Min-Expires), Retry-After, and name-addr lists (Contact
// with its expires / pub-gruu / temp-gruu parameters, P-Associated-URI, Service-Route).
// RFC 3261 section 25.1 grammar, kept to what a UE needs from a REGISTER response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imsaka/sip/error.h"

namespace imsaka::daemon {

enum class HeaderErrc {
    Empty,                  // nothing but white space
    ExpectedNumber,         // delta-seconds missing or not digits
    ExpectedUri,            // a name-addr / addr-spec without a URI
    UnterminatedQuote,      // a quoted string without its closing quote
    UnterminatedUri,        // '<' without '>'
    ExpectedParameterName,  // ';' not followed by a token
    UnexpectedCharacter,    // anything else out of place
};

class HeaderError : public sip::CodecError<HeaderErrc> {
  public:
    using CodecError::CodecError;
};

// delta-seconds with optional surrounding white space. Values beyond 2^32-1 are capped
// there (RFC 3261 20.19 asks receivers to treat them so).
uint32_t parseDeltaSeconds(std::string_view value);

// Retry-After: delta-seconds [ comment ] *( ";" retry-param ); returns the seconds.
uint32_t parseRetryAfter(std::string_view value);

struct NameAddr {
    std::string displayName;  // unquoted; empty when absent
    std::string uri;          // without the angle brackets
    // Header parameters after the URI, in order; values unquoted; nothing for a flag.
    std::vector<std::pair<std::string, std::optional<std::string>>> parameters;

    // Case-insensitive lookup: nothing when absent, an empty optional inside for a flag.
    std::optional<std::optional<std::string>> parameter(std::string_view name) const;
};

// One header value holding a comma-separated list of name-addr or addr-spec, each with
// parameters. Throws HeaderError (position = byte offset in value).
std::vector<NameAddr> parseNameAddrList(std::string_view value);

// host[:port] of a SIP URI, lower-cased, without scheme, user part, parameters or headers;
// used to recognise our own Contact. Empty when the text is not a sip: or sips: URI.
std::string sipUriHostPort(std::string_view uri);

}  // namespace imsaka::daemon
