#include "report.h"

#include <iostream>

namespace imsaka::tools {

using json = nlohmann::ordered_json;

json toJson(const cardio::PinStatus& pin) {
    json out{{"key_reference", pin.keyReference},
             {"enabled", pin.enabled},
             {"verified", pin.verified},
             {"blocked", pin.blocked}};
    if (pin.retriesLeft) out["retries_left"] = *pin.retriesLeft;
    if (pin.pukRetriesLeft) out["puk_retries_left"] = *pin.pukRetriesLeft;
    return out;
}

json toJson(const cardio::CardInfo& info) {
    json apps = json::array();
    for (const auto& app : info.applications)
        apps.push_back(
            {{"type", cardio::toString(app.type)}, {"aid", toHex(app.aid)}, {"label", app.label}});
    json out{{"reader", info.reader},
             {"protocol", info.protocol == 0 ? "T=0" : "T=1"},
             {"atr", toHex(info.atr)},
             {"applications", apps},
             {"selected", cardio::toString(info.selected.type)},
             {"logical_channel", info.logicalChannel},
             {"pin", toJson(info.pin)}};
    if (info.identities) {
        const auto& ids = *info.identities;
        json pcscfs = json::array();
        for (const auto& p : ids.pcscfs)
            pcscfs.push_back({{"type", cardio::toString(p.kind)}, {"address", p.address}});
        json identities{{"source", cardio::toString(ids.source)},
                        {"impi", ids.impi},
                        {"impus", ids.impus},
                        {"home_domain", ids.homeDomain},
                        {"pcscfs", pcscfs}};
        if (!ids.imsi.empty()) identities["imsi"] = ids.imsi;
        out["identities"] = identities;
    } else {
        out["identities"] = nullptr;  // the PIN must be verified first
    }
    return out;
}

json toJson(const cardio::AuthResult& result) {
    if (result.kind == cardio::AuthResult::Kind::SyncFailure)
        return {{"result", "sync-failure"}, {"auts", toHex(result.auts)}};
    json out{{"result", "success"},
             {"res", toHex(result.res)},
             {"ck", toHex(result.ck)},
             {"ik", toHex(result.ik)}};
    if (!result.kc.empty()) out["kc"] = toHex(result.kc);
    return out;
}

json toJson(const cardio::CardError& error) {
    json out{{"error", cardio::toString(error.code())},
             {"where", error.where()},
             {"message", error.what()}};
    if (error.statusWord()) out["status_word"] = *error.statusWord();
    return out;
}

void printHuman(const json& document, int indent) {
    std::string pad(static_cast<size_t>(indent), ' ');
    for (const auto& [key, value] : document.items()) {
        if (value.is_object()) {
            std::cout << pad << key << ":\n";
            printHuman(value, indent + 2);
        } else if (value.is_array()) {
            std::cout << pad << key << ":" << (value.empty() ? " (none)" : "") << "\n";
            for (const auto& item : value) {
                if (item.is_object()) {
                    std::cout << pad << "  -\n";
                    printHuman(item, indent + 4);
                } else {
                    std::cout << pad << "  - "
                              << (item.is_string() ? item.get<std::string>() : item.dump()) << "\n";
                }
            }
        } else {
            std::cout << pad << key << ": "
                      << (value.is_string() ? value.get<std::string>()
                          : value.is_null() ? "(unavailable)"
                                            : value.dump())
                      << "\n";
        }
    }
}

}  // namespace imsaka::tools
