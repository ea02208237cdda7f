// Choosing the server's mechanism (TS 24.229 5.1.1.5.1: "the most preferred mechanism and
// algorithm returned by the P-CSCF and supported by the UE") and mirroring it back.
#include "imsaka/sip/sec_agree.h"
#include "scanner.h"

namespace imsaka::sip {

namespace {

struct OfferedPair {
    IntegrityAlgorithm alg;
    EncryptionAlgorithm ealg;
};

std::vector<OfferedPair> offeredPairs(std::span<const SecurityMechanism> offered) {
    std::vector<OfferedPair> pairs;
    for (const auto& mechanism : offered) {
        if (!mechanism.isIpsec3gpp()) continue;
        auto alg = integrityAlgorithmFrom(mechanism.value("alg").value_or(""));
        auto ealg = encryptionAlgorithmFrom(mechanism.value("ealg").value_or("null"));
        if (alg && ealg) pairs.push_back({*alg, *ealg});
    }
    return pairs;
}

// Nothing when the mechanism fits, else why it does not.
std::optional<std::string> whyNot(const SecurityMechanism& mechanism,
                                  const std::vector<OfferedPair>& offered,
                                  IpsecParameters& parameters) {
    if (!mechanism.isIpsec3gpp()) return "mechanism " + mechanism.name + " is not ipsec-3gpp";
    try {
        parameters = ipsecParameters(mechanism);
    } catch (const SecAgreeError& error) {
        return error.message();
    }
    for (const auto& pair : offered) {
        if (pair.alg == parameters.alg && pair.ealg == parameters.ealg) return std::nullopt;
    }
    return "alg=" + std::string(toString(parameters.alg)) +
           " with ealg=" + std::string(toString(parameters.ealg)) + " is not a pair we offered";
}

}  // namespace

SelectedMechanism selectMechanism(std::span<const SecurityMechanism> offered,
                                  std::span<const SecurityMechanism> server) {
    auto pairs = offeredPairs(offered);
    std::vector<MechanismRejection> rejections;
    std::optional<SelectedMechanism> best;
    int bestPreference = -1;
    for (size_t index = 0; index < server.size(); ++index) {
        IpsecParameters parameters{};
        if (auto reason = whyNot(server[index], pairs, parameters)) {
            rejections.push_back({index, std::move(*reason)});
            continue;
        }
        // An absent q ranks below every explicit one, ties go to the first listed.
        auto q = server[index].preference();
        int preference = q ? *q + 1 : 0;
        if (best && preference <= bestPreference) continue;
        best = SelectedMechanism{index, parameters};
        bestPreference = preference;
    }
    if (best) return *best;
    std::string what;
    if (server.empty()) {
        what = "Security-Server lists no mechanism";
    } else if (pairs.empty()) {
        what = "our Security-Client offered no ipsec-3gpp mechanism";
    } else {
        what = "no Security-Server mechanism fits our offer:";
        for (const auto& rejection : rejections) {
            what += " [" + std::to_string(rejection.index + 1) + "] " + rejection.reason + ";";
        }
        what.pop_back();
    }
    throw NoAcceptableMechanismError(std::move(what), std::move(rejections));
}

std::string securityVerifyValue(std::span<const std::string_view> securityServerValues) {
    parseSecurityHeaders(securityServerValues);  // throws on anything we should not echo
    std::string out;
    for (auto value : securityServerValues) {
        if (!out.empty()) out += ", ";
        out += unfold(value);
    }
    return out;
}

std::string securityVerifyValue(std::span<const SecurityMechanism> securityServer) {
    if (securityServer.empty()) {
        throw SecAgreeError(SecAgreeErrc::Empty, "no security mechanism to mirror");
    }
    std::string out;
    for (const auto& mechanism : securityServer) {
        if (!out.empty()) out += ", ";
        out += mechanism.text.empty() ? formatSecurityHeader(std::span(&mechanism, 1))
                                      : mechanism.text;
    }
    return out;
}

}  // namespace imsaka::sip
