#include "sa_object.h"

#include "imsaka/daemon/errors.h"
#include "imsaka/ipsec/keys.h"
#include "quiet_signal.h"

namespace imsaka::daemon {

namespace {
constexpr const char* kInterface = "org.imsaka.SecurityAssociation1";
}

SaObject::SaObject(sdbus::IConnection& connection, std::string path, SecurityManager& security,
                   std::unique_ptr<InstalledSet> set, SaSetState state)
    : AdaptorInterfaces(connection, std::move(path)),
      security_(security),
      set_(std::move(set)),
      state_(state) {
    registerAdaptor();
}

void SaObject::announce() {
    if (announced_) return;
    announced_ = true;
    emitInterfacesAddedSignal({kInterface});
}

SaObject::~SaObject() {
    security_.retire(std::move(set_));
    if (announced_)
        emitQuietly("InterfacesRemoved", [&] { emitInterfacesRemovedSignal({kInterface}); });
    unregisterAdaptor();
}

void SaObject::setState(SaSetState state) {
    if (state == state_) return;
    state_ = state;
    if (announced_)
        emitQuietly("PropertiesChanged",
                    [&] { emitPropertiesChangedSignal(kInterface, {"State"}); });
}

void SaObject::setLifetime(Seconds lifetime) {
    security_.setLifetime(*set_, lifetime);
    if (announced_)
        emitQuietly("PropertiesChanged",
                    [&] { emitPropertiesChangedSignal(kInterface, {"Expires"}); });
}

uint64_t SaObject::inboundPackets() {
    auto counters = security_.counters(*set_);
    return counters[static_cast<size_t>(ipsec::SaId::B)].packets +
           counters[static_cast<size_t>(ipsec::SaId::C)].packets;
}

std::vector<sdbus::Struct<std::string, std::string, uint32_t, uint64_t, uint64_t>>
SaObject::GetCounters() {
    std::array<ipsec::SaCounters, 4> counters;
    try {
        counters = security_.counters(*set_);
    } catch (...) {
        auto error = classify(std::current_exception());
        throw sdbus::Error(std::string(dbusErrorName(error.code())), error.what());
    }
    std::vector<sdbus::Struct<std::string, std::string, uint32_t, uint64_t, uint64_t>> rows;
    const char* names[] = {"A", "B", "C", "D"};
    for (size_t i = 0; i < 4; ++i) {
        auto id = static_cast<ipsec::SaId>(i);
        rows.emplace_back(std::string(names[i]), std::string(set_->sa.inbound(id) ? "in" : "out"),
                          set_->sa.spi(id), counters[i].packets, counters[i].bytes);
    }
    return rows;
}

std::string SaObject::Integrity() {
    return std::string(ipsec::secAgreeName(set_->sa.spec().integrity));
}

std::string SaObject::Encryption() {
    return std::string(ipsec::secAgreeName(set_->sa.spec().encryption));
}

}  // namespace imsaka::daemon
