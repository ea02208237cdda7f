// org.imsaka.Registration1: the glue between one RegistrationEngine and the world. It turns
// D-Bus calls into engine events, carries out the engine's actions in order (ports and SPIs,
// the card, the kernel, timers, signals) and feeds their results back, and answers
// HandleResponse only once the card and the SA install are done.
#pragma once

#include <imsaka/dbus/Registration1_adaptor.h>
#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "card_manager.h"
#include "event_loop.h"
#include "imsaka/daemon/engine.h"
#include "imsaka/daemon/errors.h"
#include "imsaka/resolver/rfc3263.h"
#include "sa_object.h"
#include "security_manager.h"

namespace imsaka::daemon {

struct RegistrationContext {
    sdbus::IConnection& connection;
    EventLoop& loop;
    SecurityManager& security;
    CardManager& cards;
    // Tells the owner the registration is closed: it stops counting for the quotas at once,
    // and its object is destroyed from the loop, after the current call.
    std::function<void(unsigned number)> closeLater;
    // Why this flow (a registration with a reg-id) may not register now, or nothing: RFC 5626
    // flows of an identity need a registrar that accepted outbound.
    std::function<std::optional<DaemonError>(const class RegistrationObject&)> refuseFlow;
};

class RegistrationObject final
    : public sdbus::AdaptorInterfaces<::org::imsaka::Registration1_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
  public:
    using Reply = std::tuple<std::string, std::map<std::string, sdbus::Variant>>;

    // pcscfTargets: what the P-CSCF resolved to, in order (the PcscfTargets property).
    RegistrationObject(RegistrationContext context, unsigned number, std::string owner,
                       std::string cardPath, RegistrationConfig config,
                       std::vector<resolver::Target> pcscfTargets = {});
    ~RegistrationObject();  // removes every SA set, answers a call still waiting

    const std::string& path() const { return path_; }
    const std::string& owner() const { return owner_; }
    const std::string& cardPath() const { return cardPath_; }
    const RegistrationConfig& config() const { return engine_.config(); }
    RegistrationState state() const { return engine_.state(); }
    // The registrar accepted RFC 5626 outbound for this flow (Require: outbound in its 200).
    bool outboundAccepted() const { return engine_.info().outbound; }
    // Drops every SA set now, with no message (Close, client gone, shutdown).
    void closeNow() noexcept;

  private:
    // Registration1
    Reply Register() override;
    void HandleResponse(sdbus::Result<std::string, std::map<std::string, sdbus::Variant>>&& result,
                        uint16_t status,
                        std::vector<sdbus::Struct<std::string, std::string>> headers) override;
    Reply HandleTimeout() override;
    Reply HandleNotify(const std::string& body) override;
    Reply Deregister() override;
    Reply Update(const std::map<std::string, sdbus::Variant>& changes) override;
    void RetiringTransactions(const bool& pending) override;
    sdbus::UnixFd OpenSocket(const std::string& transport, const std::string& role) override;
    void Close() override;
    std::string State() override { return std::string(toString(engine_.state())); }
    sdbus::ObjectPath Card() override { return sdbus::ObjectPath(cardPath_); }
    std::string Owner() override { return owner_; }
    std::string Impi() override { return engine_.config().impi; }
    std::string Impu() override { return engine_.config().impu; }
    std::string InstanceId() override { return engine_.config().instanceId; }
    uint32_t RegId() override { return engine_.config().regId.value_or(0); }
    std::string Transport() override { return std::string(toString(engine_.config().transport)); }
    std::string LocalAddress() override { return engine_.config().localAddress; }
    std::vector<std::string> FeatureTags() override { return engine_.config().featureTags; }
    std::vector<sdbus::Struct<std::string, std::string>> Headers() override;
    std::string PcscfAddress() override;
    std::vector<sdbus::Struct<std::string, uint16_t, std::string>> PcscfTargets() override;
    uint16_t PortUc() override;
    uint16_t PortUs() override;
    uint16_t PortPc() override;
    uint16_t PortPs() override;
    uint64_t Expires() override;
    std::vector<std::string> AssociatedUris() override { return engine_.info().associatedUris; }
    std::vector<std::string> BarredUris() override { return engine_.info().barredUris; }
    std::vector<std::string> DeregisteredUris() override { return engine_.info().deregisteredUris; }
    std::vector<std::string> ServiceRoute() override { return engine_.info().serviceRoute; }
    std::string PublicGruu() override { return engine_.info().publicGruu; }
    std::string TemporaryGruu() override { return engine_.info().temporaryGruu; }
    bool Outbound() override { return engine_.info().outbound; }
    std::string LastError() override;

    // Runs actions (and the actions their results lead to) until done or waiting for the card.
    void execute(Actions actions);
    void perform(Action& action, Actions& more);
    void signalLater();
    void flushSignals();
    void startAuthentication(const action::Authenticate& request);
    void authenticationDone(std::variant<cardio::AuthResult, DaemonError> outcome);
    void watchInbound(SaSetId id);
    void reclaim(SaSetId id, Actions& more);
    Reply takeReply();
    void answerPending();
    Reply call(const std::function<Actions(Time)>& event);
    [[noreturn]] void fail(std::exception_ptr error);
    // Only the owner (and root) may drive a registration or take its sockets.
    std::optional<DaemonError> callerRefused();
    // Why an event call cannot be taken now (not the owner, closed, busy), or nothing.
    std::optional<DaemonError> cannotTakeEvent();

    RegistrationContext context_;
    unsigned number_;
    std::string path_;
    std::string owner_;
    std::string cardPath_;
    RegistrationEngine engine_;
    std::vector<resolver::Target> pcscfTargets_;
    std::map<SaSetId, std::unique_ptr<SaObject>> sets_;
    std::map<TimerKind, std::unique_ptr<Timer>> timers_;
    std::map<SaSetId, std::unique_ptr<Timer>> inboundWatch_;
    std::optional<OutgoingRegister> toSend_;
    std::deque<Action> held_;  // the engine's retry after a failed attempt, for Register()
    std::optional<SecurityOffer> lastOffer_;  // reserved, for OpenSocket before the 401
    bool awaitingCard_ = false;
    // How long the last AUTHENTICATE took, reported with the SA set it keyed.
    std::chrono::steady_clock::time_point cardStarted_;
    std::chrono::steady_clock::duration cardTook_{};
    std::optional<DaemonError> failure_;  // to answer the waiting call with
    std::string lastError_;
    std::unique_ptr<sdbus::Result<std::string, std::map<std::string, sdbus::Variant>>> pending_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool closed_ = false;
    // Signals waiting for the end of the current call (see signalLater()).
    bool flushPosted_ = false;
    std::set<std::string> changed_;
    std::vector<std::string> refreshDue_;
    std::set<SaSetId> announce_;
};

}  // namespace imsaka::daemon
