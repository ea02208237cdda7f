#include "imsaka/daemon/config.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "algorithm_lists.h"
#include "imsaka/ipsec/address.h"
#include "ini_file.h"

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

// "192.0.2.53", "192.0.2.53:5353", "2001:db8::53" or "[2001:db8::53]:5353".
std::string parseDnsServer(const std::string& server) {
    std::string address = server;
    std::string_view port;
    if (server.starts_with('[')) {
        auto close = server.find(']');
        if (close == std::string::npos) throw std::invalid_argument("missing ] in " + server);
        address = server.substr(1, close - 1);
        if (close + 1 < server.size()) {
            if (server[close + 1] != ':') throw std::invalid_argument("expected :port after ]");
            port = std::string_view(server).substr(close + 2);
        }
    } else if (auto colon = server.find(':');
               colon != std::string::npos && colon == server.rfind(':')) {
        address = server.substr(0, colon);
        port = std::string_view(server).substr(colon + 1);
    }
    if (!ipsec::IpAddress::parse(address))
        throw std::invalid_argument(server + " is not an IP address (with an optional port)");
    if (!port.empty() || server.ends_with(':')) parseNumber<uint16_t>(port, 1, 65535);
    return server;
}

Seconds parseSeconds(std::string_view value) {
    return Seconds(parseNumber<uint32_t>(value, 1, 7 * 24 * 3600));
}

bool groupExists(const std::string& name) {
    std::vector<char> buffer(16384);
    struct group entry;
    struct group* found = nullptr;
    return getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found;
}

