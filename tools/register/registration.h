// The D-Bus side of imsaka-register: the bus connection, CreateRegistration through the
// Manager1 proxy, and the Registration1 proxy with its RefreshDue signal. Everything here is
// the public API of doc/dbus-api.md, through the proxies generated from dbus/*.xml.
#pragma once

#include <imsaka/dbus/Registration1_proxy.h>
#include <sdbus-c++/sdbus-c++.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sip_message.h"
#include "transport.h"

namespace imsaka::reg {

// CreateRegistration's options; what is empty is left to the daemon.
struct RegistrationOptions {
    std::string card;  // object path, card number or reader name; "" = the first present
    std::string impu;
    std::string pcscf;
    std::optional<uint16_t> pcscfPort;
    std::string localAddress;
    std::string transport;
    std::optional<uint32_t> regId;
    std::optional<uint32_t> expires;
    std::vector<std::string> integrity;
    std::vector<std::string> encryption;
    std::vector<std::string> featureTags;  // Contact feature tags
    Headers headers;                       // extra REGISTER headers
};

using DbusRequest = std::map<std::string, sdbus::Variant>;

// What Register(), HandleResponse() and the like answer: what to do next and, when next is
// "send", the request to send.
struct Step {
    std::string next;
    std::string uri;
    Headers headers;
    std::string transport;
    Endpoint local;
    Endpoint remote;
    bool isProtected = false;
};
Step toStep(const std::tuple<std::string, DbusRequest>& reply);

// An empty address means the system bus.
std::unique_ptr<sdbus::IConnection> connectToBus(const std::string& address);

// Calls CreateRegistration with the options given and returns the object's path.
std::string createRegistration(sdbus::IConnection& bus, const RegistrationOptions& options);

class Registration final : public sdbus::ProxyInterfaces<org::imsaka::Registration1_proxy> {
  public:
    Registration(sdbus::IConnection& bus, const std::string& path);
    ~Registration();

    // The reason of a RefreshDue that came since the last call, if any.
    std::optional<std::string> takeRefresh() { return std::exchange(refresh_, std::nullopt); }

  private:
    void onRefreshDue(const std::string& reason) override { refresh_ = reason; }
    std::optional<std::string> refresh_;
};

}  // namespace imsaka::reg
