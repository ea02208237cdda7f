// What the system simulator writes: responses (RFC 3261 8.2.6.2), its own requests, and
// the reg-event documents of RFC 3680 as TS 34.229-1 A.1.6 shows them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip_text.h"

namespace imsaka::conformance {

using Headers = std::vector<HeaderLine>;

// A response to request: its Via lines, From, To (with toTag added when it has none),
// Call-ID and CSeq, then extra, then Content-Length (and Content-Type with a body).
std::string buildResponse(const SipMessage& request, int status, std::string_view reason,
                          std::string_view toTag, const Headers& extra,
                          std::string_view contentType = {}, std::string_view body = {});

// A request with the headers as given, then Content-Length (and Content-Type with a body).
std::string buildRequest(std::string_view method, std::string_view requestUri,
                         const Headers& headers, std::string_view contentType = {},
                         std::string_view body = {});

// Lowercase hex of fresh random bytes: tags, branches (after "z9hG4bK"), opaque values.
std::string randomToken(size_t bytes = 8);

struct ReginfoContact {
    std::string id;
    std::string state;  // active | terminated
    std::string event;  // registered, created, refreshed, shortened, deactivated, rejected, ...
    std::string uri;
    std::optional<uint32_t> expires;
    std::string callId;
    std::optional<uint32_t> cseq;
};

struct ReginfoRegistration {
    std::string aor;
    std::string id;
    std::string state;  // init | active | terminated
    std::vector<ReginfoContact> contacts;
};

// A full-state reginfo document (RFC 3680 5.3), XML-escaped.
std::string reginfoDocument(uint32_t version,
                            const std::vector<ReginfoRegistration>& registrations);

}  // namespace imsaka::conformance
