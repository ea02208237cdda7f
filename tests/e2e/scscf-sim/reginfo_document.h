// RFC 3680 reginfo+xml documents as the S-CSCF sends them in reg-event NOTIFYs
// (TS 24.229 5.4.2.1.2), written with pugixml so that URIs are escaped properly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imsaka::scscfsim {

struct ReginfoContactEntry {
    std::string id;
    std::string state;  // active | terminated
    std::string event;  // registered, refreshed, shortened, deactivated, rejected, ...
    std::optional<uint32_t> expires;
    std::string uri;
    std::string callId;
    uint32_t cseq = 0;
    std::optional<std::string> instance;  // +sip.instance, e.g. <urn:gsma:imei:...>
    std::optional<std::string> regId;
};

struct ReginfoRegistrationEntry {
    std::string aor;
    std::string id;
    std::string state;  // init | active | terminated
    std::vector<ReginfoContactEntry> contacts;
};

// A full-state document.
std::string buildReginfo(uint32_t version, const std::vector<ReginfoRegistrationEntry>& entries);

}  // namespace imsaka::scscfsim
