#include "manager_object.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "access.h"
#include "address_policy.h"
#include "descriptor_budget.h"
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
    if (state == "reading")
        throw DaemonError(DaemonErrc::CardAbsent,
                          "the card is still being read: no ready card yet");
    if (state == "pin-required")
        throw DaemonError(DaemonErrc::PinRequired, "the card needs its PIN (Card1.VerifyPin)");
    if (state == "pin-blocked") throw DaemonError(DaemonErrc::PinBlocked, "the PIN is blocked");
    throw DaemonError(DaemonErrc::CardError, "the card is not usable: " + card.lastError());
}

[[noreturn]] void refuseAddress(const std::string& what, const std::string& address,
                                const std::string& problem) {
    throw DaemonError(DaemonErrc::InvalidArguments, what + ": " + address + " " + problem);
}

// The P-CSCFs to look up, in order (24.229 5.1.1.2.1: a 305, timer F or a transport error
// moves to the next): the option's, or the card's entries (TS 31.103 EF_P-CSCF holds names
// and addresses alike). An address that cannot be a peer is refused in the option and
// skipped on the card; names are checked once resolved.
std::vector<PcscfEntry> pcscfEntries(const std::optional<std::vector<PcscfEntry>>& option,
                                     const cardio::Identities& identities,
                                     const HostAddresses& host) {
    auto problemOf = [&](const std::string& entry) -> std::optional<std::string> {
        if (!resolver::isIpLiteral(entry)) return std::nullopt;
        return pcscfAddressProblem(ipsec::IpAddress::fromText(entry), host);
    };
    if (option) {
        for (const auto& entry : *option)
            if (auto problem = problemOf(entry.address))
                refuseAddress("option pcscf", entry.address, *problem);
        return *option;
    }
    std::vector<PcscfEntry> usable;
    std::string refused;
    for (const auto& pcscf : identities.pcscfs) {
        auto problem = problemOf(pcscf.address);
        if (!problem) {
            usable.push_back({pcscf.address, std::nullopt});
            continue;
        }
        log::warning("the card's P-CSCF " + pcscf.address + " " + *problem + ": skipped");
        refused += (refused.empty() ? " (" : ", ") + pcscf.address + " " + *problem;
    }
    if (usable.empty())
        throw DaemonError(DaemonErrc::InvalidArguments,
                          "the card names no usable P-CSCF" +
                              (refused.empty() ? std::string() : refused + ")") + ": pass pcscf");
    return usable;
}

