// The system simulator's own reading of SIP (RFC 3261 7 and 25), written apart from the UE's
// code so that a fault there cannot hide itself here. It keeps every header line as the UE
// wrote it, in order, because the conformance checks look at each one; the helpers below
// take values apart (name-addr, SIP URI, Via, Digest credentials, sec-agree mechanisms).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imsaka::conformance {

// Text that is not SIP as RFC 3261 25 writes it.
class SipSyntaxError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct HeaderLine {
    std::string name;   // as written
    std::string value;  // continuation lines joined with one space, outer white space trimmed
};

class SipMessage {
  public:
    // One whole message (start line, headers, empty line, body of Content-Length bytes).
    static SipMessage parse(std::string_view text);

    bool isRequest() const { return status_ == 0; }
    const std::string& method() const { return method_; }  // of the request
    const std::string& requestUri() const { return requestUri_; }
    const std::string& version() const { return version_; }
    int status() const { return status_; }
    const std::string& reason() const { return reason_; }
    // The method of CSeq: what a response answers.
    std::string cseqMethod() const;
    uint32_t cseqNumber() const;

    const std::vector<HeaderLine>& headers() const { return headers_; }
    // Every line of a header, by its full name or its compact form (RFC 3261 7.3.3).
    std::vector<std::string> lines(std::string_view name) const;
    // The values of a header, lines split at the commas that separate list elements.
    std::vector<std::string> values(std::string_view name) const;
    std::optional<std::string> first(std::string_view name) const;
    size_t count(std::string_view name) const { return lines(name).size(); }
    const std::string& body() const { return body_; }
    const std::string& text() const { return text_; }

  private:
    std::string method_, requestUri_, version_, reason_;
    int status_ = 0;
    std::vector<HeaderLine> headers_;
    std::string body_;
    std::string text_;
};

// The length of the first complete message at the start of a stream (RFC 3261 18.3:
// headers, then Content-Length bytes), or nothing while it is incomplete. Throws when the
// headers end without a usable Content-Length.
std::optional<size_t> completeMessageLength(std::string_view stream);

// Full header name for a compact form ("v" -> "Via"); the name itself otherwise.
std::string_view fullHeaderName(std::string_view name);
bool sameToken(std::string_view a, std::string_view b);  // case-insensitive
std::string trimmed(std::string_view text);
// Splits at commas outside quotes and angle brackets.
std::vector<std::string> splitList(std::string_view value);

// A generic parameter, "name" or "name=value"; quoted values keep their quotes off and
// remember them.
struct Parameter {
    std::string name;
    std::optional<std::string> value;
    bool quoted = false;
};
using Parameters = std::vector<Parameter>;
const Parameter* findParameter(const Parameters& parameters, std::string_view name);
// ";a=1;b" after a value, up to the end.
Parameters parseParameters(std::string_view text);

struct SipUri {
    std::string scheme;  // sip, sips, tel
    std::string user;
    std::string host;  // IPv6 without brackets
    std::optional<uint16_t> port;
    Parameters parameters;
};
SipUri parseUri(std::string_view text);

struct NameAddr {
    std::string display;
    std::string uri;  // as written between < >, or the addr-spec
    bool angleBrackets = false;
    Parameters parameters;  // header parameters after the URI
};
NameAddr parseNameAddr(std::string_view text);

struct Via {
    std::string protocol;   // "SIP/2.0/UDP"
    std::string transport;  // "UDP"
    std::string host;       // IPv6 without brackets
    std::optional<uint16_t> port;
    Parameters parameters;
};
Via parseVia(std::string_view text);

// "Digest a=b, c="d"" (RFC 2617 3.2.2).
struct Credentials {
    std::string scheme;
    Parameters parameters;
};
Credentials parseCredentials(std::string_view text);

// One mechanism of Security-Client, -Server or -Verify (RFC 3329 2.2).
struct SecurityMechanism {
    std::string name;  // "ipsec-3gpp"
    Parameters parameters;
    std::string text;  // as written
};
std::vector<SecurityMechanism> parseSecurityMechanisms(std::string_view value);

// 1 to 10 digits, at most 2^32-1.
std::optional<uint32_t> parseUnsigned(std::string_view text);

}  // namespace imsaka::conformance
