// The SIP message side of imsaka-register: requests built from what imsakad hands over,
// received messages parsed by libosip2, the 200 OK to a request, and the framing of SIP
// over a TCP stream. No sockets and no bus here, so all of it is unit-tested and fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imsaka::reg {

using Header = std::pair<std::string, std::string>;  // (name, value)
using Headers = std::vector<Header>;

enum class SipErrorCode {
    Unparsable,      // libosip2 rejected the message
    MissingHeader,   // Via, From, To, Call-ID or CSeq (or Content-Length on a stream) absent
    Truncated,       // fewer body bytes than Content-Length says
    TooLarge,        // over kMaxMessageSize
    BadHeaderValue,  // a header to send holds CR or LF, or an unusable Content-Length
};

class SipMessageError : public std::runtime_error {
  public:
    // position: the byte offset in the input where the problem was found (0 when unknown).
    SipMessageError(SipErrorCode code, const std::string& what, size_t position = 0)
        : std::runtime_error(what), code_(code), position_(position) {}
    SipErrorCode code() const { return code_; }
    size_t position() const { return position_; }

  private:
    SipErrorCode code_;
    size_t position_;
};

inline constexpr size_t kMaxMessageSize = 65535;

// The first value of a header, by name compared case-insensitively; "" when absent.
std::string findHeader(const Headers& headers, std::string_view name);

// A received request or response.
struct Message {
    bool isRequest = false;
    uint16_t status = 0;  // responses only
    std::string method;   // the request's method, or the CSeq method of a response
    std::string uri;      // the Request-URI of a request
    std::string callId;
    std::string cseq;    // "3 NOTIFY"
    std::string branch;  // the top Via's branch parameter, "" when none
    // Every header, one entry per value. Headers of the same name keep their order (the only
    // order RFC 3261 7.3.1 gives a meaning to); libosip2 groups the names it knows.
    Headers headers;
    std::string body;

    std::string header(std::string_view name) const { return findHeader(headers, name); }
};

// Parses one whole message (a datagram, or what StreamFramer returned).
Message parseMessage(std::string_view text);

// The lifetime a 2xx to a REGISTER grants the binding of contactUri (RFC 3261 10.2.4): the
// expires parameter of that Contact, else the Expires header; nothing when neither says.
std::optional<uint32_t> grantedExpires(const Message& response, std::string_view contactUri);

// Delta-seconds (RFC 3261 25.1, as in Expires and Retry-After); nothing when not that.
std::optional<uint32_t> parseSeconds(std::string_view value);

// The public identity to subscribe to the reg event with (TS 24.229 5.1.1.3): the one
// registered, unless the network barred it (a temporary identity derived from the IMSI is),
// then the default one, the first P-Associated-URI.
std::string subscriptionIdentity(const std::string& registered,
                                 const std::vector<std::string>& barred,
                                 const std::vector<std::string>& associated);

// A new Via branch: the RFC 3261 magic cookie and 96 random bits in hex.
std::string newBranch();

// "METHOD uri SIP/2.0" and the headers in the order given; adds ";branch=" to the first
// Via, then Max-Forwards: 70 and Content-Length. Throws SipMessageError (MissingHeader without
// a Via, BadHeaderValue for CR or LF in a name or value).
std::string buildRequest(std::string_view method, std::string_view uri, const Headers& headers,
                         std::string_view branch, std::string_view body = {});

// The response to a received request: its Via, From, To (with a tag added when it has
// none), Call-ID and CSeq, no body.
std::string buildResponse(std::string_view request, uint16_t status, std::string_view reason);

// SIP over a byte stream (RFC 3261 18.3): cuts whole messages out of what arrives,
// by the blank line and Content-Length. Skips CRLF keep-alives (RFC 5626) between messages.
class StreamFramer {
  public:
    void append(std::string_view bytes) { buffer_.append(bytes); }
    // The next whole message, or nothing until more bytes arrive. Throws SipMessageError
    // when the stream cannot be framed (the connection must then be closed).
    std::optional<std::string> next();
    size_t buffered() const { return buffer_.size(); }

  private:
    std::string buffer_;
};

}  // namespace imsaka::reg
