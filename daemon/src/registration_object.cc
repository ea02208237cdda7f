#include "registration_object.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iterator>

#include "access.h"
#include "log.h"
#include "quiet_signal.h"
#include "registration_options.h"

namespace imsaka::daemon {

namespace {

constexpr const char* kInterface = "org.imsaka.Registration1";

using Clock = std::chrono::steady_clock;

sdbus::Error toDbus(const DaemonError& error) {
    return sdbus::Error(std::string(dbusErrorName(error.code())), error.what());
}

std::map<std::string, sdbus::Variant> requestMap(const OutgoingRegister& request) {
    std::vector<sdbus::Struct<std::string, std::string>> headers;
    for (const auto& [name, value] : request.headers) headers.emplace_back(name, value);
    return {
        {"uri", sdbus::Variant(request.requestUri)},
        {"headers", sdbus::Variant(headers)},
        {"transport", sdbus::Variant(std::string(toString(request.transport)))},
        {"local_address", sdbus::Variant(request.localAddress)},
        {"local_port", sdbus::Variant(request.localPort)},
        {"remote_address", sdbus::Variant(request.remoteAddress)},
        {"remote_port", sdbus::Variant(request.remotePort)},
        {"protected", sdbus::Variant(request.protectedBySa)},
    };
}

sip::AkaResult toAka(cardio::AuthResult& result) {
    if (result.kind == cardio::AuthResult::Kind::SyncFailure)
        return sip::AkaSyncFailure{result.auts};
    return sip::AkaSuccess{std::move(result.res), std::move(result.ck), std::move(result.ik)};
}

// A duration as milliseconds with two decimals, for the log.
std::string milliseconds(std::chrono::steady_clock::duration duration) {
    auto hundredths = std::chrono::duration_cast<std::chrono::microseconds>(duration).count() / 10;
    char text[32];
    std::snprintf(text, sizeof text, "%lld.%02lld", static_cast<long long>(hundredths / 100),
                  static_cast<long long>(hundredths % 100));
    return text;
}

}  // namespace

RegistrationObject::RegistrationObject(RegistrationContext context, unsigned number,
                                       std::string owner, std::string cardPath,
                                       RegistrationConfig config,
                                       std::vector<resolver::Target> pcscfTargets)
    : AdaptorInterfaces(context.connection, "/org/imsaka/registration/" + std::to_string(number)),
      context_(std::move(context)),
      number_(number),
      path_("/org/imsaka/registration/" + std::to_string(number)),
      owner_(std::move(owner)),
      cardPath_(std::move(cardPath)),
      engine_(std::move(config)),
      pcscfTargets_(std::move(pcscfTargets)) {
    registerAdaptor();
    emitInterfacesAddedSignal({kInterface});
}

RegistrationObject::~RegistrationObject() {
    *alive_ = false;
    closeNow();
    emitQuietly("InterfacesRemoved", [&] { emitInterfacesRemovedSignal({kInterface}); });
    unregisterAdaptor();
}

void RegistrationObject::closeNow() noexcept {
    if (closed_) return;
    closed_ = true;
    held_.clear();
    try {
        execute(engine_.close(Clock::now()));
    } catch (const std::exception& e) {
        log::error(path_ + ": closing: " + e.what());
    }
    inboundWatch_.clear();
    timers_.clear();
    sets_.clear();  // whatever the engine did not remove goes with its object
    if (lastOffer_) context_.security.release(*lastOffer_);
    lastOffer_.reset();
    if (pending_) {
        failure_ = DaemonError(DaemonErrc::WrongState, "the registration was closed");
        emitQuietly("the answer to a waiting call", [&] { answerPending(); });
    }
    log::info(path_ + ": closed");
}

void RegistrationObject::execute(Actions actions) {
    // In order; the results of an action are handled after the actions already queued.
    std::deque<Action> queue(std::make_move_iterator(actions.begin()),
                             std::make_move_iterator(actions.end()));
    while (!queue.empty()) {
        if (failure_ && std::holds_alternative<action::ReserveSecurity>(queue.front())) {
            // The engine retries at once after a failed attempt; the caller gets the error
            // now and the retry from its next Register(), so nothing new is reserved (or
            // left in the kernel) until the application asks.
            held_.insert(held_.end(), std::make_move_iterator(queue.begin()),
                         std::make_move_iterator(queue.end()));
            break;
        }
        Action action = std::move(queue.front());
        queue.pop_front();
        Actions more;
        perform(action, more);
        for (auto& next : more) queue.push_back(std::move(next));
    }
}

void RegistrationObject::perform(Action& action, Actions& more) {
    auto now = Clock::now();
    std::visit(
        [&](auto& a) {
            using A = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<A, action::ReserveSecurity>) {
                const auto& config = engine_.config();
                std::optional<SecurityOffer> reserved;
                try {
                    reserved = context_.security.reserve(config.localAddress, PcscfAddress(),
                                                         a.serverPort);
                    lastOffer_ = reserved;
                    more = engine_.securityReserved(now, *reserved);
                } catch (const EngineError&) {
                    // The engine refused the offer and changed nothing: it is still ours.
                    context_.security.release(*reserved);
                    lastOffer_.reset();
                    throw;
                } catch (...) {
                    auto error = classify(std::current_exception());
                    log::warning(path_ + ": " + error.what());
                    lastError_ = error.what();
                    more = engine_.securityUnavailable(now, error.what());
                    // A de-REGISTER goes out anyway (with the set's own offer): no error then.
                    bool sends = std::any_of(more.begin(), more.end(), [](const Action& next) {
                        return std::holds_alternative<action::Send>(next);
                    });
                    if (!sends) failure_ = error;
                }
            } else if constexpr (std::is_same_v<A, action::ReclaimSecurity>) {
                reclaim(a.id, more);
            } else if constexpr (std::is_same_v<A, action::ReleaseSecurity>) {
                context_.security.release(a.offer);
                if (lastOffer_ && lastOffer_->spiUc == a.offer.spiUc) lastOffer_.reset();
            } else if constexpr (std::is_same_v<A, action::Authenticate>) {
                startAuthentication(a);
            } else if constexpr (std::is_same_v<A, action::InstallSaSet>) {
                try {
                    auto installStarted = std::chrono::steady_clock::now();
                    auto installed =
                        context_.security.install(a.set, engine_.config().localAddress, a.ck, a.ik);
                    auto installTook = std::chrono::steady_clock::now() - installStarted;
                    if (lastOffer_ && lastOffer_->spiUc == a.set.ours.spiUc) lastOffer_.reset();
                    sets_[a.set.id] = std::make_unique<SaObject>(
                        context_.connection, path_ + "/sa/" + std::to_string(a.set.id),
                        context_.security, std::move(installed), a.set.state);
                    // Where a challenge's time goes, for operators and the benchmarks.
                    log::info(path_ + ": SA set " + std::to_string(a.set.id) + " installed in " +
                              milliseconds(installTook) + " ms; the card answered in " +
                              milliseconds(cardTook_) + " ms");
                    announce_.insert(a.set.id);
                    signalLater();
                    more = engine_.saSetInstalled(now, a.set.id);
                } catch (...) {
                    auto error = classify(std::current_exception());
                    log::error(path_ + ": installing SA set: " + error.what());
                    lastError_ = error.what();
                    failure_ = error;
                    more = engine_.saSetFailed(now, a.set.id, error.what());
                }
                a.ck.clear();
                a.ik.clear();
            } else if constexpr (std::is_same_v<A, action::SetSaLifetime>) {
                if (auto it = sets_.find(a.id); it != sets_.end()) {
                    try {
                        it->second->setLifetime(a.lifetime);
                    } catch (const std::exception& e) {
                        log::error(path_ + ": SA lifetime: " + e.what());
                    }
                }
            } else if constexpr (std::is_same_v<A, action::RemoveSaSet>) {
                inboundWatch_.erase(a.id);
                if (sets_.erase(a.id))
                    log::debug(path_ + ": SA set " + std::to_string(a.id) + " removed");
            } else if constexpr (std::is_same_v<A, action::WatchInbound>) {
                watchInbound(a.id);
            } else if constexpr (std::is_same_v<A, action::Send>) {
                toSend_ = std::move(a.request);
            } else if constexpr (std::is_same_v<A, action::ArmTimer>) {
                auto& timer = timers_[a.kind];
                if (!timer) {
                    auto kind = a.kind;
                    timer = std::make_unique<Timer>(context_.loop, [this, kind] {
                        toSend_.reset();
                        try {
                            execute(engine_.timerFired(Clock::now(), kind));
                        } catch (const std::exception& e) {
                            log::error(path_ + ": timer: " + e.what());
                        }
                        if (toSend_)
                            log::debug(path_ + ": a timer asked to send; the next call will");
                    });
                }
                timer->armAt(a.at);
            } else if constexpr (std::is_same_v<A, action::CancelTimer>) {
                if (auto it = timers_.find(a.kind); it != timers_.end()) it->second->cancel();
            } else if constexpr (std::is_same_v<A, action::RefreshDue>) {
                refreshDue_.emplace_back(toString(a.reason));
                signalLater();
            } else if constexpr (std::is_same_v<A, action::StateChanged>) {
                // Steps within one exchange at debug; where the registration ends up at info.
                bool settled = a.state == RegistrationState::Registered ||
                               a.state == RegistrationState::Unregistered ||
                               a.state == RegistrationState::Failed ||
                               a.state == RegistrationState::Backoff;
                log::write(settled ? log::Level::Info : log::Level::Debug,
                           path_ + ": " + std::string(toString(a.state)));
                changed_.insert("State");
                signalLater();
            } else if constexpr (std::is_same_v<A, action::InfoChanged>) {
                for (const auto& view : engine_.saSets())
                    if (auto it = sets_.find(view.id); it != sets_.end())
                        it->second->setState(view.state);
                for (const char* name :
                     {"PcscfAddress", "PortUc", "PortUs", "PortPc", "PortPs", "Expires",
                      "AssociatedUris", "BarredUris", "DeregisteredUris", "ServiceRoute",
                      "PublicGruu", "TemporaryGruu", "LastError", "Outbound"})
                    changed_.insert(name);
                signalLater();
            }
        },
        action);
}

