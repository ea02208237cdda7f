// Security-Client, Security-Server and Security-Verify (RFC 3329) with the ipsec-3gpp
// parameters of TS 33.203 Annex H: parsing, formatting, building our offer, choosing the
// server's mechanism and mirroring it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "imsaka/sip/error.h"

namespace imsaka::sip {

enum class SecAgreeErrc {
    Empty,                  // no mechanism at all
    ExpectedMechanismName,  // a mechanism name (token) is missing
    ExpectedParameterName,  // ';' not followed by a parameter name
    ExpectedValue,          // '=' not followed by a token, quoted string or IPv6 reference
    UnterminatedQuote,      // a quoted string without its closing quote, or with a bare control
    UnexpectedCharacter,    // something other than ';' or ',' after a mechanism or parameter
    BadValue,               // a known parameter (q, spi-c, spi-s, port-c, port-s) out of its syntax
    DuplicateParameter,     // a known parameter given twice in one mechanism
    MissingParameter,       // an ipsec-3gpp mechanism lacks a parameter that Annex H requires
    InvalidArgument,        // something we were asked to format cannot be written in a header
    NoAcceptableMechanism,  // no server mechanism matches our offer (see rejections())
};

class SecAgreeError : public CodecError<SecAgreeErrc> {
  public:
    using CodecError::CodecError;
};

struct MechanismParameter {
    std::string name;                  // as written; compare with equalsIgnoreCase semantics
    std::optional<std::string> value;  // unescaped; nothing for a bare flag
    bool quoted = false;               // written as a quoted-string
};

struct SecurityMechanism {
    std::string name;  // e.g. "ipsec-3gpp", as written
    std::vector<MechanismParameter> parameters;
    // The mechanism as it appeared on the wire (folded lines joined), empty when built.
    std::string text;

    // Case-insensitive lookup of a parameter.
    const MechanismParameter* find(std::string_view parameter) const;
    std::optional<std::string_view> value(std::string_view parameter) const;
    bool isIpsec3gpp() const;
    // q in thousandths (RFC 3329 qvalue), or nothing when absent.
    std::optional<uint16_t> preference() const;
};

// One header value: one or more mechanisms separated by commas.
std::vector<SecurityMechanism> parseSecurityHeader(std::string_view value);
// Several instances of the same header, in message order, as one list.
std::vector<SecurityMechanism> parseSecurityHeaders(std::span<const std::string_view> values);
std::string formatSecurityHeader(std::span<const SecurityMechanism> mechanisms);

// TS 33.203 Annex H algorithms.
enum class IntegrityAlgorithm { HmacMd5_96, HmacSha1_96 };
enum class EncryptionAlgorithm { Null, AesCbc, DesEde3Cbc };
std::string_view toString(IntegrityAlgorithm algorithm);
std::string_view toString(EncryptionAlgorithm algorithm);
std::optional<IntegrityAlgorithm> integrityAlgorithmFrom(std::string_view name);
std::optional<EncryptionAlgorithm> encryptionAlgorithmFrom(std::string_view name);

// The parameters of one ipsec-3gpp mechanism, as needed to set up the SAs.
struct IpsecParameters {
    IntegrityAlgorithm alg;
    EncryptionAlgorithm ealg;
    uint32_t spiC;
    uint32_t spiS;
    uint16_t portC;
    uint16_t portS;
};

// Reads the ipsec-3gpp parameters; throws SecAgreeError (MissingParameter, BadValue) when
// the mechanism is not ipsec-3gpp, lacks alg, SPIs or ports, names an algorithm we do not
// know, or asks for anything other than prot=esp and mod=trans.
IpsecParameters ipsecParameters(const SecurityMechanism& mechanism);

// What we can do, and the SPIs and ports we have allocated for this registration.
struct SecurityCapabilities {
    // In the order to list them; each integrity algorithm is paired with each encryption
    // algorithm. The defaults run from the weakest pair to the strongest, because a
    // Kamailio 5.6 P-CSCF ignores q and takes the last mechanism listed.
    std::vector<IntegrityAlgorithm> integrity{IntegrityAlgorithm::HmacMd5_96,
                                              IntegrityAlgorithm::HmacSha1_96};
    std::vector<EncryptionAlgorithm> encryption{
        EncryptionAlgorithm::Null, EncryptionAlgorithm::DesEde3Cbc, EncryptionAlgorithm::AesCbc};
    uint32_t spiC = 0;
    uint32_t spiS = 0;
    uint16_t portC = 0;
    uint16_t portS = 0;
};

// Our Security-Client: one ipsec-3gpp mechanism per alg x ealg pair, each with alg, ealg
// (null too, written out), our SPIs and ports, prot=esp and mod=trans; no q.
std::vector<SecurityMechanism> buildSecurityClient(const SecurityCapabilities& capabilities);

// Why one server mechanism was not chosen.
struct MechanismRejection {
    size_t index;        // position in the Security-Server list
    std::string reason;  // e.g. "alg=hmac-sha-256 is not one we offered"
};

struct SelectedMechanism {
    size_t index;  // position in the Security-Server list
    IpsecParameters server;
};

class NoAcceptableMechanismError : public SecAgreeError {
  public:
    NoAcceptableMechanismError(std::string what, std::vector<MechanismRejection> rejections)
        : SecAgreeError(SecAgreeErrc::NoAcceptableMechanism, std::move(what)),
          rejections_(std::move(rejections)) {}
    const std::vector<MechanismRejection>& rejections() const noexcept { return rejections_; }

  private:
    std::vector<MechanismRejection> rejections_;
};

// The server mechanism with the highest q among those whose alg and ealg we offered
// (an absent q ranks below every explicit one; ties go to the first listed). Throws
// NoAcceptableMechanismError, with a reason for each server mechanism, when none fits.
SelectedMechanism selectMechanism(std::span<const SecurityMechanism> offered,
                                  std::span<const SecurityMechanism> server);

// The Security-Verify value: the Security-Server values exactly as received (folded lines
// joined, several instances joined by ", "). Throws SecAgreeError when a value does not
// parse, so that a broken Security-Server is caught before it is echoed.
std::string securityVerifyValue(std::span<const std::string_view> securityServerValues);
// The same from the parsed Security-Server list (parse once, select, mirror): each
// mechanism's text as received, joined by ", " (a mechanism built rather than parsed is
// formatted).
std::string securityVerifyValue(std::span<const SecurityMechanism> securityServer);

}  // namespace imsaka::sip
