// imsakactl's side of the bus: one connection, and the calls it makes to imsakad through the
// generated proxies and the standard ObjectManager.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "view.h"

namespace imsaka::ctl {

class Bus {
  public:
    // An empty address means the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the default
    // socket). Throws sdbus::Error when the bus cannot be reached.
    explicit Bus(const std::string& address);

    sdbus::IConnection& connection() { return *connection_; }

    ManagedObjects managedObjects();
    std::vector<Counter> counters(const std::string& saSetPath);
    uint8_t verifyPin(const std::string& cardPath, const std::string& pin);
    void unblockPin(const std::string& cardPath, const std::string& puk, const std::string& newPin);
    // The unique name that owns org.imsaka, or nothing when the daemon is not running.
    std::optional<std::string> daemonOwner();

  private:
    std::unique_ptr<sdbus::IConnection> connection_;
};

}  // namespace imsaka::ctl