// A second challenge to the REGISTER a temporary set protected: the set goes, its ports
// and SPIs stay reserved for the set of the new challenge (same offer, new keys).
void RegistrationObject::reclaim(SaSetId id, Actions& more) {
    auto now = Clock::now();
    inboundWatch_.erase(id);
    std::unique_ptr<InstalledSet> installed;
    if (auto it = sets_.find(id); it != sets_.end()) {
        installed = it->second->release();
        sets_.erase(it);
    }
    try {
        if (!installed)
            throw DaemonError(DaemonErrc::Failed,
                              "SA set " + std::to_string(id) + " is not installed");
        auto offer = context_.security.reclaim(std::move(installed));
        lastOffer_ = offer;
        log::debug(path_ + ": SA set " + std::to_string(id) +
                   " removed; its ports and SPIs wait for the next challenge's set");
        more = engine_.securityReserved(now, offer);
    } catch (...) {
        auto error = classify(std::current_exception());
        log::warning(path_ + ": reclaiming SA set " + std::to_string(id) + ": " + error.what());
        lastError_ = error.what();
        failure_ = error;
        more = engine_.securityUnavailable(now, error.what());
    }
}

void RegistrationObject::signalLater() {
    // Signals go out after the reply of the call that caused them (posted, they run once the
    // call has been answered), and one PropertiesChanged covers a whole exchange.
    if (flushPosted_) return;
    flushPosted_ = true;
    std::weak_ptr<bool> alive = alive_;
    context_.loop.post([this, alive] {
        if (!alive.expired()) flushSignals();
    });
}

