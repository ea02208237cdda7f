// The engine's bookkeeping (state, timers, SA sets, offers, failures and back-off) and the
// events that are neither SIP responses nor reg-event bodies: registerNow, deregister,
// close, transport errors, timers and inbound traffic.
#include <arpa/inet.h>
#include <openssl/rand.h>

#include <algorithm>
#include <utility>

#include "impl.h"

namespace imsaka::daemon {
namespace {

bool isHeaderSafe(std::string_view text) {
    return std::none_of(text.begin(), text.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

// An IPv4 or IPv6 literal without brackets: the Contact host must be one (Kamailio 5.6's
// P-CSCF resolves nothing there), and the SA sets need the addresses as they are.
bool isIpLiteral(const std::string& text) {
    unsigned char address[16];
    return inet_pton(AF_INET, text.c_str(), address) == 1 ||
           inet_pton(AF_INET6, text.c_str(), address) == 1;
}

void validate(const RegistrationConfig& config) {
    auto invalid = [](const std::string& what) {
        throw EngineError(EngineErrc::InvalidConfig, what);
    };
    for (auto [name, value] : {std::pair<const char*, const std::string*>{"impi", &config.impi},
                               {"impu", &config.impu},
                               {"homeDomain", &config.homeDomain},
                               {"localAddress", &config.localAddress}}) {
        if (value->empty()) invalid(std::string(name) + " is empty");
        if (!isHeaderSafe(*value) || value->find(' ') != std::string::npos) {
            invalid(std::string(name) + " holds a space or control character");
        }
    }
    if (!isHeaderSafe(config.instanceId) || config.instanceId.find('"') != std::string::npos) {
        invalid("instanceId holds a quote or control character");
    }
    // RFC 5626 4.2.1: a flow is named by the instance and the reg-id together.
    if (config.regId && config.instanceId.empty()) invalid("a reg-id needs an instanceId");
    if (!isIpLiteral(config.localAddress)) invalid("localAddress is not an IP literal");
    if (config.pcscfs.empty()) invalid("no P-CSCF address");
    for (const auto& pcscf : config.pcscfs) {
        if (!isIpLiteral(pcscf.address)) invalid("a P-CSCF address is not an IP literal");
        if (pcscf.port == 0) invalid("a P-CSCF port is zero");
    }
    if (config.expires == 0) invalid("expires must be positive");
    if (config.integrity.empty() || config.encryption.empty()) {
        invalid("no integrity or encryption algorithm to offer");
    }
    if (config.timers.maxInitialAttempts == 0) invalid("maxInitialAttempts must be at least 1");
    if (config.unprotectedPort == 0) invalid("the unprotected port is zero");
    if (config.maxUdpSize == 0) invalid("maxUdpSize must be positive");
    validateFeatureTags(config.featureTags);
    validateExtraHeaders(config.extraHeaders);
}

}  // namespace

[[noreturn]] void throwWrongState(const std::string& what) {
    throw EngineError(EngineErrc::WrongState, what);
}

[[noreturn]] void throwMalformed(std::string_view header, const std::string& what) {
    throw EngineError(EngineErrc::MalformedHeader, std::string(header) + ": " + what);
}

RegistrationEngine::Impl::Impl(RegistrationConfig c) : config(std::move(c)) {
    validate(config);
    expires_ = config.expires;
}

std::string RegistrationEngine::Impl::newToken() {
    if (config.newToken) return config.newToken();
    uint8_t bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw EngineError(EngineErrc::InvalidConfig, "the random source failed");
    }
    return toHex(ByteView(bytes, sizeof bytes));
}

void RegistrationEngine::Impl::requireOpen() const {
    if (closed_) throwWrongState("the engine is closed");
}

void RegistrationEngine::Impl::setState(Actions& out, RegistrationState next) {
    if (state == next) return;
    state = next;
    out.push_back(action::StateChanged{next});
}

void RegistrationEngine::Impl::arm(Actions& out, TimerKind kind, Time at) {
    armed_.insert(kind);
    out.push_back(action::ArmTimer{kind, at});
}

void RegistrationEngine::Impl::cancel(Actions& out, TimerKind kind) {
    if (kind == TimerKind::Retire) retireAt_.reset();
    if (armed_.erase(kind) != 0) out.push_back(action::CancelTimer{kind});
}

// lastError may quote the network's headers: keep it one printable line for logs.
void RegistrationEngine::Impl::setError(std::string reason) {
    for (char& c : reason) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    info.lastError = std::move(reason);
    changed_ = true;
}

Actions RegistrationEngine::Impl::finish(Actions out) {
    if (changed_) out.push_back(action::InfoChanged{});
    changed_ = false;
    return out;
}

// Every attempt starts by reserving the ports and SPIs of its Security-Client. A set that
// replaces the one in use keeps its protected server port (TS 33.203 7.4: "the protected
// server ports at the UE (port_us) and the P-CSCF (port_ps) shall remain unchanged, while
// the protected client ports ... shall change"), so the Contact, and every dialog using it,
// stays.
void RegistrationEngine::Impl::startAttempt(Actions& out, Purpose purpose) {
    releaseOffer(out);
    purpose_ = purpose;
    awaiting_ = Awaiting::Reservation;
    out.push_back(reservation());
}

// The same holds for the offer of a de-REGISTER (24.229 5.1.1.6) and for the new offer after
// a challenge the card found invalid during a refresh.
action::ReserveSecurity RegistrationEngine::Impl::reservation() const {
    action::ReserveSecurity reserve;
    if (const SaSet* current = findSet(established_); current && purpose_ != Purpose::Initial)
        reserve.serverPort = current->view.ours.portUs;
    return reserve;
}

void RegistrationEngine::Impl::endTransaction(Actions& out) {
    cancel(out, TimerKind::TimerF);
    cancel(out, TimerKind::RegAwaitAuth);
    outstanding_ = false;
    awaiting_ = Awaiting::Nothing;
    challenge_.reset();
    answer_.reset();
    invalidChallengeAnswer_.reset();
    reclaimed_.reset();
}

void RegistrationEngine::Impl::releaseOffer(Actions& out) {
    if (!offer_) return;
    out.push_back(action::ReleaseSecurity{offer_->ports});
    offer_.reset();
}

SaSet* RegistrationEngine::Impl::findSet(std::optional<SaSetId> id) {
    if (!id) return nullptr;
    auto found = std::find_if(sets_.begin(), sets_.end(),
                              [&](const SaSet& set) { return set.view.id == *id; });
    return found == sets_.end() ? nullptr : &*found;
}

const SaSet* RegistrationEngine::Impl::findSet(std::optional<SaSetId> id) const {
    return const_cast<Impl*>(this)->findSet(id);
}

void RegistrationEngine::Impl::removeSet(Actions& out, SaSetId id) {
    out.push_back(action::RemoveSaSet{id});
    std::erase_if(sets_, [&](const SaSet& set) { return set.view.id == id; });
    if (established_ == id) established_.reset();
    if (temporary_ == id) temporary_.reset();
    changed_ = true;
}

void RegistrationEngine::Impl::removeAllSets(Actions& out) {
    while (!sets_.empty()) removeSet(out, sets_.front().view.id);
}

// 24.229 5.1.1.5.1: the old set goes "when the first request or response protected with the
// newly established set ... is received from the P-CSCF ... after all SIP transactions that
// use the old set ... are completed". The daemon sees no SIP: the application may say when
// its transactions are done; without word, the longest transaction time (64 * T1) after the
// first message on the new set. A network that never moves to the new set (Kamailio 5.6)
// leaves it until its own lifetime ends, the outer bound in every case.
void RegistrationEngine::Impl::settleRetiringSets(Time now, Actions& out) {
    std::vector<SaSetId> ended;
    std::optional<Time> next;
    for (const auto& set : sets_) {
        if (set.view.state != SaSetState::Retiring) continue;
        Time until = set.endsAt;
        if (set.successorUsedAt && set.transactions == SaSet::Transactions::Done) {
            until = now;
        } else if (set.successorUsedAt && set.transactions == SaSet::Transactions::Unknown) {
            until = std::min(until, *set.successorUsedAt + config.timers.retiringGrace);
        }
        if (until <= now) {
            ended.push_back(set.view.id);
        } else if (!next || until < *next) {
            next = until;
        }
    }
    for (SaSetId id : ended) removeSet(out, id);
    if (!next) {
        cancel(out, TimerKind::Retire);
    } else if (retireAt_ != next) {
        retireAt_ = next;
        arm(out, TimerKind::Retire, *next);
    }
}

// The registration is gone (deregistered, lapsed, ended by the network): nothing of it
// stays, neither SAs nor what the 200 OK told us.
void RegistrationEngine::Impl::dropRegistration(Actions& out) {
    endTransaction(out);
    removeAllSets(out);
    releaseOffer(out);
    cancel(out, TimerKind::Refresh);
    cancel(out, TimerKind::Retire);
    registered_ = false;
    lastAuthorization_.reset();
    info.expiresAt.reset();
    info.associatedUris.clear();
    info.serviceRoute.clear();
    info.publicGruu.clear();
    info.temporaryGruu.clear();
    info.deregisteredUris.clear();
    reginfoVersion_.reset();  // the next registration has a subscription of its own
    info.outbound = false;
    changed_ = true;
}

void RegistrationEngine::Impl::finishDeregistration(Actions& out) {
    dropRegistration(out);
    followsFailedReregistration_ = false;
    refusedRefresh_ = false;
    failedInitialAttempts_ = 0;
    setState(out, RegistrationState::Unregistered);
}

RegistrationState RegistrationEngine::Impl::attemptState() const {
    switch (purpose_) {
        case Purpose::Refresh:
            return RegistrationState::Reregistering;
        case Purpose::Deregister:
            return RegistrationState::Deregistering;
        case Purpose::Initial:
            break;
    }
    return RegistrationState::Registering;
}

// 24.229 5.1.1.4.1: 600 s before expiry when the registration lasts more than 1200 s,
// otherwise at half of it.
void RegistrationEngine::Impl::armRefresh(Time now, Actions& out, Seconds duration) {
    const auto& timers = config.timers;
    Time at = duration > timers.refreshThreshold ? now + duration - timers.refreshMargin
                                                 : now + duration / 2;
    arm(out, TimerKind::Refresh, at);
}

Actions RegistrationEngine::Impl::registerNow(Time) {
    requireOpen();
    Actions out;
    switch (state) {
        case RegistrationState::Failed:
            throwWrongState("the registration failed (" + info.lastError +
                            "): close it, and create a new one to try again");
        case RegistrationState::Idle:
        case RegistrationState::Unregistered:
            setState(out, RegistrationState::Registering);
            startAttempt(out, Purpose::Initial);
            return out;
        case RegistrationState::Registered:
            setState(out, RegistrationState::Reregistering);
            startAttempt(out, Purpose::Refresh);
            return out;
        case RegistrationState::Backoff:
            throwWrongState(
                "backing off after failed initial registrations (RefreshDue(Retry) "
                "says when to try again)");
        default:
            // 24.229 5.1.1.2.1: a new registration only after the final response.
            throwWrongState("a registration procedure is in progress");
    }
}

Actions RegistrationEngine::Impl::deregister(Time now) {
    requireOpen();
    Actions out;
    if (state == RegistrationState::Registered) {
        cancel(out, TimerKind::Refresh);
        purpose_ = Purpose::Deregister;
        setState(out, RegistrationState::Deregistering);
        if (findSet(established_) && !config.deregisterWithTheSetsOffer) {
            // 24.229 5.1.1.6 and 5.1.1.5.1: the network may challenge the de-REGISTER, and
            // the answer needs a new temporary set: the de-REGISTER offers new SPIs and ports.
            startAttempt(out, Purpose::Deregister);
        } else {
            sendRegister(now, out, findSet(established_), lastAuthorization_);
        }
        return out;
    }
    bool initialInProgress =
        (state == RegistrationState::Registering || state == RegistrationState::Authenticating) &&
        purpose_ == Purpose::Initial;
    if (initialInProgress) {
        // Nothing is registered yet: abandon the attempt without a message. The count of
        // failed attempts stays, so this is no way around the back-off.
        dropRegistration(out);
        setState(out, RegistrationState::Unregistered);
        return out;
    }
    throwWrongState("nothing to deregister in state " + std::string(toString(state)));
}

Actions RegistrationEngine::Impl::close(Time) {
    Actions out;
    if (closed_) return out;
    dropRegistration(out);
    cancel(out, TimerKind::Backoff);
    closed_ = true;
    setState(out, RegistrationState::Unregistered);
    return out;
}

Actions RegistrationEngine::Impl::transportError(Time now) {
    requireOpen();
    if (!outstanding_) throwWrongState("a transport error with no REGISTER outstanding");
    Actions out;
    failAttempt(now, out, "transport error", Failure::NoAnswer);
    return out;
}

Actions RegistrationEngine::Impl::timerFired(Time now, TimerKind kind) {
    Actions out;
    // Cancelled while already on its way; close() cancelled every timer, so a timer after
    // it is one of these too, not a misuse.
    if (armed_.erase(kind) == 0) return out;
    requireOpen();
    switch (kind) {
        case TimerKind::TimerF:
            if (outstanding_) {
                failAttempt(now, out, "no final response before timer F", Failure::NoAnswer, {},
                            Trigger::Timer);
            }
            break;
        case TimerKind::RegAwaitAuth:
            if (temporary_) {
                failAttempt(now, out, "no 200 OK before reg-await-auth expired", Failure::Other, {},
                            Trigger::Timer);
            }
            break;
        case TimerKind::Refresh:
            if (!registered_) break;
            settleRetiringSets(now, out);
            if (info.expiresAt && now >= *info.expiresAt) {
                lapse(out);
            } else if (state == RegistrationState::Registered) {
                out.push_back(
                    action::RefreshDue{std::exchange(nextRefresh_, RefreshReason::Expiry)});
            }
            break;
        case TimerKind::Backoff:
            // The five-attempt back-off ends the count; a pacing wait does not.
            if (std::exchange(countEndsWithWait_, false)) failedInitialAttempts_ = 0;
            setState(out, RegistrationState::Unregistered);
            out.push_back(action::RefreshDue{waitReason_});
            break;
        case TimerKind::Retire:
            retireAt_.reset();
            settleRetiringSets(now, out);
            break;
    }
    return out;
}

Actions RegistrationEngine::Impl::inboundTraffic(Time now, SaSetId id) {
    requireOpen();
    if (!findSet(id)) throwWrongState("inbound traffic on an unknown SA set");
    Actions out;
    // The network uses the new set: the sets it replaces may go once their transactions end.
    if (id != established_) return out;
    bool first = false;
    for (auto& set : sets_) {
        if (set.view.state != SaSetState::Retiring || set.successorUsedAt) continue;
        set.successorUsedAt = now;
        first = true;
    }
    if (first) settleRetiringSets(now, out);
    return out;
}

Actions RegistrationEngine::Impl::retiringTransactions(Time now, bool pending) {
    requireOpen();
    bool any = false;
    for (auto& set : sets_) {
        if (set.view.state != SaSetState::Retiring) continue;
        set.transactions = pending ? SaSet::Transactions::Pending : SaSet::Transactions::Done;
        any = true;
    }
    if (!any) throwWrongState("no SA set is retiring");
    Actions out;
    settleRetiringSets(now, out);
    return out;
}

std::vector<SaSetView> RegistrationEngine::Impl::saSetViews() const {
    std::vector<SaSetView> views;
    for (const auto& set : sets_) views.push_back(set.view);
    return views;
}

std::optional<SaSetView> RegistrationEngine::Impl::currentSetView() const {
    const SaSet* set = findSet(established_);
    if (!set) set = findSet(temporary_);
    if (!set) return std::nullopt;
    return set->view;
}

}  // namespace imsaka::daemon
