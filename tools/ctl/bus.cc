#include "bus.h"

#include <imsaka/dbus/Card1_proxy.h>
#include <imsaka/dbus/SecurityAssociation1_proxy.h>
#include <sdbus-c++/StandardInterfaces.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace imsaka::ctl {

namespace {

// The generated proxies are mixins; these hold one object's proxy for one call. Signals are
// not used here (monitor.cc subscribes by match rule), so the handlers do nothing.
class ObjectManagerClient final : public sdbus::ProxyInterfaces<sdbus::ObjectManager_proxy> {
  public:
    explicit ObjectManagerClient(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, kService, kRootPath) {
        registerProxy();
    }
    ~ObjectManagerClient() { unregisterProxy(); }

  private:
    void onInterfacesAdded(const sdbus::ObjectPath&, const Interfaces&) override {}
    void onInterfacesRemoved(const sdbus::ObjectPath&, const std::vector<std::string>&) override {}
};

// A proxy of one interface without signals (Card1, SecurityAssociation1) on one object.
template <typename Interface>
class Client final : public sdbus::ProxyInterfaces<Interface> {
  public:
    Client(sdbus::IConnection& connection, const std::string& path)
        : sdbus::ProxyInterfaces<Interface>(connection, kService, path) {
        this->registerProxy();
    }
    ~Client() { this->unregisterProxy(); }
};

// sdbus-c++ 1.2 leaks the sd_bus object when a connection to a custom address fails; the
// system-bus path cleans up after itself and reads DBUS_SYSTEM_BUS_ADDRESS like any sd-bus
// program, so --address goes through it.
std::unique_ptr<sdbus::IConnection> connect(const std::string& address) {
    if (!address.empty() && setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1) != 0)
        throw std::system_error(errno, std::generic_category(), "setenv");
    return sdbus::createSystemBusConnection();
}

}  // namespace

Bus::Bus(const std::string& address) : connection_(connect(address)) {}

ManagedObjects Bus::managedObjects() {
    return ObjectManagerClient(*connection_).GetManagedObjects();
}

std::vector<Counter> Bus::counters(const std::string& saSetPath) {
    return Client<org::imsaka::SecurityAssociation1_proxy>(*connection_, saSetPath).GetCounters();
}

uint8_t Bus::verifyPin(const std::string& cardPath, const std::string& pin) {
    return Client<org::imsaka::Card1_proxy>(*connection_, cardPath).VerifyPin(pin);
}

void Bus::unblockPin(const std::string& cardPath, const std::string& puk,
                     const std::string& newPin) {
    Client<org::imsaka::Card1_proxy>(*connection_, cardPath).UnblockPin(puk, newPin);
}

std::optional<std::string> Bus::daemonOwner() {
    auto proxy = sdbus::createProxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    try {
        std::string owner;
        proxy->callMethod("GetNameOwner")
            .onInterface("org.freedesktop.DBus")
            .withArguments(std::string(kService))
            .storeResultsTo(owner);
        return owner;
    } catch (const sdbus::Error& error) {
        if (error.getName() == "org.freedesktop.DBus.Error.NameHasNoOwner") return std::nullopt;
        throw;
    }
}

}  // namespace imsaka::ctl