void RegistrationObject::flushSignals() {
    flushPosted_ = false;
    for (auto id : announce_)
        if (auto it = sets_.find(id); it != sets_.end()) it->second->announce();
    announce_.clear();
    if (!changed_.empty())
        emitPropertiesChangedSignal(kInterface,
                                    std::vector<std::string>(changed_.begin(), changed_.end()));
    changed_.clear();
    for (const auto& reason : refreshDue_) emitRefreshDue(reason);
    refreshDue_.clear();
}

void RegistrationObject::startAuthentication(const action::Authenticate& request) {
    auto* card = context_.cards.find(cardPath_);
    if (!card) {
        authenticationDone(DaemonError(DaemonErrc::CardAbsent, "the card's reader is gone"));
        return;
    }
    awaitingCard_ = true;
    cardStarted_ = std::chrono::steady_clock::now();
    std::weak_ptr<bool> alive = alive_;
    card->authenticate(SecureBytes(request.rand.begin(), request.rand.end()),
                       SecureBytes(request.autn.begin(), request.autn.end()),
                       [this, alive](std::variant<cardio::AuthResult, DaemonError> outcome) {
                           if (alive.expired() || closed_) return;
                           authenticationDone(std::move(outcome));
                       });
}

void RegistrationObject::authenticationDone(std::variant<cardio::AuthResult, DaemonError> outcome) {
    awaitingCard_ = false;
    cardTook_ = std::chrono::steady_clock::now() - cardStarted_;
    auto now = Clock::now();
    Actions actions;
    try {
        if (auto* result = std::get_if<cardio::AuthResult>(&outcome)) {
            actions = engine_.authenticated(now, toAka(*result));
        } else {
            const auto& error = std::get<DaemonError>(outcome);
            if (error.code() == DaemonErrc::MacFailure) {
                log::notice(path_ + ": the card found the network's AUTN invalid (MAC failure)");
                actions = engine_.authenticated(now, sip::AkaMacFailure{});
            } else {
                log::warning(path_ + ": AUTHENTICATE failed: " + error.what());
                lastError_ = error.what();
                failure_ = error;
                actions = engine_.authenticationFailed(now, error.what());
            }
        }
        execute(std::move(actions));
    } catch (...) {
        failure_ = classify(std::current_exception());
    }
    if (!awaitingCard_) answerPending();
}

