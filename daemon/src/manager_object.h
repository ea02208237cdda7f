// org.imsaka.Manager1 and the ObjectManager at /org/imsaka: creates registrations for
// their callers, keeps the per-client quota, and closes a client's registrations when it
// leaves the bus.
#pragma once

#include <imsaka/dbus/Manager1_adaptor.h>
#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <string>

#include "card_manager.h"
#include "imsaka/daemon/config.h"
#include "pcscf_resolver.h"
#include "registration_object.h"
#include "registration_options.h"

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
    // A CreateRegistration waiting for its P-CSCF lookup.
    struct Creation {
        std::string owner;
        sdbus::Result<sdbus::ObjectPath> reply;
        std::string cardPath;
        RegistrationConfig config;
        RegistrationOptions options;
        bool literalsOnly = false;  // no name to resolve among the P-CSCFs
        PcscfResolver::Id lookup = 0;
    };

    void CreateRegistration(sdbus::Result<sdbus::ObjectPath>&& result,
                            std::map<std::string, sdbus::Variant> options) override;
    void created(unsigned creation, PcscfResolver::Result resolved);
    sdbus::ObjectPath addRegistration(Creation& creation,
                                      const std::vector<resolver::Target>& resolved);
    std::string Version() override;
    std::string InstanceId() override { return config_.instanceId; }
    uint32_t MaxRegistrationsPerClient() override { return config_.maxRegistrationsPerClient; }

    void onNameOwnerChanged(sdbus::Message& signal);
    void closeOwnedBy(const std::string& owner);
    void reportStatus();  // STATUS= for systemd
    // Everything but the P-CSCF, the local address and the transport, which wait for the
    // lookup; entries gets the P-CSCFs to resolve (the option's, or the card's).
    RegistrationConfig registrationConfig(const RegistrationOptions& parsed, std::string& cardPath,
                                          std::vector<std::string>& entries);

    sdbus::IConnection& connection_;
    EventLoop& loop_;
    const DaemonConfig& config_;
    SecurityManager& security_;
    CardManager& cards_;
    unsigned nextNumber_ = 0;
    std::map<unsigned, std::unique_ptr<RegistrationObject>> registrations_;
    PcscfResolver resolver_;
    unsigned nextCreation_ = 0;
    std::map<unsigned, Creation> creations_;
    sdbus::Slot nameWatch_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace imsaka::daemon
