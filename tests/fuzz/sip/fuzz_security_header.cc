// Security-Client/Server/Verify values: parse, and for what parses, format and parse again
// (same mechanisms; only an escaped control character may refuse to format), read the
// ipsec-3gpp parameters, select against our offer, mirror.
#include <cstdlib>
#include <optional>

#include "imsaka/sip/sec_agree.h"

using namespace imsaka::sip;

namespace {
// A quoted-pair may escape a control character (RFC 3261 25.1), which parses; the
// formatter refuses to write one back, so only such a value may stop a round trip.
bool holdsControlCharacter(const std::vector<SecurityMechanism>& mechanisms) {
    for (const auto& mechanism : mechanisms) {
        for (const auto& parameter : mechanism.parameters) {
            for (char c : parameter.value.value_or("")) {
                auto byte = static_cast<unsigned char>(c);
                if ((byte < 0x20 && c != '\t') || byte == 0x7f) return true;
            }
        }
    }
    return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view value(reinterpret_cast<const char*>(data), size);
    std::vector<SecurityMechanism> mechanisms;
    try {
        mechanisms = parseSecurityHeader(value);
    } catch (const SecAgreeError& error) {
        if (error.position() > size) std::abort();
        return 0;
    }
    std::optional<std::string> formatted;
    try {
        formatted = formatSecurityHeader(mechanisms);
    } catch (const SecAgreeError& error) {
        if (error.code() != SecAgreeErrc::InvalidArgument || !holdsControlCharacter(mechanisms))
            std::abort();
    }
    if (formatted) {
        auto again = parseSecurityHeader(*formatted);
        if (again.size() != mechanisms.size()) std::abort();
        for (size_t i = 0; i < again.size(); ++i) {
            if (again[i].parameters.size() != mechanisms[i].parameters.size()) std::abort();
            for (size_t j = 0; j < again[i].parameters.size(); ++j) {
                if (again[i].parameters[j].value != mechanisms[i].parameters[j].value) std::abort();
            }
        }
    }
    for (const auto& mechanism : mechanisms) {
        try {
            ipsecParameters(mechanism);
        } catch (const SecAgreeError&) {
        }
    }
    SecurityCapabilities capabilities;
    capabilities.portC = 5062;
    capabilities.portS = 5064;
    auto offered = buildSecurityClient(capabilities);
    try {
        auto chosen = selectMechanism(offered, mechanisms);
        if (chosen.index >= mechanisms.size()) std::abort();
    } catch (const NoAcceptableMechanismError& error) {
        if (error.rejections().size() != mechanisms.size()) std::abort();
    }
    if (securityVerifyValue(std::span(&value, 1)).empty()) std::abort();
    return 0;
}