void RegistrationObject::watchInbound(SaSetId id) {
    // The kernel has no event for "first packet on an SA": poll its counters, often at first
    // (the first message usually follows at once), then every half second. What they count
    // now (the 200 OK that established the set, at least) is not news.
    auto watched = sets_.find(id);
    if (watched == sets_.end()) return;
    uint64_t baseline = 0;
    try {
        baseline = watched->second->inboundPackets();
    } catch (const std::exception& e) {
        log::debug(path_ + ": inbound counters: " + e.what());
        return;
    }
    auto delay = std::make_shared<std::chrono::milliseconds>(10);
    auto timer = std::make_unique<Timer>(context_.loop, [this, id, delay, baseline] {
        auto set = sets_.find(id);
        if (set == sets_.end()) {
            inboundWatch_.erase(id);
            return;
        }
        uint64_t packets = 0;
        try {
            packets = set->second->inboundPackets();
        } catch (const std::exception& e) {
            log::debug(path_ + ": inbound counters: " + e.what());
            inboundWatch_.erase(id);
            return;
        }
        if (packets <= baseline) {
            *delay = std::min(*delay * 2, std::chrono::milliseconds(500));
            inboundWatch_[id]->armIn(*delay);
            return;
        }
        inboundWatch_.erase(id);  // destroys this callback's timer: nothing of it used below
        log::debug(path_ + ": the network uses SA set " + std::to_string(id));
        execute(engine_.inboundTraffic(Clock::now(), id));
    });
    timer->armIn(*delay);
    inboundWatch_[id] = std::move(timer);
}

RegistrationObject::Reply RegistrationObject::takeReply() {
    if (toSend_) {
        auto request = requestMap(*toSend_);
        toSend_.reset();
        return {"send", std::move(request)};
    }
    switch (engine_.state()) {
        case RegistrationState::Unregistered:
        case RegistrationState::Failed:
            return {"stop", {}};
        case RegistrationState::Backoff:
            return {"wait", {}};
        default:
            return {"done", {}};
    }
}

void RegistrationObject::answerPending() {
    if (!pending_) return;
    auto reply = std::move(pending_);
    if (failure_) {
        reply->returnError(toDbus(*failure_));
        failure_.reset();
        toSend_.reset();
        return;
    }
    auto [next, request] = takeReply();
    reply->returnResults(next, request);
}

[[noreturn]] void RegistrationObject::fail(std::exception_ptr error) {
    throw toDbus(classify(error));
}

std::optional<DaemonError> RegistrationObject::callerRefused() {
    const auto* message = getObject().getCurrentlyProcessedMessage();
    if (message->getSender() == owner_ ||
        callerUid(getObject().getConnection(), message->getSender()) == 0)
        return std::nullopt;
    return DaemonError(DaemonErrc::NotAllowed,
                       "the registration belongs to another client (" + owner_ + ")");
}

