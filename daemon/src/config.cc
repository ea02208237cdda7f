#include "imsaka/daemon/config.h"

#include <ini.h>
#include <systemd/sd-id128.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "algorithm_lists.h"

namespace imsaka::daemon {

namespace {

std::string_view trim(std::string_view text) {
    const char* blanks = " \t";
    auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    auto last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

// Comma-separated; empty items are an error (a doubled comma is a typo).
std::vector<std::string> splitList(std::string_view value) {
    std::vector<std::string> items;
    if (trim(value).empty()) return items;
    size_t start = 0;
    while (true) {
        auto comma = value.find(',', start);
        auto item =
            trim(value.substr(start, comma == std::string_view::npos ? value.npos : comma - start));
        if (item.empty()) throw std::invalid_argument("empty item in the list");
        items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return items;
}

template <typename Number>
Number parseNumber(std::string_view value, Number min, Number max) {
    value = trim(value);
    int base = 10;
    if (value.starts_with("0x") || value.starts_with("0X")) {
        value.remove_prefix(2);
        base = 16;
    }
    unsigned long long parsed = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed, base);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size())
        throw std::invalid_argument("not a whole number");
    if (parsed < min || parsed > max)
        throw std::invalid_argument("out of range [" + std::to_string(min) + ", " +
                                    std::to_string(max) + "]");
    return static_cast<Number>(parsed);
}

Seconds parseSeconds(std::string_view value) {
    return Seconds(parseNumber<uint32_t>(value, 1, 7 * 24 * 3600));
}

using Setter = std::function<void(DaemonConfig&, std::string_view)>;

const std::map<std::string, std::map<std::string, Setter>>& keys() {
    static const std::map<std::string, std::map<std::string, Setter>> table = {
        {"card",
         {{"readers", [](DaemonConfig& c, std::string_view v) { c.readers = splitList(v); }},
          {"application",
           [](DaemonConfig& c, std::string_view v) {
               v = trim(v);
               if (v == "auto")
                   c.application = ApplicationChoice::Auto;
               else if (v == "isim")
                   c.application = ApplicationChoice::Isim;
               else if (v == "usim")
                   c.application = ApplicationChoice::Usim;
               else
                   throw std::invalid_argument("expected auto, isim or usim");
           }}}},
        {"security",
         {{"integrity",
           [](DaemonConfig& c, std::string_view v) { c.integrity = integrityList(splitList(v)); }},
          {"encryption", [](DaemonConfig& c,
                            std::string_view v) { c.encryption = encryptionList(splitList(v)); }},
          {"spi_min",
           [](DaemonConfig& c, std::string_view v) {
               c.spiMin = parseNumber<uint32_t>(v, 256, 0xffffffff);
           }},
          {"spi_max",
           [](DaemonConfig& c, std::string_view v) {
               c.spiMax = parseNumber<uint32_t>(v, 256, 0xffffffff);
           }},
          {"port_min",
           [](DaemonConfig& c, std::string_view v) {
               c.portMin = parseNumber<uint16_t>(v, 1024, 65535);
           }},
          {"port_max",
           [](DaemonConfig& c, std::string_view v) {
               c.portMax = parseNumber<uint16_t>(v, 1024, 65535);
           }}}},
        {"timers",
         {{"reg_await_auth",
           [](DaemonConfig& c, std::string_view v) { c.timers.regAwaitAuth = parseSeconds(v); }},
          {"timer_f",
           [](DaemonConfig& c, std::string_view v) { c.timers.timerF = parseSeconds(v); }},
          {"max_initial_attempts",
           [](DaemonConfig& c, std::string_view v) {
               c.timers.maxInitialAttempts = parseNumber<unsigned>(v, 1, 100);
           }},
          {"backoff_after_initial",
           [](DaemonConfig& c, std::string_view v) {
               c.timers.backoffAfterInitial = parseSeconds(v);
           }},
          {"backoff_after_reregistration",
           [](DaemonConfig& c, std::string_view v) {
               c.timers.backoffAfterReregistration = parseSeconds(v);
           }},
          {"refresh_margin",
           [](DaemonConfig& c, std::string_view v) { c.timers.refreshMargin = parseSeconds(v); }},
          {"refresh_threshold",
           [](DaemonConfig& c, std::string_view v) {
               c.timers.refreshThreshold = parseSeconds(v);
           }},
          {"sa_grace",
           [](DaemonConfig& c, std::string_view v) { c.timers.saGrace = parseSeconds(v); }},
          {"retiring_grace",
           [](DaemonConfig& c, std::string_view v) { c.timers.retiringGrace = parseSeconds(v); }}}},
        {"access",
         {{"group",
           [](DaemonConfig& c, std::string_view v) {
               v = trim(v);
               if (v.empty() || v.find_first_of(" \t,:") != std::string_view::npos)
                   throw std::invalid_argument("expected a group name");
               c.group = std::string(v);
           }},
          {"authenticate",
           [](DaemonConfig& c, std::string_view v) {
               v = trim(v);
               if (v == "root")
                   c.authenticate = AuthenticateAccess::Root;
               else if (v == "group")
                   c.authenticate = AuthenticateAccess::Group;
               else
                   throw std::invalid_argument("expected root or group");
           }}}},
        {"limits",
         {{"max_registrations_per_client",
           [](DaemonConfig& c, std::string_view v) {
               c.maxRegistrationsPerClient = parseNumber<uint32_t>(v, 1, 1024);
           }}}},
        {"registration",
         {{"instance_id",
           [](DaemonConfig& c, std::string_view v) {
               v = trim(v);
               if (v.size() < 3 || v.front() != '<' || v.back() != '>' ||
                   v.find_first_of(" \t\"") != std::string_view::npos)
                   throw std::invalid_argument("expected <urn:...> in angle brackets");
               c.instanceId = std::string(v);
           }},
          {"expires",
           [](DaemonConfig& c, std::string_view v) {
               c.expires = parseNumber<uint32_t>(v, 60, 0xffffffff);
           }},
          {"max_udp_size",
           [](DaemonConfig& c, std::string_view v) {
               c.maxUdpSize = parseNumber<uint32_t>(v, 500, 65000);
           }},
          {"multiple_registrations",
           [](DaemonConfig& c, std::string_view v) {
               v = trim(v);
               if (v == "yes")
                   c.multipleRegistrations = true;
               else if (v == "no")
                   c.multipleRegistrations = false;
               else
                   throw std::invalid_argument("expected yes or no");
           }}}},
    };
    return table;
}

struct Parser {
    DaemonConfig config;
    std::string origin;
    struct Failure {
        ConfigErrc code;
        std::string where;
        std::string message;
    };
    std::optional<Failure> error;

