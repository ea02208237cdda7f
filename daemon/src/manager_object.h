// org.imsaka.Manager1 and the ObjectManager at /org/imsaka: creates registrations for
// their callers, keeps the quotas (per user, and for everyone), and closes a client's
// registrations when it leaves the bus.
#pragma once

#include <imsaka/dbus/Manager1_adaptor.h>
#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <string>

#include "card_manager.h"
#include "imsaka/daemon/config.h"
#include "registration_object.h"

namespace imsaka::daemon {

class ManagerObject final
    : public sdbus::AdaptorInterfaces<::org::imsaka::Manager1_adaptor, sdbus::ObjectManager_adaptor,
                                      sdbus::Properties_adaptor> {
  public:
    ManagerObject(sdbus::IConnection& connection, EventLoop& loop, const DaemonConfig& config,
                  SecurityManager& security, CardManager& cards);
    ~ManagerObject();

    // Ends every registration (SAs removed), as on SIGTERM.
    void closeAll();
    size_t registrations() const { return registrations_.size(); }

  private:
    sdbus::ObjectPath CreateRegistration(
        const std::map<std::string, sdbus::Variant>& options) override;
    std::string Version() override;
    std::string InstanceId() override { return config_.instanceId; }
    uint32_t MaxRegistrationsPerUser() override { return config_.maxRegistrationsPerUser; }
    uint32_t MaxRegistrations() override { return config_.maxRegistrations; }

    void onNameOwnerChanged(sdbus::Message& signal);
    void closeOwnedBy(const std::string& owner);
    // Throws QuotaExceeded when the user, or everyone together, holds the maximum.
    void checkQuota(uid_t uid) const;
    // Takes a closed registration out of the count at once; its object goes from the loop.
    void retire(unsigned number);
    void reportStatus();  // STATUS= for systemd
    RegistrationConfig registrationConfig(const std::map<std::string, sdbus::Variant>& options,
                                          std::string& cardPath);

    sdbus::IConnection& connection_;
    EventLoop& loop_;
    const DaemonConfig& config_;
    SecurityManager& security_;
    CardManager& cards_;
    unsigned nextNumber_ = 0;
    struct Owned {
        std::unique_ptr<RegistrationObject> registration;
        uid_t uid;  // of the owner, for the quota
    };
    std::map<unsigned, Owned> registrations_;
    // Closed, no longer counted, destroyed from the loop once the call that closed them is
    // answered.
    std::vector<std::unique_ptr<RegistrationObject>> retired_;
    sdbus::Slot nameWatch_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace imsaka::daemon