std::optional<DaemonError> RegistrationObject::cannotTakeEvent() {
    if (auto refused = callerRefused()) return refused;
    if (closed_) return DaemonError(DaemonErrc::WrongState, "the registration is closed");
    if (pending_ || awaitingCard_)
        return DaemonError(DaemonErrc::WrongState, "a response is still being handled");
    return std::nullopt;
}

RegistrationObject::Reply RegistrationObject::call(const std::function<Actions(Time)>& event) {
    if (auto cannot = cannotTakeEvent()) throw toDbus(*cannot);
    failure_.reset();
    toSend_.reset();
    try {
        execute(event(Clock::now()));
    } catch (...) {
        fail(std::current_exception());
    }
    if (failure_) {
        auto error = *failure_;
        failure_.reset();
        toSend_.reset();
        throw toDbus(error);
    }
    return takeReply();
}

RegistrationObject::Reply RegistrationObject::Register() {
    // A new flow of an identity whose registered flow the registrar took without outbound
    // (RFC 5626 4.2.1) would be a second binding, not a flow: refused.
    bool initial = engine_.state() != RegistrationState::Registered;
    if (initial && engine_.config().regId && context_.refuseFlow && !callerRefused())
        if (auto refused = context_.refuseFlow(*this)) throw toDbus(*refused);
    return call([this](Time now) {
        if (held_.empty()) return engine_.registerNow(now);
        Actions retry(std::make_move_iterator(held_.begin()), std::make_move_iterator(held_.end()));
        held_.clear();
        return retry;
    });
}

RegistrationObject::Reply RegistrationObject::HandleTimeout() {
    return call([this](Time now) { return engine_.transportError(now); });
}

RegistrationObject::Reply RegistrationObject::HandleNotify(const std::string& body) {
    // What a NOTIFY body costs the loop, taken or refused (operators, the benchmark).
    struct Timing {
        const std::string& path;
        size_t bytes;
        Clock::time_point started = Clock::now();
        ~Timing() {
            log::debug(path + ": reg-event body of " + std::to_string(bytes) +
                       " bytes handled in " + milliseconds(Clock::now() - started) + " ms");
        }
    } timing{path_, body.size()};
    return call([this, &body](Time now) { return engine_.notify(now, body); });
}

RegistrationObject::Reply RegistrationObject::Update(
    const std::map<std::string, sdbus::Variant>& changes) {
    if (auto refused = callerRefused()) throw toDbus(*refused);
    RegistrationUpdate update;
    try {
        update = parseRegistrationUpdate(changes);
    } catch (...) {
        fail(std::current_exception());
    }
    auto reply = call([this, &update](Time now) { return engine_.update(now, update); });
    if (update.featureTags) changed_.insert("FeatureTags");
    if (update.extraHeaders) changed_.insert("Headers");
    signalLater();
    return reply;
}

std::vector<sdbus::Struct<std::string, std::string>> RegistrationObject::Headers() {
    std::vector<sdbus::Struct<std::string, std::string>> headers;
    for (const auto& [name, value] : engine_.config().extraHeaders)
        headers.emplace_back(name, value);
    return headers;
}

RegistrationObject::Reply RegistrationObject::Deregister() {
    return call([this](Time now) { return engine_.deregister(now); });
}

void RegistrationObject::HandleResponse(
    sdbus::Result<std::string, std::map<std::string, sdbus::Variant>>&& result, uint16_t status,
    std::vector<sdbus::Struct<std::string, std::string>> headers) {
    if (auto cannot = cannotTakeEvent()) {
        result.returnError(toDbus(*cannot));
        return;
    }
    if (status < 100 || status > 699) {
        result.returnError(
            toDbus(DaemonError(DaemonErrc::InvalidArguments, "status must be 100..699")));
        return;
    }
    SipResponse response;
    response.status = status;
    for (auto& header : headers)
        response.headers.emplace_back(std::move(std::get<0>(header)),
                                      std::move(std::get<1>(header)));
    failure_.reset();
    toSend_.reset();
    pending_ = std::make_unique<sdbus::Result<std::string, std::map<std::string, sdbus::Variant>>>(
        std::move(result));
    try {
        execute(engine_.response(Clock::now(), response));
    } catch (...) {
        failure_ = classify(std::current_exception());
    }
    if (!awaitingCard_) answerPending();
}

