#include "bus.h"

#include <imsaka/dbus/Card1_proxy.h>
#include <imsaka/dbus/SecurityAssociation1_proxy.h>
#include <sdbus-c++/StandardInterfaces.h>

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

class CardClient final : public sdbus::ProxyInterfaces<org::imsaka::Card1_proxy> {
  public:
    CardClient(sdbus::IConnection& connection, const std::string& path)
        : ProxyInterfaces(connection, kService, path) {
        registerProxy();
    }
    ~CardClient() { unregisterProxy(); }
};

class SaSetClient final : public sdbus::ProxyInterfaces<org::imsaka::SecurityAssociation1_proxy> {
  public:
    SaSetClient(sdbus::IConnection& connection, const std::string& path)
        : ProxyInterfaces(connection, kService, path) {
        registerProxy();
    }
    ~SaSetClient() { unregisterProxy(); }
};

}  // namespace

Bus::Bus(const std::string& address)
    : connection_(address.empty() ? sdbus::createSystemBusConnection()
                                  : sdbus::createSessionBusConnectionWithAddress(address)) {}

ManagedObjects Bus::managedObjects() {
    return ObjectManagerClient(*connection_).GetManagedObjects();
}

std::vector<Counter> Bus::counters(const std::string& saSetPath) {
    return SaSetClient(*connection_, saSetPath).GetCounters();
}

uint8_t Bus::verifyPin(const std::string& cardPath, const std::string& pin) {
    return CardClient(*connection_, cardPath).VerifyPin(pin);
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
