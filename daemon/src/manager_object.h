// org.imsaka.Manager1 and the ObjectManager at /org/imsaka: creates registrations for
// their callers, keeps the per-client quota, and closes a client's registrations when it
// leaves the bus.
#pragma once

#include <imsaka/dbus/Manager1_adaptor.h>
#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <optional>
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
    uint32_t MaxRegistrationsPerClient() override { return config_.maxRegistrationsPerClient; }

    void onNameOwnerChanged(sdbus::Message& signal);
    void closeOwnedBy(const std::string& owner);
    void reportStatus();  // STATUS= for systemd
    RegistrationConfig registrationConfig(const std::map<std::string, sdbus::Variant>& options,
                                          std::string& cardPath);
    // RFC 5626 flows: the lowest reg-id no registration of this identity holds, and why a
    // flow may not register (a registered flow of its identity and card without outbound).
    uint32_t freeRegId(const std::string& impu) const;
    std::optional<DaemonError> refuseFlow(const RegistrationObject& candidate) const;

    sdbus::IConnection& connection_;
    EventLoop& loop_;
    const DaemonConfig& config_;
    SecurityManager& security_;
    CardManager& cards_;
    unsigned nextNumber_ = 0;
    std::map<unsigned, std::unique_ptr<RegistrationObject>> registrations_;
    sdbus::Slot nameWatch_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace imsaka::daemon
