// The configuration of imsakad (INI, described in doc/imsakad.conf.md). Unknown sections and
// keys and bad values are named errors: a daemon that silently ignores a typo in its
// security settings runs with settings nobody chose.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "imsaka/daemon/engine.h"
#include "imsaka/sip/sec_agree.h"

namespace imsaka::daemon {

enum class ApplicationChoice { Auto, Isim, Usim };
std::string_view toString(ApplicationChoice choice);

enum class AuthenticateAccess { Root, Group };

// How to deal with peers that need what TS 24.229 / 33.203 would not do (doc/imsakad.conf.md
// lists what each profile changes and why).
enum class InteropProfile {
    Standard,    // the specifications' behaviour
    Kamailio56,  // Kamailio 5.6's ims_ipsec_pcscf as P-CSCF
};
std::string_view toString(InteropProfile profile);

struct DaemonConfig {
    // [card]
    std::vector<std::string> readers;  // empty: every reader
    ApplicationChoice application = ApplicationChoice::Auto;
    // [security]
    std::vector<sip::IntegrityAlgorithm> integrity{sip::IntegrityAlgorithm::HmacSha1_96,
                                                   sip::IntegrityAlgorithm::HmacMd5_96};
    // des-ede3-cbc stays available but is not offered by default: Kamailio 5.6's P-CSCF
    // picks the last mechanism offered and keys 3DES wrongly.
    std::vector<sip::EncryptionAlgorithm> encryption{sip::EncryptionAlgorithm::Null,
                                                     sip::EncryptionAlgorithm::AesCbc};
    uint32_t spiMin = 0x1000;
    uint32_t spiMax = 0x7fffffff;
    uint16_t portMin = 40000;
    uint16_t portMax = 40999;
    // [timers]
    EngineTimers timers;
    // [interop]
    InteropProfile interop = InteropProfile::Standard;
    // [access]
    std::string group = "imsaka";
    AuthenticateAccess authenticate = AuthenticateAccess::Root;
    // Who may try the card's PIN and PUK (Card1.VerifyPin, UnblockPin): three wrong tries
    // block the card for everyone.
    AuthenticateAccess pin = AuthenticateAccess::Root;
    // [limits]
    uint32_t maxRegistrationsPerUser = 8;  // per uid, however many bus connections it has
    uint32_t maxRegistrations = 64;        // for everyone together
    // [registration]
    std::string instanceId;  // empty until resolved: from /etc/machine-id
    uint32_t expires = 600000;
    // REGISTERs larger than this go over TCP (RFC 3261 18.1.1, TS 24.229 4.2A).
    uint32_t maxUdpSize = 1300;
    // Every registration is a flow of the multiple-registration mechanism (RFC 5626, TS 24.229
    // 5.1.1.2.1), its reg-id given or the lowest free one of its identity.
    bool multipleRegistrations = false;
    // [dns]
    std::vector<std::string> dnsServers;  // "address" or "address:port"; empty: resolv.conf
    Seconds dnsTimeout{10};               // one P-CSCF lookup, all its queries together
};

enum class ConfigErrc {
    Unreadable,  // the file cannot be opened or read
    Syntax,      // a line that is neither a section, a key = value, nor a comment
    UnknownSection,
    UnknownKey,
    BadValue,
    Duplicate,     // a key set twice
    Inconsistent,  // values that are each fine but do not fit together (min > max, ...)
};
std::string_view toString(ConfigErrc code);

// what() reads "<where>: <message>", where is "<file>:<line>" or "<file> [section] key".
class ConfigError : public std::runtime_error {
  public:
    ConfigError(ConfigErrc code, std::string where, const std::string& message);
    ConfigErrc code() const noexcept { return code_; }
    const std::string& where() const noexcept { return where_; }

  private:
    ConfigErrc code_;
    std::string where_;
};

// Parses INI text; origin names it in errors. Defaults fill what the text leaves out.
DaemonConfig parseConfig(std::string_view text, const std::string& origin = "<config>");
// Reads a file. When the file is missing and missingIsDefault is set, returns the defaults.
DaemonConfig loadConfig(const std::string& path, bool missingIsDefault);

// "<urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx>" (lowercase) from 16 bytes.
std::string formatInstanceId(const std::array<uint8_t, 16>& uuid);
// The default +sip.instance: an id derived from /etc/machine-id for imsakad alone (the
// machine id itself never leaves the host). Throws ConfigError(Unreadable) without one.
std::string defaultInstanceId();

}  // namespace imsaka::daemon