AuthenticateAccess parseAccess(std::string_view value) {
    value = trim(value);
    if (value == "root") return AuthenticateAccess::Root;
    if (value == "group") return AuthenticateAccess::Group;
    throw std::invalid_argument("expected root or group");
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
          {"retry_base",
           [](DaemonConfig& c, std::string_view v) { c.timers.retryBase = parseSeconds(v); }},
          {"retry_max",
           [](DaemonConfig& c, std::string_view v) { c.timers.retryMax = parseSeconds(v); }},
          {"retiring_grace",
           [](DaemonConfig& c, std::string_view v) { c.timers.retiringGrace = parseSeconds(v); }}}},
        {"interop",
         {{"profile",
           [](DaemonConfig& c, std::string_view v) {
               v = trim(v);
               if (v == "standard")
                   c.interop = InteropProfile::Standard;
               else if (v == "kamailio-5.6")
                   c.interop = InteropProfile::Kamailio56;
               else
                   throw std::invalid_argument("expected standard or kamailio-5.6");
           }}}},
        {"access",
         {{"group",
           [](DaemonConfig& c, std::string_view v) {
               v = trim(v);
               if (v.empty() || v.find_first_of(" \t,:") != std::string_view::npos)
                   throw std::invalid_argument("expected a group name");
               if (!groupExists(std::string(v)))
                   throw std::invalid_argument("no such group on this host");
               c.group = std::string(v);
           }},
          {"authenticate",
           [](DaemonConfig& c, std::string_view v) { c.authenticate = parseAccess(v); }},
          {"pin", [](DaemonConfig& c, std::string_view v) { c.pin = parseAccess(v); }}}},
        {"limits",
         {{"max_registrations_per_user",
           [](DaemonConfig& c, std::string_view v) {
               c.maxRegistrationsPerUser = parseNumber<uint32_t>(v, 1, 1024);
           }},
          {"max_registrations",
           [](DaemonConfig& c, std::string_view v) {
               c.maxRegistrations = parseNumber<uint32_t>(v, 1, 1024);
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
        {"dns",
         {{"servers",
           [](DaemonConfig& c, std::string_view v) {
               c.dnsServers.clear();
               for (const auto& server : splitList(v))
                   c.dnsServers.push_back(parseDnsServer(server));
           }},
          {"timeout",
           [](DaemonConfig& c, std::string_view v) {
               c.dnsTimeout = Seconds(parseNumber<uint32_t>(v, 1, 20));
           }}}},
    };
    return table;
}

// A value as it appears in an error message: quoted, and shortened when long.
std::string quoted(const std::string& value) {
    constexpr size_t kShown = 60;
    if (value.size() <= kShown) return "\"" + value + "\"";
    return "\"" + value.substr(0, kShown) + "...\" (" + std::to_string(value.size()) +
           " characters)";
}

std::string atLine(unsigned line) {
    return line ? " (line " + std::to_string(line) + ")" : " (default)";
}

// Applies the settings of a file: every section and key must be known and set once.
struct Parser {
    DaemonConfig config;
    std::string origin;
    std::map<std::string, unsigned> lines;  // "section key" -> line, for what was set

    void apply(const IniSection& section) {
        if (section.name.empty()) {
            const auto& first = section.values.front();
            throw ConfigError(ConfigErrc::UnknownSection, origin + ":" + std::to_string(first.line),
                              first.key + ": a key before the first [section]");
        }
        auto sectionEntry = keys().find(section.name);
        if (sectionEntry == keys().end())
            throw ConfigError(ConfigErrc::UnknownSection,
                              section.values.empty()
                                  ? origin
                                  : origin + ":" + std::to_string(section.values.front().line),
                              "unknown section [" + section.name + "]");
        for (const auto& setting : section.values) {
            auto where = origin + " [" + section.name + "] " + setting.key;
            auto keyEntry = sectionEntry->second.find(setting.key);
            if (keyEntry == sectionEntry->second.end())
                throw ConfigError(ConfigErrc::UnknownKey, where,
                                  "unknown key" + atLine(setting.line));
            auto [known, added] = lines.emplace(section.name + " " + setting.key, setting.line);
            if (!added)
                throw ConfigError(ConfigErrc::Duplicate, where,
                                  "set twice (lines " + std::to_string(known->second) + " and " +
                                      std::to_string(setting.line) + ")");
            try {
                keyEntry->second(config, setting.value);
            } catch (const std::invalid_argument& e) {
                throw ConfigError(
                    ConfigErrc::BadValue, where,
                    "bad value " + quoted(setting.value) + ": " + e.what() + atLine(setting.line));
            }
        }
    }

    unsigned lineOf(const std::string& sectionAndKey) const {
        auto found = lines.find(sectionAndKey);
        return found == lines.end() ? 0 : found->second;
    }
};

void checkConsistency(const Parser& parsed) {
    const auto& config = parsed.config;
    const auto& origin = parsed.origin;
    if (config.spiMin > config.spiMax)
        throw ConfigError(ConfigErrc::Inconsistent, origin + " [security]",
                          "spi_min is above spi_max");
    // Each registration needs two ports (port_uc, port_us), and a refresh overlaps the old
    // set with a new one.
    if (config.portMin > config.portMax || config.portMax - config.portMin < 3)
        throw ConfigError(ConfigErrc::Inconsistent, origin + " [security]",
                          "port_min..port_max must hold at least four ports");
    const auto& timers = config.timers;
    // A registration longer than the threshold is refreshed margin seconds before it
    // expires; a margin beyond the threshold would refresh some at once.
    if (timers.refreshMargin > timers.refreshThreshold)
        throw ConfigError(ConfigErrc::Inconsistent, origin + " [timers] refresh_margin",
                          std::to_string(timers.refreshMargin.count()) +
                              atLine(parsed.lineOf("timers refresh_margin")) +
                              " is above refresh_threshold, " +
                              std::to_string(timers.refreshThreshold.count()) +
                              atLine(parsed.lineOf("timers refresh_threshold")));
    // The temporary SA set lives reg_await_auth seconds: the REGISTER sent over it may wait
    // timer_f for its answer, which must still find the set there.
    if (timers.timerF > timers.regAwaitAuth)
        throw ConfigError(
            ConfigErrc::Inconsistent, origin + " [timers] timer_f",
            std::to_string(timers.timerF.count()) + atLine(parsed.lineOf("timers timer_f")) +
                " is longer than reg_await_auth, " + std::to_string(timers.regAwaitAuth.count()) +
                atLine(parsed.lineOf("timers reg_await_auth")) +
                ": the temporary SA set would go before the answer it waits for");
    if (config.maxRegistrationsPerUser > config.maxRegistrations)
        throw ConfigError(ConfigErrc::Inconsistent, origin + " [limits]",
                          "max_registrations_per_user is above max_registrations");
    if (config.timers.retryBase > config.timers.retryMax)
        throw ConfigError(ConfigErrc::Inconsistent, origin + " [timers]",
                          "retry_base is above retry_max");
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

std::string_view toString(InteropProfile profile) {
    return profile == InteropProfile::Kamailio56 ? "kamailio-5.6" : "standard";
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
        case ConfigErrc::Duplicate:
            return "Duplicate";
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
    for (const auto& section : readIni(text, origin)) parser.apply(section);
    checkConsistency(parser);
    return parser.config;
}

DaemonConfig loadConfig(const std::string& path, bool missingIsDefault) {
    // Larger than any sensible configuration: a wrong file, not one to read into memory.
    constexpr off_t kMaxSize = 1 << 20;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && missingIsDefault) return DaemonConfig{};
        throw ConfigError(ConfigErrc::Unreadable, path, std::strerror(errno));
    }
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{fd};
    struct stat file;
    if (fstat(fd, &file) != 0)
        throw ConfigError(ConfigErrc::Unreadable, path, std::strerror(errno));
    if (S_ISDIR(file.st_mode))
        throw ConfigError(ConfigErrc::Unreadable, path, "a directory, not a configuration file");
    if (S_ISREG(file.st_mode) && file.st_size > kMaxSize)
        throw ConfigError(ConfigErrc::Unreadable, path, "larger than 1 MiB");
    std::string text;
    char chunk[65536];
    while (true) {
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw ConfigError(ConfigErrc::Unreadable, path, std::strerror(errno));
        if (got == 0) break;
        text.append(chunk, static_cast<size_t>(got));
        if (text.size() > static_cast<size_t>(kMaxSize))
            throw ConfigError(ConfigErrc::Unreadable, path, "larger than 1 MiB");
    }
    return parseConfig(text, path);
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
