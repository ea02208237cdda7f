// What the card part reports: applications, identities, PIN state, AKA results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imsaka/common/bytes.h"

namespace imsaka::cardio {

enum class AppType { Isim, Usim, Other };
std::string_view toString(AppType type);

struct Application {
    AppType type = AppType::Other;
    Bytes aid;
    std::string label;
};

struct PcscfAddress {
    enum class Kind { Fqdn, Ipv4, Ipv6 };
    Kind kind = Kind::Fqdn;
    std::string address;  // FQDN text, or the address in its usual text form
};
std::string_view toString(PcscfAddress::Kind kind);

struct Identities {
    AppType source = AppType::Other;  // ISIM files, or derived from the USIM IMSI
    std::string impi;
    std::vector<std::string> impus;  // the first is the default (temporary one for a USIM)
    std::string homeDomain;
    std::vector<PcscfAddress> pcscfs;  // ISIM only
    std::string imsi;                  // USIM only
};

// Key references of the PINs an application may use (TS 102 221 table 9.3).
inline constexpr uint8_t kApplicationPin1 = 0x01;
inline constexpr uint8_t kUniversalPin = 0x11;

// The PIN that guards the selected application, as its FCP names it: the application PIN,
// or the universal PIN in its place (TS 102 221 9.5.2).
struct PinReference {
    uint8_t keyReference = kApplicationPin1;
    bool enabled = false;
};

struct PinStatus {
    uint8_t keyReference = kApplicationPin1;  // the PIN this status is about
    bool enabled = false;
    bool verified = false;  // or not needed: nothing requires it now
    bool blocked = false;
    std::optional<int> retriesLeft;     // known when the card says it
    std::optional<int> pukRetriesLeft;  // UNBLOCK PIN's tries left, when the card says it
};

// The answer of AUTHENTICATE in the 3G/IMS context. A sync failure is a result, not an
// error: the network wants the AUTS.
struct AuthResult {
    enum class Kind { Success, SyncFailure };
    Kind kind = Kind::Success;
    SecureBytes res;  // 4 to 16 bytes
    SecureBytes ck;   // 16 bytes
    SecureBytes ik;   // 16 bytes
    SecureBytes kc;   // 8 bytes when the USIM adds it, else empty
    Bytes auts;       // 14 bytes on sync failure
};

}  // namespace imsaka::cardio
