#include "registration_options.h"

#include "algorithm_lists.h"
#include "imsaka/daemon/errors.h"
#include "imsaka/ipsec/address.h"
#include "imsaka/resolver/rfc3263.h"

namespace imsaka::daemon {

namespace {

[[noreturn]] void bad(const std::string& key, const std::string& why) {
    throw DaemonError(DaemonErrc::InvalidArguments, "option " + key + ": " + why);
}

template <typename T>
T get(const std::string& key, const sdbus::Variant& value, const char* type) {
    if (!value.containsValueOfType<T>()) bad(key, std::string("expected type ") + type);
    return value.get<T>();
}

std::string ipLiteral(const std::string& key, const sdbus::Variant& value) {
    auto text = get<std::string>(key, value, "s");
    if (!ipsec::IpAddress::parse(text)) bad(key, "not an IPv4 or IPv6 address: " + text);
    return text;
}

// "192.0.2.1", "192.0.2.1:5060", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:5060",
// "pcscf.example.net" or "pcscf.example.net:5060".
PcscfEntry pcscfEntry(const std::string& key, const std::string& text) {
    auto isAddress = [](const std::string& address) {
        return ipsec::IpAddress::parse(address).has_value() || resolver::isHostName(address);
    };
    if (isAddress(text)) return {text, std::nullopt};
    std::string address = text;
    std::string port;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string::npos) bad(key, "unclosed [ in " + text);
        address = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') bad(key, "expected :port after ] in " + text);
            port = text.substr(close + 2);
            if (port.empty()) bad(key, "no port after : in " + text);
        }
    } else if (auto colon = text.find(':');
               colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
        address = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (!isAddress(address)) bad(key, "neither an IPv4 or IPv6 address nor a host name: " + text);
    if (port.empty()) return {address, std::nullopt};
    unsigned long number = 0;
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        (number = std::stoul(port)) == 0 || number > 65535)
        bad(key, "bad port in " + text);
    return {address, static_cast<uint16_t>(number)};
}

// feature_tags (as) and headers (a(ss)): what the application adds to its REGISTERs.
bool parseAddition(const std::string& key, const sdbus::Variant& value, RegistrationUpdate& into) {
    if (key == "feature_tags") {
        into.featureTags = get<std::vector<std::string>>(key, value, "as");
        return true;
    }
    if (key == "headers") {
        auto pairs = get<std::vector<sdbus::Struct<std::string, std::string>>>(key, value, "a(ss)");
        into.extraHeaders.emplace();
        for (auto& pair : pairs) into.extraHeaders->emplace_back(pair.get<0>(), pair.get<1>());
        return true;
    }
    return false;
}

}  // namespace

RegistrationUpdate parseRegistrationUpdate(const std::map<std::string, sdbus::Variant>& changes) {
    RegistrationUpdate update;
    for (const auto& [key, value] : changes)
        if (!parseAddition(key, value, update)) bad(key, "unknown option");
    return update;
}

RegistrationOptions parseRegistrationOptions(const std::map<std::string, sdbus::Variant>& options) {
    RegistrationOptions parsed;
    for (const auto& [key, value] : options) {
        if (key == "card") {
            if (value.containsValueOfType<sdbus::ObjectPath>())
                parsed.card = std::string(value.get<sdbus::ObjectPath>());
            else
                parsed.card = get<std::string>(key, value, "s or o");
        } else if (key == "impu") {
            auto impu = get<std::string>(key, value, "s");
            if (!impu.starts_with("sip:") && !impu.starts_with("sips:") &&
                !impu.starts_with("tel:"))
                bad(key, "expected a sip:, sips: or tel: URI");
            parsed.impu = impu;
        } else if (key == "pcscf") {
            std::vector<std::string> entries;
            if (value.containsValueOfType<std::string>())
                entries.push_back(value.get<std::string>());
            else
                entries = get<std::vector<std::string>>(key, value, "s or as");
            if (entries.empty()) bad(key, "an empty list");
            parsed.pcscfs.emplace();
            for (const auto& entry : entries) parsed.pcscfs->push_back(pcscfEntry(key, entry));
        } else if (key == "pcscf_port") {
            auto port = get<uint16_t>(key, value, "q");
            if (port == 0) bad(key, "port 0");
            parsed.pcscfPort = port;
        } else if (key == "local_address") {
            parsed.localAddress = ipLiteral(key, value);
        } else if (key == "transport") {
            auto transport = get<std::string>(key, value, "s");
            if (transport == "udp")
                parsed.transport = Transport::Udp;
            else if (transport == "tcp")
                parsed.transport = Transport::Tcp;
            else
                bad(key, "expected udp or tcp");
        } else if (key == "reg_id") {
            auto regId = get<uint32_t>(key, value, "u");
            if (regId == 0) bad(key, "reg-id starts at 1");
            parsed.regId = regId;
        } else if (key == "expires") {
            auto expires = get<uint32_t>(key, value, "u");
            if (expires == 0) bad(key, "use Deregister to end a registration");
            parsed.expires = expires;
        } else if (key == "integrity" || key == "encryption") {
            auto names = get<std::vector<std::string>>(key, value, "as");
            try {
                if (key == "integrity")
                    parsed.integrity = integrityList(names);
                else
                    parsed.encryption = encryptionList(names);
            } catch (const std::invalid_argument& e) {
                bad(key, e.what());
            }
        } else {
            RegistrationUpdate addition;
            if (!parseAddition(key, value, addition)) bad(key, "unknown option");
            if (addition.featureTags) parsed.featureTags = std::move(addition.featureTags);
            if (addition.extraHeaders) parsed.extraHeaders = std::move(addition.extraHeaders);
        }
    }
    return parsed;
}

}  // namespace imsaka::daemon
