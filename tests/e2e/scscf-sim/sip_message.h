// A received SIP message, parsed by libosip2, with the few views the simulator needs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim_error.h"

struct osip_message;

namespace imsaka::scscfsim {

struct Endpoint {
    std::string host;  // IP literal, IPv6 without brackets
    uint16_t port = 5060;
    bool operator==(const Endpoint&) const = default;
};

struct ContactValue {
    std::string text;  // the whole value as received
    std::string uri;   // the URI alone
    bool wildcard = false;
    std::optional<uint32_t> expires;
    std::optional<std::string> instance;  // +sip.instance, as written (quoted)
    std::optional<std::string> regId;
};

class SipMessage {
  public:
    // Throws SimError(BadMessage) when libosip2 cannot parse the text or a header every
    // message needs (Via, From, To, Call-ID, CSeq) is missing.
    static SipMessage parse(std::string_view text);
    SipMessage(SipMessage&&) noexcept;
    SipMessage& operator=(SipMessage&&) noexcept;
    ~SipMessage();

    bool isRequest() const;
    std::string method() const;  // of the request, or of the CSeq for a response
    std::string requestUri() const;
    int status() const;  // 0 for a request

    std::vector<std::string> vias() const;  // each value as text, top first
    std::string topViaBranch() const;
    // Where responses go (RFC 3261 18.2.2, RFC 3581): received and rport when present,
    // else the sent-by of the top Via (default port 5060).
    Endpoint responseTarget() const;

    std::string from() const;
    std::string to() const;
    std::string fromUri() const;
    std::string toUri() const;
    std::optional<std::string> fromTag() const;
    std::optional<std::string> toTag() const;
    std::string callId() const;
    uint32_t cseqNumber() const;
    std::string cseq() const;  // "1 REGISTER"

    std::vector<ContactValue> contacts() const;
    // Values of a header libosip2 keeps as text (Path, Expires, Event, ...), comma lists split.
    std::vector<std::string> headerValues(std::string_view name) const;
    std::optional<std::string> headerValue(std::string_view name) const;
    // The first value of a header as received, from the raw header lines. For Authorization
    // and WWW-Authenticate: libosip2's own parser drops the parameters IMS needs (auts,
    // integrity-protected, ck, ik, empty nonce and response).
    std::optional<std::string> rawHeader(std::string_view name) const;
    // Every line of a header as received (values of one line are not split).
    std::vector<std::string> rawHeaders(std::string_view name) const;
    std::optional<std::string> authorization() const { return rawHeader("Authorization"); }
    std::string body() const;

  private:
    SipMessage(osip_message* message, std::string text);
    osip_message* message_;
    std::string text_;
};

// host[:port] of a SIP URI (the default port 5060 when absent); throws SimError(BadMessage).
Endpoint uriEndpoint(std::string_view uri);
// The URI inside a name-addr ("<sip:a@b;lr>" -> "sip:a@b;lr"), or the text when bare.
std::string addrSpec(std::string_view nameAddr);

}  // namespace imsaka::scscfsim
