#include "manager_object.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "access.h"
#include "imsaka/ipsec/address.h"
#include "imsaka/version.h"
#include "log.h"
#include "pcscf_targets.h"
#include "registration_options.h"
#include "socket_address.h"

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
      cards_(cards),
      resolver_(loop, resolver::ResolverOptions{config.dnsServers},
                std::chrono::duration_cast<std::chrono::milliseconds>(config.dnsTimeout)) {
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
    return kVersion;
}

void ManagerObject::closeAll() {
    for (auto& [number, creation] : creations_) {
        resolver_.cancel(creation.lookup);
        creation.reply.returnError(toDbus(DaemonError(DaemonErrc::Failed, "imsakad is stopping")));
    }
    creations_.clear();
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
    std::erase_if(creations_, [&](auto& entry) {
        if (entry.second.owner != owner) return false;
        resolver_.cancel(entry.second.lookup);
        return true;
    });
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

RegistrationConfig ManagerObject::registrationConfig(const RegistrationOptions& parsed,
                                                     std::string& cardPath,
                                                     std::vector<std::string>& entries) {
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

    // The ISIM's EF_P-CSCF (TS 31.103) holds names and addresses alike; each is resolved.
    entries.clear();
    if (parsed.pcscf)
        entries.push_back(*parsed.pcscf);
    else
        for (const auto& pcscf : identities.pcscfs) entries.push_back(pcscf.address);
    if (entries.empty())
        throw DaemonError(DaemonErrc::InvalidArguments, "the card names no P-CSCF: pass pcscf");
    config.regId = parsed.regId;
    config.expires = parsed.expires.value_or(config_.expires);
    config.integrity = parsed.integrity.value_or(config_.integrity);
    config.encryption = parsed.encryption.value_or(config_.encryption);
    config.timers = config_.timers;
    config.instanceId = config_.instanceId;
    return config;
}

void ManagerObject::CreateRegistration(sdbus::Result<sdbus::ObjectPath>&& result,
                                       std::map<std::string, sdbus::Variant> options) {
    try {
        const auto* message = getObject().getCurrentlyProcessedMessage();
        // The bus policy admits the same callers; this check does not rely on it.
        if (!mayRegister(message->getCredsUid(), config_))
            throw DaemonError(DaemonErrc::NotAllowed,
                              "only root and members of group " + config_.group + " may register");
        auto owner = message->getSender();
        size_t owned = 0;
        for (const auto& [number, registration] : registrations_)
            if (registration->owner() == owner) ++owned;
        for (const auto& [number, creation] : creations_)
            if (creation.owner == owner) ++owned;
        if (owned >= config_.maxRegistrationsPerClient)
            throw DaemonError(DaemonErrc::QuotaExceeded,
                              "at most " + std::to_string(config_.maxRegistrationsPerClient) +
                                  " registrations per client");
        auto parsed = parseRegistrationOptions(options);
        std::string cardPath;
        std::vector<std::string> entries;
        auto config = registrationConfig(parsed, cardPath, entries);
        auto transport = parsed.transport;
        auto port = parsed.pcscfPort;
        bool literalsOnly = std::all_of(entries.begin(), entries.end(), [](const auto& entry) {
            return resolver::isIpLiteral(entry);
        });
        unsigned number = nextCreation_++;
        auto& creation =
            creations_
                .emplace(number, Creation{owner, std::move(result), std::move(cardPath),
                                          std::move(config), std::move(parsed), literalsOnly, 0})
                .first->second;
        try {
            // The reply waits for the lookup; the loop goes on serving meanwhile.
            creation.lookup =
                resolver_.lookup(std::move(entries), port,
                                 transport ? std::optional(toResolver(*transport)) : std::nullopt,
                                 [this, number](PcscfResolver::Result resolved) {
                                     created(number, std::move(resolved));
                                 });
        } catch (...) {
            created(number, classify(std::current_exception()));
        }
    } catch (const sdbus::Error& error) {
        result.returnError(error);
    } catch (...) {
        result.returnError(toDbus(classify(std::current_exception())));
    }
}

void ManagerObject::created(unsigned number, PcscfResolver::Result resolved) {
    auto it = creations_.find(number);
    if (it == creations_.end()) return;
    auto creation = std::move(it->second);
    creations_.erase(it);
    try {
        if (auto* error = std::get_if<DaemonError>(&resolved)) throw *error;
        auto path = addRegistration(creation, std::get<PcscfResolver::Targets>(resolved));
        creation.reply.returnResults(path);
    } catch (const sdbus::Error& error) {
        creation.reply.returnError(error);
    } catch (...) {
        auto error = classify(std::current_exception());
        log::notice("CreateRegistration for " + creation.owner + ": " + error.what());
        creation.reply.returnError(toDbus(error));
    }
}

sdbus::ObjectPath ManagerObject::addRegistration(Creation& creation,
                                                 const std::vector<resolver::Target>& resolved) {
    auto& config = creation.config;
    const auto& options = creation.options;
    std::string what = options.pcscf ? *options.pcscf : "of the card";
    if (options.localAddress) {
        config.localAddress = *options.localAddress;
    } else {
        // The first target the kernel has a route to decides the local address.
        std::optional<DaemonError> noRoute;
        for (const auto& target : resolved) {
            try {
                config.localAddress = sourceAddressTowards(target.address, target.port);
                break;
            } catch (const DaemonError& error) {
                if (!noRoute) noRoute = error;
            }
        }
        if (config.localAddress.empty()) throw *noRoute;
    }
    int family = ipsec::IpAddress::fromText(config.localAddress).family();
    bool sameFamily = std::any_of(resolved.begin(), resolved.end(), [&](const auto& target) {
        return ipsec::IpAddress::fromText(target.address).family() == family;
    });
    if (!sameFamily && creation.literalsOnly)
        throw DaemonError(DaemonErrc::InvalidArguments,
                          "local_address and pcscf are of different families");
    auto targets = usableTargets(resolved, family, options.transport, what);
    applyTargets(config, targets);

    unsigned number = nextNumber_++;
    std::weak_ptr<bool> alive = alive_;
    RegistrationContext context{connection_, loop_, security_, cards_,
                                [this, alive](unsigned closed) {
                                    loop_.post([this, alive, closed] {
                                        if (alive.expired()) return;
                                        registrations_.erase(closed);
                                        reportStatus();
                                    });
                                }};
    auto registration = std::make_unique<RegistrationObject>(
        std::move(context), number, creation.owner, creation.cardPath, std::move(config), targets);
    auto path = registration->path();
    registrations_[number] = std::move(registration);
    reportStatus();
    std::string list;
    for (const auto& target : targets) list += (list.empty() ? "" : ", ") + toString(target);
    log::info(path + ": created for " + creation.owner + "; P-CSCF " + list);
    return sdbus::ObjectPath(path);
}

}  // namespace imsaka::daemon
