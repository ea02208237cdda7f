// Security-Client/Server/Verify values (RFC 3329 section 2.2 grammar) and the ipsec-3gpp
// parameters of TS 33.203 Annex H.
#include "imsaka/sip/sec_agree.h"

#include <array>

#include "numbers.h"
#include "scanner.h"

namespace imsaka::sip {

namespace {

[[noreturn]] void fail(SecAgreeErrc code, std::string what, size_t position) {
    throw SecAgreeError(code, std::move(what), position);
}

// The Annex H parameters, recognised once per parameter so that checking syntax and
// duplicates costs no further name comparisons.
enum class Known { Q, Alg, Ealg, SpiC, SpiS, PortC, PortS, Prot, Mod, None };
constexpr std::array<std::string_view, 9> kKnownNames{"q",      "alg",    "ealg", "spi-c", "spi-s",
                                                      "port-c", "port-s", "prot", "mod"};

Known classify(std::string_view name) {
    for (size_t i = 0; i < kKnownNames.size(); ++i) {
        if (equalsIgnoreCase(kKnownNames[i], name)) return static_cast<Known>(i);
    }
    return Known::None;
}

// The parameters whose syntax RFC 3329 and Annex H fix, checked while parsing so that a
// malformed one is reported where it is.
void checkKnownParameter(Known known, const MechanismParameter& parameter, size_t position) {
    std::string_view value = parameter.value ? std::string_view(*parameter.value) : "";
    bool valid = true;
    switch (known) {
        case Known::Q:
            valid = parameter.value && parseQValue(value).has_value();
            break;
        case Known::SpiC:
        case Known::SpiS:
            valid = parameter.value && parseDecimal(value, UINT32_MAX).has_value();
            break;
        case Known::PortC:
        case Known::PortS:
            valid = parameter.value && parseDecimal(value, UINT16_MAX).value_or(0) != 0;
            break;
        default:
            return;
    }
    if (!valid) fail(SecAgreeErrc::BadValue, "bad value for " + parameter.name, position);
}

// valueStart: where the value begins (or would), for errors found later.
MechanismParameter parseParameter(Scanner& scanner, size_t& valueStart) {
    MechanismParameter parameter;
    parameter.name = std::string(scanner.token());
    if (parameter.name.empty()) {
        fail(SecAgreeErrc::ExpectedParameterName, "expected a parameter name", scanner.position());
    }
    valueStart = scanner.position();
    if (!scanner.consume('=')) return parameter;
    valueStart = scanner.position();
    if (scanner.peek() == '"') {
        parameter.value = scanner.quotedString();
        if (!parameter.value) {
            fail(SecAgreeErrc::UnterminatedQuote, "unterminated quoted string", scanner.position());
        }
        parameter.quoted = true;
    } else if (scanner.peek() == '[') {
        auto reference = scanner.ipv6Reference();
        if (!reference) fail(SecAgreeErrc::ExpectedValue, "bad IPv6 reference", valueStart);
        parameter.value = std::string(*reference);
    } else {
        auto token = scanner.token();
        if (token.empty()) fail(SecAgreeErrc::ExpectedValue, "expected a value", valueStart);
        parameter.value = std::string(token);
    }
    return parameter;
}

SecurityMechanism parseMechanism(Scanner& scanner) {
    SecurityMechanism mechanism;
    size_t begin = scanner.position();
    mechanism.name = std::string(scanner.token());
    if (mechanism.name.empty()) {
        fail(SecAgreeErrc::ExpectedMechanismName, "expected a mechanism name", begin);
    }
    size_t end = scanner.position();
    mechanism.parameters.reserve(10);  // the Annex H set, without regrowing
    unsigned seen = 0;
    while (scanner.consume(';')) {
        size_t parameterStart = scanner.position();
        size_t valueStart = 0;
        auto parameter = parseParameter(scanner, valueStart);
        Known known = classify(parameter.name);
        if (known != Known::None) {
            unsigned bit = 1u << static_cast<unsigned>(known);
            if (seen & bit) {
                fail(SecAgreeErrc::DuplicateParameter,
                     "parameter " + parameter.name + " given twice", parameterStart);
            }
            seen |= bit;
            checkKnownParameter(known, parameter, valueStart);
        }
        mechanism.parameters.push_back(std::move(parameter));
        end = scanner.position();
    }
    mechanism.text = unfold(scanner.slice(begin, end));
    return mechanism;
}

void parseInto(std::string_view value, std::vector<SecurityMechanism>& out, size_t offset) {
    Scanner scanner(value, offset);
    scanner.skipWhiteSpace();
    if (scanner.atEnd()) fail(SecAgreeErrc::Empty, "no security mechanism", offset);
    while (true) {
        out.push_back(parseMechanism(scanner));
        scanner.skipWhiteSpace();
        if (scanner.atEnd()) break;
        if (!scanner.consume(',')) {
            fail(SecAgreeErrc::UnexpectedCharacter, "expected ';' or ','", scanner.position());
        }
    }
}

}  // namespace

const MechanismParameter* SecurityMechanism::find(std::string_view parameter) const {
    for (const auto& candidate : parameters) {
        if (equalsIgnoreCase(candidate.name, parameter)) return &candidate;
    }
    return nullptr;
}

std::optional<std::string_view> SecurityMechanism::value(std::string_view parameter) const {
    const MechanismParameter* found = find(parameter);
    if (!found || !found->value) return std::nullopt;
    return std::string_view(*found->value);
}

bool SecurityMechanism::isIpsec3gpp() const {
    return equalsIgnoreCase(name, "ipsec-3gpp");
}

std::optional<uint16_t> SecurityMechanism::preference() const {
    auto q = value("q");
    if (!q) return std::nullopt;
    auto parsed = parseQValue(*q);
    if (!parsed) throw SecAgreeError(SecAgreeErrc::BadValue, "bad value for q");
    return parsed;
}

std::vector<SecurityMechanism> parseSecurityHeader(std::string_view value) {
    std::vector<SecurityMechanism> mechanisms;
    parseInto(value, mechanisms, 0);
    return mechanisms;
}

std::vector<SecurityMechanism> parseSecurityHeaders(std::span<const std::string_view> values) {
    std::vector<SecurityMechanism> mechanisms;
    size_t offset = 0;
    for (auto value : values) {
        parseInto(value, mechanisms, offset);
        offset += value.size() + 2;  // as if joined by ", "
    }
    if (mechanisms.empty()) throw SecAgreeError(SecAgreeErrc::Empty, "no security mechanism", 0);
    return mechanisms;
}

std::string formatSecurityHeader(std::span<const SecurityMechanism> mechanisms) {
    std::string out;
    for (const auto& mechanism : mechanisms) {
        if (!out.empty()) out += ", ";
        if (!isToken(mechanism.name)) {
            throw SecAgreeError(SecAgreeErrc::InvalidArgument,
                                "mechanism name is not a token: " + mechanism.name);
        }
        out += mechanism.name;
        for (const auto& parameter : mechanism.parameters) {
            if (!isToken(parameter.name)) {
                throw SecAgreeError(SecAgreeErrc::InvalidArgument,
                                    "parameter name is not a token: " + parameter.name);
            }
            out += ";";
            out += parameter.name;
            if (!parameter.value) continue;
            out += "=";
            const std::string& value = *parameter.value;
            bool plain = isToken(value);
            bool reference = !value.empty() && value.front() == '[' &&
                             Scanner(value).ipv6Reference().value_or("").size() == value.size();
            if (parameter.quoted || !(plain || reference)) {
                if (!isHeaderSafe(value)) {
                    throw SecAgreeError(
                        SecAgreeErrc::InvalidArgument,
                        "value of " + parameter.name + " holds a control character");
                }
                appendQuoted(out, value);
            } else {
                out += value;
            }
        }
    }
    return out;
}

std::string_view toString(IntegrityAlgorithm algorithm) {
    switch (algorithm) {
        case IntegrityAlgorithm::HmacMd5_96:
            return "hmac-md5-96";
        case IntegrityAlgorithm::HmacSha1_96:
            return "hmac-sha-1-96";
    }
    return "unknown";
}

std::string_view toString(EncryptionAlgorithm algorithm) {
    switch (algorithm) {
        case EncryptionAlgorithm::Null:
            return "null";
        case EncryptionAlgorithm::AesCbc:
            return "aes-cbc";
        case EncryptionAlgorithm::DesEde3Cbc:
            return "des-ede3-cbc";
    }
    return "unknown";
}

std::optional<IntegrityAlgorithm> integrityAlgorithmFrom(std::string_view name) {
    for (auto algorithm : {IntegrityAlgorithm::HmacMd5_96, IntegrityAlgorithm::HmacSha1_96}) {
        if (equalsIgnoreCase(name, toString(algorithm))) return algorithm;
    }
    return std::nullopt;
}

std::optional<EncryptionAlgorithm> encryptionAlgorithmFrom(std::string_view name) {
    for (auto algorithm : {EncryptionAlgorithm::Null, EncryptionAlgorithm::AesCbc,
                           EncryptionAlgorithm::DesEde3Cbc}) {
        if (equalsIgnoreCase(name, toString(algorithm))) return algorithm;
    }
    return std::nullopt;
}

IpsecParameters ipsecParameters(const SecurityMechanism& mechanism) {
    auto missing = [](std::string what) -> IpsecParameters {
        throw SecAgreeError(SecAgreeErrc::MissingParameter, std::move(what));
    };
    auto bad = [](std::string what) -> IpsecParameters {
        throw SecAgreeError(SecAgreeErrc::BadValue, std::move(what));
    };
    if (!mechanism.isIpsec3gpp()) return bad("mechanism " + mechanism.name + " is not ipsec-3gpp");
    IpsecParameters parameters{};
    auto alg = mechanism.value("alg");
    if (!alg) return missing("alg is missing");
    auto integrity = integrityAlgorithmFrom(*alg);
    if (!integrity) return bad("alg=" + std::string(*alg) + " is not supported");
    parameters.alg = *integrity;
    auto ealg = mechanism.value("ealg").value_or("null");
    auto encryption = encryptionAlgorithmFrom(ealg);
    if (!encryption) return bad("ealg=" + std::string(ealg) + " is not supported");
    parameters.ealg = *encryption;
    if (auto prot = mechanism.value("prot"); prot && !equalsIgnoreCase(*prot, "esp")) {
        return bad("prot=" + std::string(*prot) + " is not supported (only esp)");
    }
    if (auto mod = mechanism.value("mod"); mod && !equalsIgnoreCase(*mod, "trans")) {
        return bad("mod=" + std::string(*mod) + " is not supported (only trans)");
    }
    struct Number {
        std::string_view name;
        uint64_t max;
        uint64_t* out;
    };
    uint64_t spiC = 0, spiS = 0, portC = 0, portS = 0;
    for (auto [name, max, out] :
         {Number{"spi-c", UINT32_MAX, &spiC}, Number{"spi-s", UINT32_MAX, &spiS},
          Number{"port-c", UINT16_MAX, &portC}, Number{"port-s", UINT16_MAX, &portS}}) {
        auto text = mechanism.value(name);
        if (!text) return missing(std::string(name) + " is missing");
        auto number = parseDecimal(*text, max);
        if (!number || (max == UINT16_MAX && *number == 0)) {
            return bad("bad value for " + std::string(name));
        }
        *out = *number;
    }
    parameters.spiC = static_cast<uint32_t>(spiC);
    parameters.spiS = static_cast<uint32_t>(spiS);
    parameters.portC = static_cast<uint16_t>(portC);
    parameters.portS = static_cast<uint16_t>(portS);
    return parameters;
}

std::vector<SecurityMechanism> buildSecurityClient(const SecurityCapabilities& capabilities) {
    if (capabilities.integrity.empty()) {
        throw SecAgreeError(SecAgreeErrc::InvalidArgument, "no integrity algorithm to offer");
    }
    if (capabilities.encryption.empty()) {
        throw SecAgreeError(SecAgreeErrc::InvalidArgument, "no encryption algorithm to offer");
    }
    if (capabilities.portC == 0 || capabilities.portS == 0) {
        throw SecAgreeError(SecAgreeErrc::InvalidArgument, "protected ports must not be 0");
    }
    std::vector<SecurityMechanism> mechanisms;
    for (auto alg : capabilities.integrity) {
        for (auto ealg : capabilities.encryption) {
            SecurityMechanism mechanism;
            mechanism.name = "ipsec-3gpp";
            auto add = [&](std::string name, std::string value) {
                mechanism.parameters.push_back({std::move(name), std::move(value), false});
            };
            add("alg", std::string(toString(alg)));
            add("ealg", std::string(toString(ealg)));
            add("spi-c", std::to_string(capabilities.spiC));
            add("spi-s", std::to_string(capabilities.spiS));
            add("port-c", std::to_string(capabilities.portC));
            add("port-s", std::to_string(capabilities.portS));
            add("prot", "esp");
            add("mod", "trans");
            mechanisms.push_back(std::move(mechanism));
        }
    }
    return mechanisms;
}

}  // namespace imsaka::sip