// Resolved targets that can be a peer; a name that led only to unusable addresses is refused.
std::vector<resolver::Target> peerTargets(const std::vector<resolver::Target>& resolved,
                                          const HostAddresses& host, const std::string& what) {
    std::vector<resolver::Target> usable;
    std::string refused;
    for (const auto& target : resolved) {
        auto problem = pcscfAddressProblem(ipsec::IpAddress::fromText(target.address), host);
        if (!problem) {
            usable.push_back(target);
            continue;
        }
        log::warning("P-CSCF " + what + ": " + target.address + " " + *problem + ": skipped");
        refused += (refused.empty() ? "" : ", ") + target.address + " " + *problem;
    }
    if (usable.empty()) refuseAddress("pcscf " + what, refused, "(no usable address)");
    return usable;
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
    warnIfDescriptorsShort(config_);
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
    for (auto& [number, owned] : registrations_) owned.registration->closeNow();
    registrations_.clear();
    retired_.clear();
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
        if (it->second.registration->owner() == owner) {
            log::info(it->second.registration->path() + ": owner " + owner + " left the bus");
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
                                                     std::vector<PcscfEntry>& entries) {
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

    entries = pcscfEntries(parsed.pcscfs, identities, hostAddresses());
    config.regId = parsed.regId;
    config.expires = parsed.expires.value_or(config_.expires);
    config.integrity = parsed.integrity.value_or(config_.integrity);
    config.encryption = parsed.encryption.value_or(config_.encryption);
    config.timers = config_.timers;
    config.keepOfferAfterInvalidChallenge = config_.interop == InteropProfile::Kamailio56;
    config.deregisterWithTheSetsOffer = config_.interop == InteropProfile::Kamailio56;
    config.instanceId = config_.instanceId;
    config.maxUdpSize = config_.maxUdpSize;
    config.featureTags = parsed.featureTags.value_or(std::vector<std::string>{});
    if (parsed.extraHeaders) config.extraHeaders = *parsed.extraHeaders;
    return config;
}

void ManagerObject::checkQuota(uid_t uid) const {
    if (registrations_.size() + creations_.size() >= config_.maxRegistrations)
        throw DaemonError(DaemonErrc::QuotaExceeded, "the daemon holds its maximum of " +
                                                         std::to_string(config_.maxRegistrations) +
                                                         " registrations");
    size_t owned = 0;
    for (const auto& [number, entry] : registrations_)
        if (entry.uid == uid) ++owned;
    for (const auto& [number, creation] : creations_)
        if (creation.uid == uid) ++owned;
    if (owned >= config_.maxRegistrationsPerUser)
        throw DaemonError(DaemonErrc::QuotaExceeded,
                          "at most " + std::to_string(config_.maxRegistrationsPerUser) +
                              " registrations per user (uid " + std::to_string(uid) + ")");
}

void ManagerObject::retire(unsigned number) {
    auto it = registrations_.find(number);
    if (it == registrations_.end()) return;
    retired_.push_back(std::move(it->second.registration));
    registrations_.erase(it);
    reportStatus();
    // Destroyed after the reply to Close(), whose object it is.
    std::weak_ptr<bool> alive = alive_;
    loop_.post([this, alive] {
        if (!alive.expired()) retired_.clear();
    });
}

uint32_t ManagerObject::freeRegId(const std::string& impu) const {
    std::set<uint32_t> taken;
    for (const auto& [number, owned] : registrations_) {
        const auto& config = owned.registration->config();
        if (config.impu == impu && config.regId) taken.insert(*config.regId);
    }
    uint32_t regId = 1;
    while (taken.count(regId)) ++regId;
    return regId;
}

std::optional<DaemonError> ManagerObject::refuseFlow(const RegistrationObject& candidate) const {
    for (const auto& [number, owned] : registrations_) {
        const auto* other = owned.registration.get();
        if (other == &candidate || !other->config().regId) continue;
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

void ManagerObject::CreateRegistration(sdbus::Result<sdbus::ObjectPath>&& result,
                                       std::map<std::string, sdbus::Variant> options) {
    try {
        const auto* message = getObject().getCurrentlyProcessedMessage();
        auto owner = message->getSender();
        uid_t uid = callerUid(connection_, owner);
        // The bus policy admits the same callers; this check does not rely on it.
        if (!mayRegister(uid, config_))
            throw DaemonError(DaemonErrc::NotAllowed,
                              "only root and members of group " + config_.group + " may register");
        checkQuota(uid);
        auto parsed = parseRegistrationOptions(options);
        std::string cardPath;
        std::vector<PcscfEntry> entries;
        auto config = registrationConfig(parsed, cardPath, entries);
        auto transport =
            parsed.transport ? std::optional(toResolver(*parsed.transport)) : std::nullopt;
        std::vector<resolver::Request> requests;
        for (const auto& entry : entries)
            requests.push_back(
                {entry.address, entry.port ? entry.port : parsed.pcscfPort, transport});
        bool literalsOnly = std::all_of(entries.begin(), entries.end(), [](const auto& entry) {
            return resolver::isIpLiteral(entry.address);
        });
        unsigned number = nextCreation_++;
        auto& creation =
            creations_
                .emplace(number, Creation{owner, uid, std::move(result), std::move(cardPath),
                                          std::move(config), std::move(parsed), literalsOnly, 0})
                .first->second;
        try {
            // The reply waits for the lookup; the loop goes on serving meanwhile.
            creation.lookup = resolver_.lookup(std::move(requests),
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

bool ManagerObject::onBus(const std::string& name) {
    auto bus = sdbus::createProxy(connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    bool present = false;
    bus->callMethod("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(name)
        .storeResultsTo(present);
    return present;
}

void ManagerObject::created(unsigned number, PcscfResolver::Result resolved) {
    auto it = creations_.find(number);
    if (it == creations_.end()) return;
    auto creation = std::move(it->second);
    creations_.erase(it);
    try {
        // The owner may have left while the lookup ran, its NameOwnerChanged still queued
        // behind the DNS answer: it gets no registration.
        if (!onBus(creation.owner)) {
            log::info("CreateRegistration for " + creation.owner + ": the client left");
            return;
        }
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
    std::string what = "of the card";
    if (options.pcscfs) {
        what.clear();
        for (const auto& entry : *options.pcscfs)
            what += (what.empty() ? "" : ", ") + entry.address;
    }
    auto host = hostAddresses();
    auto peers = peerTargets(resolved, host, what);
    if (options.localAddress) {
        config.localAddress = *options.localAddress;
    } else {
        // The first target the kernel has a route to decides the local address.
        std::optional<DaemonError> noRoute;
        for (const auto& target : peers) {
            try {
                config.localAddress = sourceAddressTowards(target.address, target.port);
                break;
            } catch (const DaemonError& error) {
                if (!noRoute) noRoute = error;
            }
        }
        if (config.localAddress.empty()) throw *noRoute;
    }
    if (auto problem = localAddressProblem(ipsec::IpAddress::fromText(config.localAddress), host))
        refuseAddress(
            options.localAddress ? "option local_address" : "the local address towards the P-CSCF",
            config.localAddress, *problem);
    int family = ipsec::IpAddress::fromText(config.localAddress).family();
    auto ofFamily = [&](const std::string& address) {
        return ipsec::IpAddress::fromText(address).family() == family;
    };
    bool sameFamily = std::any_of(peers.begin(), peers.end(),
                                  [&](const auto& target) { return ofFamily(target.address); });
    // One local address serves the whole list: an address the option names must be of its
    // family (names may resolve to both).
    bool optionMixes =
        options.pcscfs &&
        std::any_of(options.pcscfs->begin(), options.pcscfs->end(), [&](const auto& entry) {
            return resolver::isIpLiteral(entry.address) && !ofFamily(entry.address);
        });
    if ((!sameFamily && creation.literalsOnly) || optionMixes)
        throw DaemonError(DaemonErrc::InvalidArguments,
                          "local_address and pcscf are of different families");
    auto targets = usableTargets(peers, family, options.transport, what);
    applyTargets(config, targets);

    // Every registration a flow (RFC 5626): the lowest reg-id free for its identity, taken
    // here on the loop, so that creations waiting for their lookups never share one.
    if (!config.regId && config_.multipleRegistrations) config.regId = freeRegId(config.impu);

    unsigned number = nextNumber_++;
    std::weak_ptr<bool> alive = alive_;
    RegistrationContext context{
        connection_,
        loop_,
        security_,
        cards_,
        [this, alive](unsigned closed) {
            if (!alive.expired()) retire(closed);
        },
        [this](const RegistrationObject& candidate) { return refuseFlow(candidate); }};
    auto registration = std::make_unique<RegistrationObject>(
        std::move(context), number, creation.owner, creation.cardPath, std::move(config), targets);
    auto path = registration->path();
    registrations_[number] = Owned{std::move(registration), creation.uid};
    reportStatus();
    std::string list;
    for (const auto& target : targets) list += (list.empty() ? "" : ", ") + toString(target);
    log::info(path + ": created for " + creation.owner + "; P-CSCF " + list);
    return sdbus::ObjectPath(path);
}

}  // namespace imsaka::daemon
