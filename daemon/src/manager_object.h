// org.imsaka.Manager1 and the ObjectManager at /org/imsaka: creates registrations for
// their callers, keeps the quotas (per user, and for everyone), and closes a client's
// registrations when it leaves the bus.
#pragma once

#include <imsaka/dbus/Manager1_adaptor.h>
#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <optional>
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
        uid_t uid;  // of the owner, for the quota
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
    bool onBus(const std::string& name);  // whether a bus client is still connected
    sdbus::ObjectPath addRegistration(Creation& creation,
                                      const std::vector<resolver::Target>& resolved);
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
    // Everything but the P-CSCF, the local address and the transport, which wait for the
    // lookup; entries gets the P-CSCFs to resolve (the option's, or the card's).
    RegistrationConfig registrationConfig(const RegistrationOptions& parsed, std::string& cardPath,
                                          std::vector<PcscfEntry>& entries);
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
    struct Owned {
        std::unique_ptr<RegistrationObject> registration;
        uid_t uid;  // of the owner, for the quota
    };
    std::map<unsigned, Owned> registrations_;
    // Closed, no longer counted, destroyed from the loop once the call that closed them is
    // answered.
    std::vector<std::unique_ptr<RegistrationObject>> retired_;
    PcscfResolver resolver_;
    unsigned nextCreation_ = 0;
    std::map<unsigned, Creation> creations_;
    sdbus::Slot nameWatch_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace imsaka::daemon
