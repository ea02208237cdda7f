#include "human.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

namespace imsaka::ctl {

namespace {

std::string text(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

uint64_t number(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string orDash(std::string value) {
    return value.empty() ? "-" : value;
}

std::string shortInterface(std::string_view name) {
    auto dot = name.rfind('.');
    return std::string(dot == std::string_view::npos ? name : name.substr(dot + 1));
}

// Label / value lines with the values in one column; a list takes one line per item.
class Fields {
  public:
    Fields& add(std::string label, std::string value) {
        rows_.emplace_back(std::move(label), orDash(std::move(value)));
        return *this;
    }
    Fields& addList(std::string label, const json& values) {
        if (!values.is_array() || values.empty()) return add(std::move(label), "");
        bool first = true;
        for (const auto& value : values) {
            rows_.emplace_back(first ? label : "",
                               value.is_string() ? value.get<std::string>() : value.dump());
            first = false;
        }
        return *this;
    }
    void print(std::ostream& out, size_t indent = 2) const {
        size_t width = 0;
        for (const auto& row : rows_) width = std::max(width, row.first.size());
        for (const auto& [label, value] : rows_)
            out << std::string(indent, ' ') << label << std::string(width - label.size() + 2, ' ')
                << value << '\n';
    }

  private:
    std::vector<std::pair<std::string, std::string>> rows_;
};

// Columns separated by two spaces, each as wide as its widest cell; the last is not padded.
void printTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                size_t indent = 0) {
    std::vector<size_t> widths;
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i) {
            if (widths.size() <= i) widths.push_back(0);
            widths[i] = std::max(widths[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line(indent, ' ');
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        out << line << '\n';
    }
}

std::string objectNumber(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

std::string triesLeft(uint64_t tries) {
    return std::to_string(tries) + (tries == 1 ? " try" : " tries") + " left";
}

std::string pinText(const json& card) {
    std::string state = orDash(text(card, "pin_state"));
    uint64_t retries = number(card, "pin_retries");
    if (retries > 0) state += ", " + triesLeft(retries);
    if (text(card, "pin_kind") == "universal") state += " (universal PIN)";
    return state;
}

// 0 is "used up or not reported": the PIN state says which matters.
std::string pukText(const json& card) {
    uint64_t retries = number(card, "puk_retries");
    return retries == 0 ? "-" : triesLeft(retries);
}

std::string algorithms(const json& set) {
    return orDash(text(set, "integrity")) + " / " + orDash(text(set, "encryption"));
}

}  // namespace

std::string formatDuration(uint64_t seconds) {
    char buffer[32];
    if (seconds < 60) {
        std::snprintf(buffer, sizeof buffer, "%llus", static_cast<unsigned long long>(seconds));
    } else if (seconds < 3600) {
        std::snprintf(buffer, sizeof buffer, "%llum%02llus",
                      static_cast<unsigned long long>(seconds / 60),
                      static_cast<unsigned long long>(seconds % 60));
    } else if (seconds < 86400) {
        std::snprintf(buffer, sizeof buffer, "%lluh%02llum",
                      static_cast<unsigned long long>(seconds / 3600),
                      static_cast<unsigned long long>(seconds % 3600 / 60));
    } else {
        std::snprintf(buffer, sizeof buffer, "%llud%02lluh",
                      static_cast<unsigned long long>(seconds / 86400),
                      static_cast<unsigned long long>(seconds % 86400 / 3600));
    }
    return buffer;
}

std::string formatExpiry(uint64_t unixTime, std::time_t now) {
    if (unixTime == 0) return "-";
    auto when = static_cast<std::time_t>(unixTime);
    std::tm utc{};
    gmtime_r(&when, &utc);
    char stamp[40];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", &utc);
    auto nowSeconds = static_cast<uint64_t>(std::max<std::time_t>(now, 0));
    std::string relative = unixTime >= nowSeconds ? "in " + formatDuration(unixTime - nowSeconds)
                                                  : formatDuration(nowSeconds - unixTime) + " ago";
    return std::string(stamp) + " (" + relative + ")";
}

std::string formatSpi(uint64_t spi) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08llx", static_cast<unsigned long long>(spi));
    return std::to_string(spi) + " (" + hex + ")";
}

void printCards(std::ostream& out, const json& cards) {
    if (cards.empty()) {
        out << "No cards (no reader the daemon uses).\n";
        return;
    }
    std::vector<std::vector<std::string>> rows{{"CARD", "READER", "STATE", "APP", "IMPI"}};
    for (const auto& card : cards)
        rows.push_back({objectNumber(text(card, "path")), text(card, "reader"), text(card, "state"),
                        orDash(text(card, "application")), orDash(text(card, "impi"))});
    printTable(out, rows);
}

void printCard(std::ostream& out, const json& card) {
    out << "Card " << text(card, "path") << '\n';
    Fields fields;
    fields.add("Reader", text(card, "reader"))
        .add("State", text(card, "state"))
        .add("Application", text(card, "application"))
        .add("IMPI", text(card, "impi"))
        .addList("IMPUs", card.value("impus", json::array()))
        .add("Home domain", text(card, "home_domain"))
        .addList("P-CSCFs", card.value("pcscf_addresses", json::array()))
        .add("PIN", pinText(card))
        .add("PUK", pukText(card));
    if (!text(card, "last_error").empty()) fields.add("Last error", text(card, "last_error"));
    fields.print(out);
}

void printRegistrations(std::ostream& out, const json& registrations, std::time_t now) {
    if (registrations.empty()) {
        out << "No registrations.\n";
        return;
    }
    std::vector<std::vector<std::string>> rows{
        {"REG", "STATE", "IMPU", "P-CSCF", "TRANSPORT", "EXPIRES", "OWNER"}};
    for (const auto& registration : registrations) {
        uint64_t expires = number(registration, "expires");
        auto nowSeconds = static_cast<uint64_t>(std::max<std::time_t>(now, 0));
        rows.push_back({objectNumber(text(registration, "path")), text(registration, "state"),
                        orDash(text(registration, "impu")),
                        orDash(text(registration, "pcscf_address")),
                        text(registration, "transport"),
                        expires == 0           ? "-"
                        : expires > nowSeconds ? "in " + formatDuration(expires - nowSeconds)
                                               : "expired",
                        text(registration, "owner")});
    }
    printTable(out, rows);
}

void printRegistration(std::ostream& out, const json& registration, std::time_t now) {
    out << "Registration " << text(registration, "path") << '\n';
    auto port = [&](const char* key) { return std::to_string(number(registration, key)); };
    uint64_t regId = number(registration, "reg_id");
    Fields fields;
    fields.add("State", text(registration, "state"))
        .add("Owner", text(registration, "owner"))
        .add("Card", text(registration, "card"))
        .add("IMPI", text(registration, "impi"))
        .add("IMPU", text(registration, "impu"))
        .add("Instance", text(registration, "instance_id"))
        .add("Reg-id", regId == 0 ? "" : std::to_string(regId))
        .add("Transport", text(registration, "transport"))
        .add("Local address", text(registration, "local_address"))
        .add("P-CSCF", text(registration, "pcscf_address"))
        .add("Ports", "uc " + port("port_uc") + "  us " + port("port_us") + "  pc " +
                          port("port_pc") + "  ps " + port("port_ps"))
        .add("Expires", formatExpiry(number(registration, "expires"), now))
        .addList("Associated URIs", registration.value("associated_uris", json::array()))
        .addList("Barred URIs", registration.value("barred_uris", json::array()))
        .addList("Deregistered", registration.value("deregistered_uris", json::array()))
        .addList("Service-Route", registration.value("service_route", json::array()))
        .add("Public GRUU", text(registration, "public_gruu"))
        .add("Temporary GRUU", text(registration, "temporary_gruu"));
    if (regId != 0) fields.add("Outbound", registration.value("outbound", false) ? "yes" : "no");
    if (!registration.value("feature_tags", json::array()).empty())
        fields.addList("Feature tags", registration["feature_tags"]);
    json headers = json::array();
    for (const auto& pair : registration.value("headers", json::array()))
        if (pair.is_array() && pair.size() == 2)
            headers.push_back(pair[0].get<std::string>() + ": " + pair[1].get<std::string>());
    if (!headers.empty()) fields.addList("Headers", headers);
    if (!text(registration, "last_error").empty())
        fields.add("Last error", text(registration, "last_error"));
    const json sets = registration.value("sa_sets", json::array());
    if (sets.empty()) fields.add("SA sets", "");
    fields.print(out);
    if (sets.empty()) return;
    out << "  SA sets\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& set : sets)
        rows.push_back({text(set, "path"), text(set, "state"), algorithms(set),
                        "expires " + formatExpiry(number(set, "expires"), now)});
    printTable(out, rows, 4);
}

void printSaSets(std::ostream& out, const json& saSets, std::time_t now) {
    if (saSets.empty()) {
        out << "No SA sets.\n";
        return;
    }
    bool first = true;
    for (const auto& set : saSets) {
        if (!first) out << '\n';
        first = false;
        out << "SA set " << text(set, "path") << '\n';
        auto side = [&](const char* address, const char* portC, const char* portS, const char* spiC,
                        const char* spiS) {
            return orDash(text(set, address)) + "  port-c " + std::to_string(number(set, portC)) +
                   "  port-s " + std::to_string(number(set, portS)) + "  spi-c " +
                   std::to_string(number(set, spiC)) + "  spi-s " +
                   std::to_string(number(set, spiS));
        };
        Fields fields;
        fields.add("State", text(set, "state"))
            .add("Algorithms", algorithms(set))
            .add("UE", side("local_address", "port_uc", "port_us", "spi_uc", "spi_us"))
            .add("P-CSCF", side("pcscf_address", "port_pc", "port_ps", "spi_pc", "spi_ps"))
            .add("Expires", formatExpiry(number(set, "expires"), now));
        fields.print(out);
        if (set.contains("counters_error")) {
            out << "  Counters unavailable: " << text(set, "counters_error") << '\n';
            continue;
        }
        std::vector<std::vector<std::string>> rows{{"SA", "DIR", "SPI", "PACKETS", "BYTES"}};
        for (const auto& counter : set.value("counters", json::array()))
            rows.push_back({text(counter, "sa"), text(counter, "direction"),
                            formatSpi(number(counter, "spi")),
                            std::to_string(number(counter, "packets")),
                            std::to_string(number(counter, "bytes"))});
        printTable(out, rows, 2);
    }
}

namespace {

std::string compact(const json& value) {
    if (value.is_string()) {
        auto s = value.get<std::string>();
        return s.empty() || s.find(' ') != std::string::npos ? value.dump() : s;
    }
    if (value.is_array()) {
        std::string out = "[";
        for (size_t i = 0; i < value.size(); ++i) out += (i ? "," : "") + compact(value[i]);
        return out + "]";
    }
    return value.dump();
}

}  // namespace

std::string monitorLine(const json& event) {
    const std::string kind = text(event, "event");
    std::string line = text(event, "time") + " " + kind;
    if (event.contains("path")) line += " " + text(event, "path");
    if (kind == "added") {
        for (const auto& [name, properties] : event["interfaces"].items()) {
            line += " " + shortInterface(name);
            if (properties.contains("state")) line += " state=" + compact(properties["state"]);
        }
    } else if (kind == "removed") {
        for (const auto& name : event["interfaces"])
            line += " " + shortInterface(name.get<std::string>());
    } else if (kind == "changed") {
        line += " " + shortInterface(text(event, "interface"));
        for (const auto& [name, value] : event["changed"].items())
            line += " " + name + "=" + compact(value);
        for (const auto& name : event.value("invalidated", json::array()))
            line += " " + name.get<std::string>() + "=?";
    } else if (kind == "refresh-due") {
        line += " reason=" + text(event, "reason");
    } else if (kind == "started") {
        line += event.contains("owner") ? " owner=" + text(event, "owner")
                                        : std::string(" (imsakad is not running)");
    } else if (kind == "daemon-started") {
        line += " owner=" + text(event, "owner");
    }
    return line;
}

}  // namespace imsaka::ctl