    static int handle(void* user, const char* section, const char* name, const char* value) {
        auto& self = *static_cast<Parser*>(user);
        if (self.error) return 0;
        auto where = self.origin + " [" + section + "] " + name;
        auto sectionEntry = keys().find(section);
        if (sectionEntry == keys().end()) {
            self.error = Failure{ConfigErrc::UnknownSection, "",
                                 std::string("unknown section [") + section + "]"};
            return 0;
        }
        auto keyEntry = sectionEntry->second.find(name);
        if (keyEntry == sectionEntry->second.end()) {
            self.error = Failure{ConfigErrc::UnknownKey, where, "unknown key"};
            return 0;
        }
        try {
            keyEntry->second(self.config, value);
        } catch (const std::invalid_argument& e) {
            self.error = Failure{ConfigErrc::BadValue, where,
                                 std::string("bad value \"") + value + "\": " + e.what()};
            return 0;
        }
        return 1;
    }
};

void checkConsistency(const DaemonConfig& config, const std::string& origin) {
    if (config.spiMin > config.spiMax)
        throw ConfigError(ConfigErrc::Inconsistent, origin + " [security]",
                          "spi_min is above spi_max");
    // Each registration needs two ports (port_uc, port_us), and a refresh overlaps the old
    // set with a new one.
    if (config.portMin > config.portMax || config.portMax - config.portMin < 3)
        throw ConfigError(ConfigErrc::Inconsistent, origin + " [security]",
                          "port_min..port_max must hold at least four ports");
}

}  // namespace

std::string_view toString(ApplicationChoice choice) {
    switch (choice) {
        case ApplicationChoice::Auto:
            return "auto";
        case ApplicationChoice::Isim:
            return "isim";
        case ApplicationChoice::Usim:
            return "usim";
    }
    return "?";
}

std::string_view toString(ConfigErrc code) {
    switch (code) {
        case ConfigErrc::Unreadable:
            return "Unreadable";
        case ConfigErrc::Syntax:
            return "Syntax";
        case ConfigErrc::UnknownSection:
            return "UnknownSection";
        case ConfigErrc::UnknownKey:
            return "UnknownKey";
        case ConfigErrc::BadValue:
            return "BadValue";
        case ConfigErrc::Inconsistent:
            return "Inconsistent";
    }
    return "?";
}

ConfigError::ConfigError(ConfigErrc code, std::string where, const std::string& message)
    : std::runtime_error(where + ": " + message), code_(code), where_(std::move(where)) {}

DaemonConfig parseConfig(std::string_view text, const std::string& origin) {
    Parser parser;
    parser.origin = origin;
    std::string copy(text);
    int result = ini_parse_string(copy.c_str(), &Parser::handle, &parser);
    if (parser.error) {
        auto& failure = *parser.error;
        if (failure.where.empty()) failure.where = origin + ":" + std::to_string(result);
        throw ConfigError(failure.code, failure.where, failure.message);
    }
    if (result != 0)
        throw ConfigError(ConfigErrc::Syntax, origin + ":" + std::to_string(result),
                          "expected [section], key = value, or a comment");
    checkConsistency(parser.config, origin);
    return parser.config;
}

DaemonConfig loadConfig(const std::string& path, bool missingIsDefault) {
    std::ifstream file(path);
    if (!file) {
        if (errno == ENOENT && missingIsDefault) return DaemonConfig{};
        throw ConfigError(ConfigErrc::Unreadable, path, std::strerror(errno));
    }
    std::stringstream text;
    text << file.rdbuf();
    if (file.bad()) throw ConfigError(ConfigErrc::Unreadable, path, "read failed");
    return parseConfig(text.str(), path);
}

std::string formatInstanceId(const std::array<uint8_t, 16>& uuid) {
    static const char* digits = "0123456789abcdef";
    std::string text = "<urn:uuid:";
    for (size_t i = 0; i < uuid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        text += digits[uuid[i] >> 4];
        text += digits[uuid[i] & 0xf];
    }
    return text + ">";
}

std::string defaultInstanceId() {
    // A fixed application id: the derived id is stable per machine and says nothing about
    // the machine id itself.
    sd_id128_t application;
    const uint8_t bytes[16] = {0x4b, 0x2f, 0x8e, 0x61, 0x0d, 0x3c, 0x47, 0xa5,
                               0x9e, 0x52, 0x17, 0xc4, 0x6a, 0x0b, 0x93, 0xd8};
    std::memcpy(application.bytes, bytes, sizeof bytes);
    sd_id128_t id;
    int rc = sd_id128_get_machine_app_specific(application, &id);
    if (rc < 0)
        throw ConfigError(ConfigErrc::Unreadable, "/etc/machine-id",
                          std::string("no machine id: ") + std::strerror(-rc) +
                              " (set [registration] instance_id)");
    std::array<uint8_t, 16> uuid;
    std::memcpy(uuid.data(), id.bytes, uuid.size());
    return formatInstanceId(uuid);
}

}  // namespace imsaka::daemon
