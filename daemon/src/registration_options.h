// The options of Manager1.CreateRegistration (a{sv}), checked: unknown keys, wrong types
// and bad values are InvalidArguments naming the key.
#pragma once

#include <sdbus-c++/Types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "imsaka/daemon/engine.h"

namespace imsaka::daemon {

// One P-CSCF of the pcscf option: an IP literal or a host name (resolved as RFC 3263 says),
// and a port when the entry names one.
struct PcscfEntry {
    std::string address;
    std::optional<uint16_t> port;
};

struct RegistrationOptions {
    std::optional<std::string> card;  // object path or reader name
    std::optional<std::string> impu;
    std::optional<std::vector<PcscfEntry>> pcscfs;  // in order of preference, not empty
    std::optional<uint16_t> pcscfPort;  // for entries without one; a name's A/AAAA records only
    std::optional<std::string> localAddress;  // IP literal
    std::optional<Transport> transport;       // given: a name's SRV records of it only
    std::optional<uint32_t> regId;
    std::optional<uint32_t> expires;
    std::optional<std::vector<sip::IntegrityAlgorithm>> integrity;
    std::optional<std::vector<sip::EncryptionAlgorithm>> encryption;
    std::optional<std::vector<std::string>> featureTags;
    std::optional<std::vector<std::pair<std::string, std::string>>> extraHeaders;
};

RegistrationOptions parseRegistrationOptions(const std::map<std::string, sdbus::Variant>& options);
// Registration1.Update's changes: feature_tags and headers. Their values are checked by the
// engine, which knows which headers it writes.
RegistrationUpdate parseRegistrationUpdate(const std::map<std::string, sdbus::Variant>& changes);

}  // namespace imsaka::daemon
