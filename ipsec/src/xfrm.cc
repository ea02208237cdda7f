#include "imsaka/ipsec/xfrm.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "messages.h"

namespace imsaka::ipsec {

using detail::Message;
using detail::Reply;

class Xfrm::Channel : public detail::Channel {
  public:
    using detail::Channel::Channel;
};

class XfrmExpiryWatcher::Socket : public detail::Channel {
  public:
    Socket() : detail::Channel(XFRMNLGRP_EXPIRE) {}
};

namespace {

constexpr uint32_t kMinimumSpi = 256;  // 1-255 are reserved by IANA

bool isSaChange(uint16_t type) {
    return type == XFRM_MSG_NEWSA || type == XFRM_MSG_UPDSA;
}
bool isGone(int error) {
    return error == ENOENT || error == ESRCH;
}

XfrmError kernelError(const Message& request, const Reply& reply) {
    std::string text = std::strerror(reply.error);
    if (!reply.explanation.empty()) text += " (" + reply.explanation + ")";
    uint16_t type = request.type();
    XfrmErrorCode code = XfrmErrorCode::Netlink;
    if (reply.error == EPERM || reply.error == EACCES) {
        code = XfrmErrorCode::PermissionDenied;
    } else if (reply.error == EEXIST) {
        code = XfrmErrorCode::AlreadyExists;
    } else if (isSaChange(type) && reply.error == EPROTONOSUPPORT) {
        code = XfrmErrorCode::KernelLacksEsp;
        text = "kernel lacks ESP (CONFIG_INET_ESP / CONFIG_INET6_ESP): " + text;
    } else if (isSaChange(type) && (reply.error == ENOSYS || reply.error == ENOENT)) {
        code = XfrmErrorCode::KernelLacksAlgorithm;
        text = "kernel cannot provide the algorithm: " + text;
    } else if (type == XFRM_MSG_UPDSA && reply.error == ESRCH) {
        code = XfrmErrorCode::ReservationExpired;
    } else if (type == XFRM_MSG_ALLOCSPI && reply.error == ENOENT) {
        code = XfrmErrorCode::SpiUnavailable;
    } else if (isGone(reply.error)) {
        code = XfrmErrorCode::NotFound;
    }
    return XfrmError(code, request.what(), text, reply.error);
}

// Throws the first failure among the replies, if any.
void requireSuccess(const std::vector<Message>& requests, const std::vector<Reply>& replies) {
    for (size_t i = 0; i < replies.size(); ++i)
        if (replies[i].error != 0) throw kernelError(requests[i], replies[i]);
}

// Sends lookups; throws the first failure other than "not there" (whose reply then holds
// no message).
std::vector<Reply> lookUp(detail::Channel& channel, const std::vector<Message>& lookups) {
    auto found = channel.exchange(lookups);
    for (size_t i = 0; i < found.size(); ++i)
        if (found[i].error != 0 && !isGone(found[i].error)) throw kernelError(lookups[i], found[i]);
    return found;
}

// Sends deletions; throws the first failure other than "already gone".
void deleteAll(detail::Channel& channel, const std::vector<Message>& deletes) {
    auto replies = channel.exchange(deletes);
    for (size_t i = 0; i < replies.size(); ++i)
        if (replies[i].error != 0 && !isGone(replies[i].error))
            throw kernelError(deletes[i], replies[i]);
}

uint32_t randomStart() {
    uint32_t value = 0;
    if (getrandom(&value, sizeof value, 0) != sizeof value)
        value = static_cast<uint32_t>(time(nullptr));
    return value;
}

// Process-wide, so that two Xfrm objects in one namespace never share a reqid (ALLOCSPI
// would hand back the larval SA of the other one).
std::atomic<uint32_t> reqidCounter{randomStart()};

struct SaGeometry {
    SaId id;
    bool ueSends;  // the UE is the source
    bool ueClientPort;
};

// The 33.203 table: A UE:uc->P:ps, B P:ps->UE:uc, C P:pc->UE:us, D UE:us->P:pc.
constexpr std::array<SaGeometry, 4> kGeometry{{
    {SaId::A, true, true},
    {SaId::B, false, true},
    {SaId::C, false, false},
    {SaId::D, true, false},
}};

detail::Flow flowOf(const SaSetSpec& spec, SaId id) {
    const SaGeometry& g = kGeometry[static_cast<size_t>(id)];
    uint16_t uePort = g.ueClientPort ? spec.portUc : spec.portUs;
    uint16_t pcscfPort = g.ueClientPort ? spec.portPs : spec.portPc;
    if (g.ueSends) return {spec.ue, spec.pcscf, uePort, pcscfPort};
    return {spec.pcscf, spec.ue, pcscfPort, uePort};
}

uint32_t spiOf(const SaSetSpec& spec, SaId id) {
    switch (id) {
        case SaId::A:
            return spec.spiPs;
        case SaId::B:
            return spec.spiUc;
        case SaId::C:
            return spec.spiUs;
        case SaId::D:
            return spec.spiPc;
    }
    return 0;
}

bool isInbound(Side side, SaId id) {
    bool ueSends = kGeometry[static_cast<size_t>(id)].ueSends;
    return side == Side::Ue ? !ueSends : ueSends;
}

[[noreturn]] void invalid(const std::string& where, const std::string& message) {
    throw XfrmError(XfrmErrorCode::InvalidArgument, where, message);
}

void validate(const SpiReservation& reservation, const SaSetSpec& spec,
              const XfrmOptions& options) {
    const IpAddress& local = spec.side == Side::Ue ? spec.ue : spec.pcscf;
    const IpAddress& remote = spec.side == Side::Ue ? spec.pcscf : spec.ue;
    if (spec.ue.family() != spec.pcscf.family())
        invalid("install", "UE and P-CSCF addresses are of different families");
    if (!(local == reservation.local) || !(remote == reservation.remote))
        invalid("install", "the addresses differ from those of the SPI reservation");
    if (!spec.portUc || !spec.portUs || !spec.portPc || !spec.portPs)
        invalid("install", "every protected port must be set");
    uint32_t localClient = spec.side == Side::Ue ? spec.spiUc : spec.spiPc;
    uint32_t localServer = spec.side == Side::Ue ? spec.spiUs : spec.spiPs;
    if (localClient != reservation.spiClient || localServer != reservation.spiServer)
        invalid("install", "the local SPIs differ from those of the SPI reservation");
    for (uint32_t spi : {spec.spiUc, spec.spiUs, spec.spiPc, spec.spiPs})
        if (spi < kMinimumSpi) invalid("install", "SPI " + std::to_string(spi) + " is below 256");
    auto owns = [&](uint32_t reqid) { return reqid - options.reqidBase < options.reqidCount; };
    if (!owns(reservation.reqidClient) || !owns(reservation.reqidServer))
        invalid("install", "the reservation does not carry our reqids");
}

detail::SaDescription describe(const SaSet& set, SaId id, Lifetime lifetime) {
    detail::SaDescription sa;
    sa.flow = flowOf(set.spec(), id);
    sa.spi = set.spi(id);
    sa.reqid = set.reqid(id);
    sa.integrity = set.spec().integrity;
    sa.encryption = set.spec().encryption;
    sa.lifetime = lifetime;
    return sa;
}

detail::PolicyDescription policyOf(const SaSet& set, SaId id, uint32_t priority) {
    detail::PolicyDescription policy;
    policy.flow = flowOf(set.spec(), id);
    policy.direction = set.inbound(id) ? XFRM_POLICY_IN : XFRM_POLICY_OUT;
    policy.reqid = set.reqid(id);
    policy.priority = priority;
    return policy;
}

constexpr std::array<SaId, 4> kAllSas{SaId::A, SaId::B, SaId::C, SaId::D};

bool ownsReqid(const XfrmOptions& options, uint32_t reqid) {
    return reqid - options.reqidBase < options.reqidCount;
}

bool ownsPolicy(const XfrmOptions& options, const detail::PolicyInfo& policy) {
    for (uint32_t reqid : policy.templateReqids)
        if (ownsReqid(options, reqid)) return true;
    return false;
}

// The guards of a set: for each local protected port (the UE's port_uc and port_us, or the
// P-CSCF's port_pc and port_ps), one inbound policy for anything sent to it and one
// outbound policy for anything sent from it, whatever the peer, blocking, one step below
// the set's own policies in precedence. Traffic with the peer of the set matches the set's
// policies first and goes through its SAs; everything else to or from those ports is
// dropped by the kernel (TS 33.203: unprotected messages on the protected ports are
// discarded).
std::vector<detail::PolicyDescription> guardsOf(const SaSetSpec& spec, uint32_t reqid,
                                                uint32_t priority) {
    const IpAddress& local = spec.side == Side::Ue ? spec.ue : spec.pcscf;
    std::array<uint16_t, 2> ports = spec.side == Side::Ue ? std::array{spec.portUc, spec.portUs}
                                                          : std::array{spec.portPc, spec.portPs};
    std::vector<detail::PolicyDescription> guards;
    for (uint16_t port : ports) {
        if (std::any_of(guards.begin(), guards.end(), [&](const auto& guard) {
                return guard.flow.destinationPort == port || guard.flow.sourcePort == port;
            }))
            continue;  // both local ports the same: one pair of guards
        for (uint8_t direction : {uint8_t{XFRM_POLICY_IN}, uint8_t{XFRM_POLICY_OUT}}) {
            bool in = direction == XFRM_POLICY_IN;
            detail::PolicyDescription guard;
            guard.flow.source = local;
            guard.flow.destination = local;
            guard.flow.anySource = in;
            guard.flow.anyDestination = !in;
            (in ? guard.flow.destinationPort : guard.flow.sourcePort) = port;
            guard.direction = direction;
            guard.reqid = reqid;
            guard.priority = priority + 1;
            guard.block = true;
            guards.push_back(guard);
        }
    }
    return guards;
}

// Whether a steering (not blocking) policy of ours still protects the guard's local port.
bool guardInUse(const detail::PolicyDescription& guard,
                const std::vector<detail::PolicyInfo>& ourPolicies) {
    bool in = guard.direction == XFRM_POLICY_IN;
    const IpAddress& local = in ? guard.flow.destination : guard.flow.source;
    uint16_t port = in ? guard.flow.destinationPort : guard.flow.sourcePort;
    return std::any_of(ourPolicies.begin(), ourPolicies.end(), [&](const auto& policy) {
        if (policy.block || policy.direction != guard.direction) return false;
        const detail::Flow& flow = policy.flow;
        return in ? !flow.anyDestination && flow.destination == local &&
                        flow.destinationPort == port
                  : !flow.anySource && flow.source == local && flow.sourcePort == port;
    });
}

// Removes what a failed install added; returns text about anything it could not remove.
std::string undoPartialInstall(detail::Channel& channel, const SaSet& set,
                               const std::vector<Reply>& replies, uint32_t priority) {
    // What went in goes, and the reservation's larval SAs; never an object whose add failed
    // with EEXIST, which belongs to someone else.
    std::vector<Message> undo;
    for (SaId id : kAllSas) {
        size_t i = static_cast<size_t>(id);
        if (replies[i].error == 0 || set.inbound(id))
            undo.push_back(
                detail::deleteSaMessage(flowOf(set.spec(), id).destination, set.spi(id)));
        if (replies[4 + i].error == 0)
            undo.push_back(detail::deletePolicyMessage(policyOf(set, id, priority)));
    }
    auto undone = channel.exchange(undo);
    std::string problems;
    for (size_t i = 0; i < undone.size(); ++i)
        if (undone[i].error != 0 && !isGone(undone[i].error))
            problems += "; could not undo (" + std::string(kernelError(undo[i], undone[i]).what()) +
                        "), removeOwnState() will";
    return problems;
}

}  // namespace

uint32_t SaSet::spi(SaId id) const noexcept {
    return spiOf(spec_, id);
}
uint32_t SaSet::reqid(SaId id) const noexcept {
    return reqids_[static_cast<size_t>(id)];
}
bool SaSet::inbound(SaId id) const noexcept {
    return isInbound(spec_.side, id);
}

Xfrm::Xfrm(XfrmOptions options) : options_(options) {
    if (options_.minSpi < kMinimumSpi || options_.minSpi > options_.maxSpi)
        invalid("XFRM options", "the SPI range must lie within [256, 2^32-1] and not be empty");
    if (options_.policyPriority == UINT32_MAX)
        invalid("XFRM options", "the policy priority must leave room for the guards below it");
    if (options_.reqidCount == 0 || options_.reqidBase == 0 ||
        options_.reqidBase > UINT32_MAX - options_.reqidCount)
        invalid("XFRM options", "the reqid range must be non-empty, non-zero and not wrap");
    channel_ = std::make_unique<Channel>();
}

Xfrm::~Xfrm() = default;
Xfrm::Xfrm(Xfrm&&) noexcept = default;
Xfrm& Xfrm::operator=(Xfrm&&) noexcept = default;

uint32_t Xfrm::nextReqid() {
    return options_.reqidBase + reqidCounter++ % options_.reqidCount;
}

SpiReservation Xfrm::reserveSpis(const IpAddress& local, const IpAddress& remote) {
    return reserveSpis(local, remote, 0, 0);
}

SpiReservation Xfrm::reserveSpis(const IpAddress& local, const IpAddress& remote,
                                 uint32_t spiClient, uint32_t spiServer) {
    if (local.family() != remote.family())
        invalid("allocate SPI", "local and remote addresses are of different families");
    for (uint32_t spi : {spiClient, spiServer})
        if (spi != 0 && (spi < options_.minSpi || spi > options_.maxSpi))
            invalid("allocate SPI", "SPI " + std::to_string(spi) + " is outside our range");
    SpiReservation reservation{local, remote, 0, 0, nextReqid(), nextReqid()};
    // ALLOCSPI with min = max asks for that SPI and nothing else.
    auto allocate = [&](uint32_t reqid, uint32_t spi) {
        return detail::allocSpiMessage(remote, local, reqid, spi ? spi : options_.minSpi,
                                       spi ? spi : options_.maxSpi);
    };
    std::vector<Message> requests;
    requests.push_back(allocate(reservation.reqidClient, spiClient));
    requests.push_back(allocate(reservation.reqidServer, spiServer));
    auto replies = channel_->exchange(requests);
    std::array<uint32_t*, 2> targets{&reservation.spiClient, &reservation.spiServer};
    for (size_t i = 0; i < 2; ++i) {
        if (replies[i].error != 0) continue;
        for (const auto& message : replies[i].messages)
            if (auto sa = detail::parseSa(message)) *targets[i] = sa->spi;
    }
    bool complete = reservation.spiClient != 0 && reservation.spiServer != 0;
    if (!complete) {
        deleteLarvalSas(reservation);
        requireSuccess(requests, replies);
        throw XfrmError(XfrmErrorCode::Netlink, "allocate SPI", "the kernel named no SPI");
    }
    openReservations_.insert(reservation.reqidClient);
    return reservation;
}

void Xfrm::release(const SpiReservation& reservation) {
    takeReservation(reservation, "release");
    deleteLarvalSas(reservation);
}

void Xfrm::renew(const SpiReservation& reservation) {
    if (openReservations_.count(reservation.reqidClient) == 0)
        invalid("renew", "the SPI reservation was not made here, or is already used or released");
    // ALLOCSPI finds no larval SA that already has an SPI; it would make a second one, so
    // each goes first. In between the SPI is free for a moment, as after an expiry: should
    // another owner take it, ALLOCSPI of exactly that SPI fails and says so.
    std::vector<Message> requests;
    for (auto [spi, reqid] : {std::pair{reservation.spiClient, reservation.reqidClient},
                              std::pair{reservation.spiServer, reservation.reqidServer}}) {
        requests.push_back(detail::deleteSaMessage(reservation.local, spi));
        requests.push_back(
            detail::allocSpiMessage(reservation.remote, reservation.local, reqid, spi, spi));
    }
    auto replies = channel_->exchange(requests);
    for (size_t i = 0; i < replies.size(); ++i) {
        bool allocation = i % 2 == 1;
        if (replies[i].error != 0 && (allocation || !isGone(replies[i].error)))
            throw kernelError(requests[i], replies[i]);
        if (!allocation) continue;
        uint32_t wanted = i == 1 ? reservation.spiClient : reservation.spiServer;
        bool same = false;
        for (const auto& message : replies[i].messages)
            if (auto sa = detail::parseSa(message)) same = sa->spi == wanted;
        if (!same)
            throw XfrmError(XfrmErrorCode::SpiUnavailable, "renew",
                            "the kernel did not give SPI " + std::to_string(wanted) + " back");
    }
}

std::chrono::seconds Xfrm::reservationLifetime() {
    std::ifstream file("/proc/sys/net/core/xfrm_acq_expires");
    long seconds = 0;
    if (file >> seconds && seconds > 0) return std::chrono::seconds(seconds);
    return std::chrono::seconds(30);
}

void Xfrm::takeReservation(const SpiReservation& reservation, const char* where) {
    // Once installed, the reserved SPIs belong to live SAs: a second install or a release
    // would tear those down.
    if (openReservations_.erase(reservation.reqidClient) == 0)
        invalid(where, "the SPI reservation was not made here, or is already used or released");
}

void Xfrm::deleteLarvalSas(const SpiReservation& reservation) {
    std::vector<Message> requests;
    for (uint32_t spi : {reservation.spiClient, reservation.spiServer})
        if (spi != 0) requests.push_back(detail::deleteSaMessage(reservation.local, spi));
    deleteAll(*channel_, requests);
}

SaSet Xfrm::install(const SpiReservation& reservation, const SaSetSpec& spec, ByteView ck,
                    ByteView ik) {
    validate(reservation, spec, options_);
    SaSet set;
    set.spec_ = spec;
    // Keys first: a bad CK or IK is an InvalidArgument, which must leave the reservation
    // usable.
    set.integrityKey_ = integrityKey(spec.integrity, ik);
    set.encryptionKey_ = encryptionKey(spec.encryption, ck);
    takeReservation(reservation, "install");
    for (SaId id : kAllSas) {
        // The larval SA of the local client port carries reqidClient, of the server port
        // reqidServer; UPDSA keeps them.
        bool ueClientPort = kGeometry[static_cast<size_t>(id)].ueClientPort;
        bool clientSide = spec.side == Side::Ue ? ueClientPort : !ueClientPort;
        set.reqids_[static_cast<size_t>(id)] = !set.inbound(id) ? nextReqid()
                                               : clientSide     ? reservation.reqidClient
                                                                : reservation.reqidServer;
    }

    // Inbound SAs fill the larval SAs of the reservation (UPDSA); outbound ones are new.
    std::vector<Message> requests;
    for (SaId id : kAllSas) {
        detail::SaDescription sa = describe(set, id, spec.lifetime);
        sa.integrityKey = set.integrityKey_;
        sa.encryptionKey = set.encryptionKey_;
        requests.push_back(detail::saMessage(sa, set.inbound(id)));
    }
    for (SaId id : kAllSas)
        requests.push_back(detail::policyMessage(policyOf(set, id, options_.policyPriority)));
    auto replies = channel_->exchange(requests);

    size_t failed = replies.size();
    for (size_t i = 0; i < replies.size() && failed == replies.size(); ++i)
        if (replies[i].error != 0) failed = i;
    if (failed == replies.size()) {
        set.guardReqid_ = nextReqid();
        try {
            addGuards(set);
        } catch (const XfrmError& error) {
            std::string undo;
            try {
                remove(set);
            } catch (const XfrmError& also) {
                undo = std::string("; could not undo (") + also.what() + "), removeOwnState() will";
            }
            throw XfrmError(error.code(), "install guard policies", error.what() + undo,
                            error.systemError());
        }
        return set;
    }

    std::string undoProblems = undoPartialInstall(*channel_, set, replies, options_.policyPriority);
    XfrmError error = kernelError(requests[failed], replies[failed]);
    const char* names = "ABCD";
    std::string where =
        (failed < 4 ? "install SA " : "install policy for SA ") + std::string(1, names[failed % 4]);
    throw XfrmError(error.code(), where, error.what() + undoProblems, error.systemError());
}

void Xfrm::addGuards(const SaSet& set) {
    auto guards = guardsOf(set.spec(), set.guardReqid_, options_.policyPriority);
    std::vector<Message> adds;
    for (const auto& guard : guards) adds.push_back(detail::policyMessage(guard));
    auto replies = channel_->exchange(adds);
    // A guard that exists already is shared with another set on the same port, if ours.
    std::vector<Message> lookups;
    for (size_t i = 0; i < replies.size(); ++i) {
        if (replies[i].error == EEXIST)
            lookups.push_back(detail::getPolicyMessage(guards[i]));
        else if (replies[i].error != 0)
            throw kernelError(adds[i], replies[i]);
    }
    auto found = channel_->exchange(lookups);
    for (size_t i = 0; i < found.size(); ++i) {
        if (found[i].error != 0) throw kernelError(lookups[i], found[i]);
        for (const auto& message : found[i].messages) {
            auto policy = detail::parsePolicy(message);
            if (policy && (!policy->block || !ownsPolicy(options_, *policy)))
                throw XfrmError(XfrmErrorCode::AlreadyExists, lookups[i].what(),
                                "another owner's policy holds the selector of a guard");
        }
    }
}

void Xfrm::removeUnusedGuards(const SaSet& set) {
    std::vector<detail::PolicyInfo> ours;
    for (const auto& message : channel_->dump(XFRM_MSG_GETPOLICY, "list policies"))
        if (auto policy = detail::parsePolicy(message); policy && ownsPolicy(options_, *policy))
            ours.push_back(*policy);
    std::vector<Message> lookups;
    for (const auto& guard : guardsOf(set.spec(), set.guardReqid_, options_.policyPriority))
        if (!guardInUse(guard, ours)) lookups.push_back(detail::getPolicyMessage(guard));
    std::vector<Message> deletes;
    for (const auto& reply : lookUp(*channel_, lookups))
        for (const auto& message : reply.messages)
            if (auto policy = detail::parsePolicy(message);
                policy && policy->block && ownsPolicy(options_, *policy))
                deletes.push_back(
                    detail::deletePolicyByIndexMessage(policy->index, policy->direction));
    deleteAll(*channel_, deletes);
}

void Xfrm::setLifetime(SaSet& set, Lifetime lifetime) {
    // The kernel counts limits from when the SA was added; shift them to count from now.
    std::array<SaStatus, 4> current = status(set);
    auto now = static_cast<uint64_t>(time(nullptr));
    std::vector<Message> requests;
    for (SaId id : kAllSas) {
        uint64_t added = current[static_cast<size_t>(id)].addedAt;
        uint64_t elapsed = now > added ? now - added : 0;
        Lifetime shifted{lifetime.hardSeconds ? lifetime.hardSeconds + elapsed : 0,
                         lifetime.softSeconds ? lifetime.softSeconds + elapsed : 0};
        detail::SaDescription sa = describe(set, id, shifted);
        sa.integrityKey = set.integrityKey_;
        sa.encryptionKey = set.encryptionKey_;
        requests.push_back(detail::saMessage(sa, true));
    }
    auto replies = channel_->exchange(requests);
    for (size_t i = 0; i < replies.size(); ++i) {
        if (replies[i].error == ESRCH)  // an installed SA gone, not a reservation
            throw XfrmError(XfrmErrorCode::NotFound, requests[i].what(),
                            "the SA is no longer in the kernel", ESRCH);
    }
    requireSuccess(requests, replies);
    set.spec_.lifetime = lifetime;
}

std::array<SaStatus, 4> Xfrm::status(const SaSet& set) {
    std::vector<Message> requests;
    for (SaId id : kAllSas)
        requests.push_back(detail::getSaMessage(flowOf(set.spec(), id).destination, set.spi(id)));
    auto replies = channel_->exchange(requests);
    requireSuccess(requests, replies);
    std::array<SaStatus, 4> result{};
    for (size_t i = 0; i < 4; ++i) {
        bool found = false;
        for (const auto& message : replies[i].messages) {
            if (auto sa = detail::parseSa(message)) {
                result[i] = sa->status;
                found = true;
            }
        }
        if (!found)
            throw XfrmError(XfrmErrorCode::Netlink, requests[i].what(), "the kernel sent no SA");
    }
    return result;
}

SaStatus Xfrm::status(const SaSet& set, SaId id) {
    return status(set)[static_cast<size_t>(id)];
}

std::array<SaCounters, 4> Xfrm::counters(const SaSet& set) {
    auto all = status(set);
    return {all[0].counters, all[1].counters, all[2].counters, all[3].counters};
}

void Xfrm::remove(const SaSet& set) {
    // Look before deleting: only what still carries this set's reqid goes. An SA that
    // expired and whose SPI the kernel gave to someone else, or a policy that another
    // owner put on the same selector, stays.
    std::vector<Message> lookups;
    for (SaId id : kAllSas) {
        lookups.push_back(detail::getSaMessage(flowOf(set.spec(), id).destination, set.spi(id)));
        lookups.push_back(detail::getPolicyMessage(policyOf(set, id, options_.policyPriority)));
    }
    auto found = lookUp(*channel_, lookups);
    std::vector<Message> deletes;
    for (size_t i = 0; i < found.size(); ++i) {
        SaId id = kAllSas[i / 2];
        uint32_t reqid = set.reqid(id);
        for (const auto& message : found[i].messages) {
            if (i % 2 == 0) {
                auto sa = detail::parseSa(message);
                if (sa && sa->reqid == reqid)
                    deletes.push_back(detail::deleteSaMessage(sa->destination, sa->spi));
            } else {
                auto policy = detail::parsePolicy(message);
                if (policy &&
                    std::find(policy->templateReqids.begin(), policy->templateReqids.end(),
                              reqid) != policy->templateReqids.end())
                    deletes.push_back(
                        detail::deletePolicyByIndexMessage(policy->index, policy->direction));
            }
        }
    }
    deleteAll(*channel_, deletes);
    removeUnusedGuards(set);
}

OwnStateCount Xfrm::removeOwnState() {
    OwnStateCount removed;
    std::vector<Message> requests;
    for (const auto& message : channel_->dump(XFRM_MSG_GETSA, "list SAs")) {
        auto sa = detail::parseSa(message);
        if (!sa || !ownsReqid(options_, sa->reqid) || sa->protocol != IPPROTO_ESP) continue;
        requests.push_back(detail::deleteSaMessage(sa->destination, sa->spi));
        ++removed.ownSas;
    }
    for (const auto& message : channel_->dump(XFRM_MSG_GETPOLICY, "list policies")) {
        auto policy = detail::parsePolicy(message);
        if (!policy || !ownsPolicy(options_, *policy)) continue;
        requests.push_back(detail::deletePolicyByIndexMessage(policy->index, policy->direction));
        ++removed.ownPolicies;
    }
    deleteAll(*channel_, requests);
    return removed;
}

OwnStateCount Xfrm::countState() {
    OwnStateCount count;
    for (const auto& message : channel_->dump(XFRM_MSG_GETSA, "list SAs"))
        if (auto sa = detail::parseSa(message))
            ++(ownsReqid(options_, sa->reqid) ? count.ownSas : count.otherSas);
    for (const auto& message : channel_->dump(XFRM_MSG_GETPOLICY, "list policies"))
        if (auto policy = detail::parsePolicy(message))
            ++(ownsPolicy(options_, *policy) ? count.ownPolicies : count.otherPolicies);
    return count;
}

XfrmExpiryWatcher::XfrmExpiryWatcher(XfrmOptions options, Callback callback)
    : options_(options), callback_(std::move(callback)), socket_(std::make_unique<Socket>()) {}

XfrmExpiryWatcher::~XfrmExpiryWatcher() = default;

int XfrmExpiryWatcher::fd() const {
    return socket_->fd();
}

size_t XfrmExpiryWatcher::dispatch() {
    size_t delivered = 0;
    for (const auto& message : socket_->receivePending()) {
        auto event = detail::parseExpire(message);
        if (!event || !ownsReqid(options_, event->reqid)) continue;
        callback_(*event);
        ++delivered;
    }
    return delivered;
}

size_t XfrmExpiryWatcher::waitAndDispatch(std::chrono::milliseconds timeout) {
    pollfd descriptor{fd(), POLLIN, 0};
    int ready = poll(&descriptor, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) return 0;
    return dispatch();
}

}  // namespace imsaka::ipsec
