// org.imsaka.SecurityAssociation1 for one installed SA set.
#pragma once

#include <imsaka/dbus/SecurityAssociation1_adaptor.h>
#include <sdbus-c++/sdbus-c++.h>

#include <memory>
#include <string>

#include "imsaka/daemon/engine.h"
#include "security_manager.h"

namespace imsaka::daemon {

class SaObject final
    : public sdbus::AdaptorInterfaces<::org::imsaka::SecurityAssociation1_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
  public:
    SaObject(sdbus::IConnection& connection, std::string path, SecurityManager& security,
             std::unique_ptr<InstalledSet> set, SaSetState state);
    ~SaObject();  // retires the set (SecurityManager::retire)

    // InterfacesAdded; the owner calls it once the call that installed the set is answered.
    void announce();
    InstalledSet& set() { return *set_; }
    // Hands the installed set over (to be reclaimed): the object no longer removes it.
    std::unique_ptr<InstalledSet> release() { return std::move(set_); }
    void setState(SaSetState state);
    void setLifetime(Seconds lifetime);
    // Packets received on either inbound SA so far.
    uint64_t inboundPackets();

  private:
    std::vector<sdbus::Struct<std::string, std::string, uint32_t, uint64_t, uint64_t>> GetCounters()
        override;
    std::string State() override { return std::string(toString(state_)); }
    std::string Integrity() override;
    std::string Encryption() override;
    std::string LocalAddress() override { return set_->sa.spec().ue.toString(); }
    std::string PcscfAddress() override { return set_->sa.spec().pcscf.toString(); }
    uint32_t SpiUc() override { return set_->sa.spec().spiUc; }
    uint32_t SpiUs() override { return set_->sa.spec().spiUs; }
    uint32_t SpiPc() override { return set_->sa.spec().spiPc; }
    uint32_t SpiPs() override { return set_->sa.spec().spiPs; }
    uint16_t PortUc() override { return set_->sa.spec().portUc; }
    uint16_t PortUs() override { return set_->sa.spec().portUs; }
    uint16_t PortPc() override { return set_->sa.spec().portPc; }
    uint16_t PortPs() override { return set_->sa.spec().portPs; }
    uint64_t Expires() override { return set_->expiresUnix; }

    SecurityManager& security_;
    std::unique_ptr<InstalledSet> set_;
    SaSetState state_;
    bool announced_ = false;
};

}  // namespace imsaka::daemon