void RegistrationObject::RetiringTransactions(const bool& pending) {
    if (auto refused = callerRefused()) throw toDbus(*refused);
    if (closed_) throw toDbus(DaemonError(DaemonErrc::WrongState, "the registration is closed"));
    try {
        execute(engine_.retiringTransactions(Clock::now(), pending));
    } catch (...) {
        fail(std::current_exception());
    }
}

sdbus::UnixFd RegistrationObject::OpenSocket(const std::string& transport,
                                             const std::string& role) {
    if (auto refused = callerRefused()) throw toDbus(*refused);
    if (transport != "udp" && transport != "tcp")
        throw toDbus(DaemonError(DaemonErrc::InvalidArguments, "transport is udp or tcp"));
    if (role != "client" && role != "server")
        throw toDbus(DaemonError(DaemonErrc::InvalidArguments, "role is client or server"));
    bool tcp = transport == "tcp";
    bool server = role == "server";
    int fd = -1;
    // The set the next protected request leaves from: a temporary one while a challenge is
    // answered (the REGISTER over it), else the one in use.
    auto current = engine_.currentSet();
    for (const auto& view : engine_.saSets())
        if (view.state == SaSetState::Temporary) current = view;
    if (current && sets_.count(current->id)) {
        auto& set = sets_.at(current->id)->set();
        fd = server ? set.server->duplicate(tcp, server) : set.client.duplicate(tcp, server);
    } else if (lastOffer_) {
        fd = context_.security.duplicatePending(server ? lastOffer_->portUs : lastOffer_->portUc,
                                                tcp, server);
    } else {
        throw toDbus(
            DaemonError(DaemonErrc::WrongState, "no protected port yet: call Register first"));
    }
    if (fd < 0 && (errno == EMFILE || errno == ENFILE))
        throw toDbus(descriptorsExhausted("the socket to hand out"));
    if (fd < 0)
        throw toDbus(DaemonError(DaemonErrc::Failed, std::string("cannot hand out the socket: ") +
                                                         std::strerror(errno)));
    return sdbus::UnixFd(fd, sdbus::adopt_fd);
}

void RegistrationObject::Close() {
    if (auto refused = callerRefused()) throw toDbus(*refused);
    closeNow();
    context_.closeLater(number_);
}

std::string RegistrationObject::PcscfAddress() {
    // The set's peer; else the P-CSCF in use (after a 305 not the first of the list).
    if (auto current = engine_.currentSet()) return current->pcscfAddress;
    return engine_.pcscfAddress();
}

std::vector<sdbus::Struct<std::string, uint16_t, std::string>> RegistrationObject::PcscfTargets() {
    std::vector<sdbus::Struct<std::string, uint16_t, std::string>> targets;
    for (const auto& target : pcscfTargets_)
        targets.emplace_back(target.address, target.port,
                             std::string(resolver::toString(target.transport)));
    return targets;
}

uint16_t RegistrationObject::PortUc() {
    if (auto current = engine_.currentSet()) return current->ours.portUc;
    return lastOffer_ ? lastOffer_->portUc : 0;
}

uint16_t RegistrationObject::PortUs() {
    if (auto current = engine_.currentSet()) return current->ours.portUs;
    return lastOffer_ ? lastOffer_->portUs : 0;
}

uint16_t RegistrationObject::PortPc() {
    auto current = engine_.currentSet();
    return current ? current->theirs.portC : 0;
}

uint16_t RegistrationObject::PortPs() {
    auto current = engine_.currentSet();
    return current ? current->theirs.portS : 0;
}

uint64_t RegistrationObject::Expires() {
    const auto& at = engine_.info().expiresAt;
    if (!at) return 0;
    auto left = std::chrono::duration_cast<std::chrono::seconds>(*at - Clock::now()).count();
    return static_cast<uint64_t>(time(nullptr) + (left > 0 ? left : 0));
}

std::string RegistrationObject::LastError() {
    const auto& engineError = engine_.info().lastError;
    return engineError.empty() ? lastError_ : engineError;
}

}  // namespace imsaka::daemon
