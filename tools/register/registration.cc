#include "registration.h"

#include <imsaka/dbus/Manager1_proxy.h>
#include <sdbus-c++/StandardInterfaces.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace imsaka::reg {
namespace {

constexpr const char* kService = "org.imsaka";
constexpr const char* kRoot = "/org/imsaka";

class Manager final : public sdbus::ProxyInterfaces<org::imsaka::Manager1_proxy> {
  public:
    explicit Manager(sdbus::IConnection& bus) : ProxyInterfaces(bus, kService, kRoot) {
        registerProxy();
    }
    ~Manager() { unregisterProxy(); }
};

class Objects final : public sdbus::ProxyInterfaces<sdbus::ObjectManager_proxy> {
  public:
    explicit Objects(sdbus::IConnection& bus) : ProxyInterfaces(bus, kService, kRoot) {
        registerProxy();
    }
    ~Objects() { unregisterProxy(); }

  private:
    void onInterfacesAdded(
        const sdbus::ObjectPath&,
        const std::map<std::string, std::map<std::string, sdbus::Variant>>&) override {}
    void onInterfacesRemoved(const sdbus::ObjectPath&, const std::vector<std::string>&) override {}
};

template <typename Value>
Value field(const DbusRequest& request, const char* name) {
    auto found = request.find(name);
    if (found == request.end()) return Value{};
    return found->second.get<Value>();
}

// The first Card1 whose State is not "absent", in card number order; "" when none (the
// daemon then says which error applies).
std::string firstPresentCard(sdbus::IConnection& bus) {
    std::vector<std::pair<unsigned long, std::string>> present;
    for (const auto& [path, interfaces] : Objects(bus).GetManagedObjects()) {
        auto card = interfaces.find("org.imsaka.Card1");
        if (card == interfaces.end()) continue;
        auto state = card->second.find("State");
        if (state == card->second.end() || state->second.get<std::string>() == "absent") continue;
        const std::string& text = path;
        present.emplace_back(std::strtoul(text.c_str() + text.rfind('/') + 1, nullptr, 10), text);
    }
    if (present.empty()) return "";
    return std::min_element(present.begin(), present.end())->second;
}

sdbus::Variant cardOption(const std::string& card) {
    if (!card.empty() && std::all_of(card.begin(), card.end(), ::isdigit))
        return sdbus::Variant(sdbus::ObjectPath("/org/imsaka/card/" + card));
    if (card.starts_with('/')) return sdbus::Variant(sdbus::ObjectPath(card));
    return sdbus::Variant(card);  // a reader name
}

}  // namespace

Step toStep(const std::tuple<std::string, DbusRequest>& reply) {
    const auto& [next, request] = reply;
    Step step;
    step.next = next;
    if (next != "send") return step;
    step.uri = field<std::string>(request, "uri");
    for (const auto& header :
         field<std::vector<sdbus::Struct<std::string, std::string>>>(request, "headers"))
        step.headers.emplace_back(header.get<0>(), header.get<1>());
    step.transport = field<std::string>(request, "transport");
    step.local = {field<std::string>(request, "local_address"),
                  field<uint16_t>(request, "local_port")};
    step.remote = {field<std::string>(request, "remote_address"),
                   field<uint16_t>(request, "remote_port")};
    step.isProtected = field<bool>(request, "protected");
    return step;
}

std::unique_ptr<sdbus::IConnection> connectToBus(const std::string& address) {
    // As imsakactl: sdbus-c++ 1.2 leaks when a custom address fails, the system-bus path
    // does not and reads DBUS_SYSTEM_BUS_ADDRESS.
    if (!address.empty() && setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1) != 0)
        throw std::system_error(errno, std::generic_category(), "setenv");
    return sdbus::createSystemBusConnection();
}

std::string createRegistration(sdbus::IConnection& bus, const RegistrationOptions& options) {
    DbusRequest dbusOptions;
    std::string card = options.card.empty() ? firstPresentCard(bus) : options.card;
    if (!card.empty()) dbusOptions["card"] = cardOption(card);
    auto text = [&](const char* key, const std::string& value) {
        if (!value.empty()) dbusOptions[key] = sdbus::Variant(value);
    };
    text("impu", options.impu);
    text("pcscf", options.pcscf);
    text("local_address", options.localAddress);
    text("transport", options.transport);
    if (options.pcscfPort) dbusOptions["pcscf_port"] = sdbus::Variant(*options.pcscfPort);
    if (options.regId) dbusOptions["reg_id"] = sdbus::Variant(*options.regId);
    if (options.expires) dbusOptions["expires"] = sdbus::Variant(*options.expires);
    if (!options.integrity.empty()) dbusOptions["integrity"] = sdbus::Variant(options.integrity);
    if (!options.encryption.empty()) dbusOptions["encryption"] = sdbus::Variant(options.encryption);
    if (!options.featureTags.empty())
        dbusOptions["feature_tags"] = sdbus::Variant(options.featureTags);
    if (!options.headers.empty()) {
        std::vector<sdbus::Struct<std::string, std::string>> headers;
        for (const auto& [name, value] : options.headers) headers.emplace_back(name, value);
        dbusOptions["headers"] = sdbus::Variant(headers);
    }
    return Manager(bus).CreateRegistration(dbusOptions);
}

Registration::Registration(sdbus::IConnection& bus, const std::string& path)
    : ProxyInterfaces(bus, kService, path) {
    registerProxy();
}

Registration::~Registration() {
    unregisterProxy();
}

}  // namespace imsaka::reg
