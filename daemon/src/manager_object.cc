#include "manager_object.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "imsaka/ipsec/address.h"
#include "log.h"
#include "registration_options.h"
#include "socket_address.h"

#ifndef IMSAKA_VERSION
#define IMSAKA_VERSION "0"
#endif

namespace imsaka::daemon {

namespace {

sdbus::Error toDbus(const DaemonError& error) {
    return sdbus::Error(std::string(dbusErrorName(error.code())), error.what());
}

void requireReady(CardObject& card) {
    if (card.ready()) return;
    const auto& state = card.state();
    if (state == "absent") throw DaemonError(DaemonErrc::CardAbsent, "no card in the reader");
    if (state == "pin-required")
        throw DaemonError(DaemonErrc::PinRequired, "the card needs its PIN (Card1.VerifyPin)");
    if (state == "pin-blocked") throw DaemonError(DaemonErrc::PinBlocked, "the PIN is blocked");
    throw DaemonError(DaemonErrc::CardError, "the card is not usable: " + card.lastError());
}

}  // namespace

ManagerObject::ManagerObject(sdbus::IConnection& connection, EventLoop& loop,
                             const DaemonConfig& config, SecurityManager& security,
                             CardManager& cards)
    : AdaptorInterfaces(connection, "/org/imsaka"),
      connection_(connection),
      loop_(loop),
      config_(config),
      security_(security),
      cards_(cards) {
    registerAdaptor();
    nameWatch_ = connection_.addMatch(
        "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
        "member='NameOwnerChanged',path='/org/freedesktop/DBus'",
        [this](sdbus::Message& message) { onNameOwnerChanged(message); });
}

ManagerObject::~ManagerObject() {
    *alive_ = false;
    closeAll();
    unregisterAdaptor();
}

std::string ManagerObject::Version() {
    return IMSAKA_VERSION;
}

void ManagerObject::closeAll() {
    for (auto& [number, registration] : registrations_) registration->closeNow();
    registrations_.clear();
}

void ManagerObject::onNameOwnerChanged(sdbus::Message& signal) {
    std::string name, oldOwner, newOwner;
    signal >> name >> oldOwner >> newOwner;
    if (!name.starts_with(':') || !newOwner.empty()) return;
    closeOwnedBy(name);
}

void ManagerObject::closeOwnedBy(const std::string& owner) {
    for (auto it = registrations_.begin(); it != registrations_.end();) {
        if (it->second->owner() == owner) {
            log::info(it->second->path() + ": owner " + owner + " left the bus");
            it = registrations_.erase(it);
        } else {
            ++it;
        }
    }
    reportStatus();
}

void ManagerObject::reportStatus() {
    sd_notifyf(0, "STATUS=Serving org.imsaka: %zu registrations", registrations_.size());
}

RegistrationConfig ManagerObject::registrationConfig(
    const std::map<std::string, sdbus::Variant>& options, std::string& cardPath) {
    auto parsed = parseRegistrationOptions(options);

    CardObject* card = nullptr;
    if (parsed.card) {
        card = cards_.find(*parsed.card);
        if (!card) card = cards_.find(cards_.pathOfReader(*parsed.card));
        if (!card) throw DaemonError(DaemonErrc::NotFound, "no card " + *parsed.card);
        requireReady(*card);
    } else {
        card = cards_.firstReady();
        if (!card) {
            // Say why the card that is there cannot be used (PIN, error), if there is one.
            if (auto* present = cards_.firstPresent()) requireReady(*present);
            throw DaemonError(DaemonErrc::CardAbsent, "no card in any reader");
        }
    }
    cardPath = card->path();
    const auto& identities = card->identities();

    RegistrationConfig config;
    config.impi = identities.impi;
    config.homeDomain = identities.homeDomain;
    if (parsed.impu)
        config.impu = *parsed.impu;
    else if (!identities.impus.empty())
        config.impu = identities.impus.front();
    if (config.impi.empty() || config.impu.empty() || config.homeDomain.empty())
        throw DaemonError(DaemonErrc::CardError, "the card gave no IMS identities");

    if (parsed.pcscf) {
        config.pcscfs.push_back(*parsed.pcscf);
    } else {
        for (const auto& pcscf : identities.pcscfs)
            if (pcscf.kind != cardio::PcscfAddress::Kind::Fqdn)
                config.pcscfs.push_back(pcscf.address);
        if (config.pcscfs.empty())
            throw DaemonError(DaemonErrc::InvalidArguments,
                              "the card names no P-CSCF by address: pass pcscf");
    }
    config.pcscfPort = parsed.pcscfPort.value_or(5060);
    config.localAddress = parsed.localAddress
                              ? *parsed.localAddress
                              : sourceAddressTowards(config.pcscfs.front(), config.pcscfPort);
    if (ipsec::IpAddress::fromText(config.localAddress).family() !=
        ipsec::IpAddress::fromText(config.pcscfs.front()).family())
        throw DaemonError(DaemonErrc::InvalidArguments,
                          "local_address and pcscf are of different families");
    config.transport = parsed.transport.value_or(Transport::Udp);
    config.regId = parsed.regId;
    if (!config.regId && config_.multipleRegistrations) config.regId = freeRegId(config.impu);
    config.expires = parsed.expires.value_or(config_.expires);
    config.integrity = parsed.integrity.value_or(config_.integrity);
    config.encryption = parsed.encryption.value_or(config_.encryption);
    config.timers = config_.timers;
    config.instanceId = config_.instanceId;
    config.maxUdpSize = config_.maxUdpSize;
    config.featureTags = parsed.featureTags.value_or(std::vector<std::string>{});
    if (parsed.extraHeaders) config.extraHeaders = *parsed.extraHeaders;
    return config;
}

uint32_t ManagerObject::freeRegId(const std::string& impu) const {
    std::set<uint32_t> taken;
    for (const auto& [number, registration] : registrations_) {
        const auto& config = registration->config();
        if (config.impu == impu && config.regId) taken.insert(*config.regId);
    }
    uint32_t regId = 1;
    while (taken.count(regId)) ++regId;
    return regId;
}

std::optional<DaemonError> ManagerObject::refuseFlow(const RegistrationObject& candidate) const {
    for (const auto& [number, other] : registrations_) {
        if (other.get() == &candidate || !other->config().regId) continue;
        if (other->config().impu != candidate.config().impu ||
            other->cardPath() != candidate.cardPath())
            continue;
        bool registered = other->state() == RegistrationState::Registered ||
                          other->state() == RegistrationState::Reregistering;
        if (registered && !other->outboundAccepted())
            return DaemonError(DaemonErrc::OutboundNotAccepted,
                               "the network took reg-id " + std::to_string(*other->config().regId) +
                                   " of " + other->config().impu +
                                   " without outbound (no Require: outbound in its 200 OK): "
                                   "no further flow (RFC 5626 4.2.1)");
    }
    return std::nullopt;
}

sdbus::ObjectPath ManagerObject::CreateRegistration(
    const std::map<std::string, sdbus::Variant>& options) {
    try {
        auto owner = getObject().getCurrentlyProcessedMessage()->getSender();
        size_t owned = 0;
        for (const auto& [number, registration] : registrations_)
            if (registration->owner() == owner) ++owned;
        if (owned >= config_.maxRegistrationsPerClient)
            throw DaemonError(DaemonErrc::QuotaExceeded,
                              "at most " + std::to_string(config_.maxRegistrationsPerClient) +
                                  " registrations per client");
        std::string cardPath;
        auto config = registrationConfig(options, cardPath);
        unsigned number = nextNumber_++;
        std::weak_ptr<bool> alive = alive_;
        RegistrationContext context{
            connection_,
            loop_,
            security_,
            cards_,
            [this, alive](unsigned closed) {
                loop_.post([this, alive, closed] {
                    if (alive.expired()) return;
                    registrations_.erase(closed);
                    reportStatus();
                });
            },
            [this](const RegistrationObject& candidate) { return refuseFlow(candidate); }};
        auto registration = std::make_unique<RegistrationObject>(std::move(context), number, owner,
                                                                 cardPath, std::move(config));
        auto path = registration->path();
        registrations_[number] = std::move(registration);
        reportStatus();
        log::info(path + ": created for " + owner);
        return sdbus::ObjectPath(path);
    } catch (const sdbus::Error&) {
        throw;
    } catch (...) {
        throw toDbus(classify(std::current_exception()));
    }
}

}  // namespace imsaka::daemon
