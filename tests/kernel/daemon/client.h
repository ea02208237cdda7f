// A D-Bus client of imsakad for the tests, through the proxies generated from dbus/*.xml,
// and the steps of a registration driven against the test network.
#pragma once

#include <imsaka/dbus/Card1_proxy.h>
#include <imsaka/dbus/Manager1_proxy.h>
#include <imsaka/dbus/Registration1_proxy.h>
#include <imsaka/dbus/SecurityAssociation1_proxy.h>
#include <sdbus-c++/sdbus-c++.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imsaka/testing/ims_network.h"

namespace imsaka::daemontest {

inline constexpr const char* kService = "org.imsaka";

// For interfaces without signals.
template <typename Interface>
class Proxy final : public sdbus::ProxyInterfaces<Interface> {
  public:
    Proxy(sdbus::IConnection& connection, const std::string& path)
        : sdbus::ProxyInterfaces<Interface>(connection, kService, path) {
        this->registerProxy();
    }
    ~Proxy() { this->unregisterProxy(); }
};

class RegistrationProxy final : public sdbus::ProxyInterfaces<org::imsaka::Registration1_proxy> {
  public:
    RegistrationProxy(sdbus::IConnection& connection, const std::string& path)
        : ProxyInterfaces(connection, kService, path) {
        registerProxy();
    }
    ~RegistrationProxy() { unregisterProxy(); }

  private:
    void onRefreshDue(const std::string&) override {}
};

class ObjectsProxy final : public sdbus::ProxyInterfaces<sdbus::ObjectManager_proxy> {
  public:
    explicit ObjectsProxy(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, kService, "/org/imsaka") {
        registerProxy();
    }
    ~ObjectsProxy() { unregisterProxy(); }

  private:
    void onInterfacesAdded(
        const sdbus::ObjectPath&,
        const std::map<std::string, std::map<std::string, sdbus::Variant>>&) override {}
    void onInterfacesRemoved(const sdbus::ObjectPath&, const std::vector<std::string>&) override {}
};

using ManagerProxy = Proxy<org::imsaka::Manager1_proxy>;
using CardProxy = Proxy<org::imsaka::Card1_proxy>;
using SecurityAssociationProxy = Proxy<org::imsaka::SecurityAssociation1_proxy>;

using Options = std::map<std::string, sdbus::Variant>;
using Request = std::map<std::string, sdbus::Variant>;

// What Register, HandleResponse and the like return.
struct Step {
    std::string next;
    Request request;

    testing::SipHeaders headers() const;
    std::string uri() const;
    bool protectedBySa() const;
    uint16_t localPort() const;
    uint16_t remotePort() const;
    std::string remoteAddress() const;
};
Step step(std::tuple<std::string, Request> reply);

std::vector<sdbus::Struct<std::string, std::string>> toDbus(const testing::SipHeaders& headers);

// The Card1 object of a reader once it is "ready" (waits up to timeout).
std::string waitForReadyCard(sdbus::IConnection& connection, const std::string& reader,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));

// The SecurityAssociation1 objects under a registration.
std::vector<std::string> saObjects(sdbus::IConnection& connection, const std::string& registration);

// The addresses the tests use: two UE addresses here, and the P-CSCF's on the other end of
// a veth pair, in the namespace imsaka-pcscf (made once per network namespace). The same
// three exist in IPv6: fd46::1, fd46::3, fd46::2.
inline constexpr const char* kUeAddress = "10.46.0.1";
inline constexpr const char* kUeAddress2 = "10.46.0.3";
inline constexpr const char* kPcscfAddress = "10.46.0.2";
void setUpTestNetwork();
// A raw ESP socket at the P-CSCF's end (in imsaka-pcscf), to see what arrives on the wire.
int pcscfEspSocket();
// Sends one UDP datagram on `socket` to the P-CSCF's `port`; returns sendto()'s result.
ssize_t sendToPcscf(int socket, uint16_t port, std::string_view payload);
// The SPI of the next ESP packet on that socket, or nothing within timeout.
std::optional<uint32_t> nextEspSpi(int socket, std::chrono::milliseconds timeout);

// The D-Bus error name of a call that failed, or "" when it did not fail.
template <typename Call>
std::string errorNameOf(Call&& call) {
    try {
        call();
    } catch (const sdbus::Error& error) {
        return error.getName();
    }
    return "";
}

}  // namespace imsaka::daemontest
