// The engine's state and the helpers its handlers share (private to the engine).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "imsaka/daemon/engine.h"
#include "imsaka/daemon/headers.h"
#include "imsaka/sip/digest.h"
#include "imsaka/sip/reginfo.h"
#include "imsaka/sip/sec_agree.h"

namespace imsaka::daemon {

// What the attempt in progress is for.
enum class Purpose { Initial, Refresh, Deregister };

// Our reserved ports and SPIs, and the Security-Client written from them.
struct Offer {
    SecurityOffer ports;
    std::vector<sip::SecurityMechanism> client;
    std::string clientText;
};

struct SaSet {
    SaSetView view;
    Offer offer;                 // the Security-Client that created it, repeated on this set
    std::string securityVerify;  // the Security-Server it answered, mirrored on this set
    Time endsAt;                 // end of its SIP-level lifetime
    // While retiring (24.229 5.1.1.5.1): when the network first used its successor, and
    // what the application said of its transactions on it.
    std::optional<Time> successorUsedAt;
    enum class Transactions { Unknown, Pending, Done } transactions = Transactions::Unknown;
};

// A usable 401: the challenge and the Security-Server mechanism chosen.
struct Challenge {
    sip::DigestChallenge digest;
    sip::IpsecParameters server;
    std::string securityVerify;
    sip::AkaNonce nonce;  // RAND and AUTN for the card
};

// What noticed a failure: an event with a caller to hand a REGISTER to, or a timer.
enum class Trigger { Event, Timer };

// How an attempt failed, as far as what follows depends on it.
enum class Failure {
    Forbidden,  // 403: no further attempt (24.228 6.9.3)
    Lost,       // 408, 500, 504, a 200 without our Contact: the registration is gone
    NoAnswer,   // timer F or a transport error: try the next P-CSCF (24.229 5.1.1.2.1)
    Unusable,   // a 401 that cannot be answered: a new REGISTER at once (5.1.1.5.1 3)
    Other,      // other error responses, reg-await-auth, card, SA and port failures
};

// The asynchronous result the engine waits for, if any.
enum class Awaiting { Nothing, Reservation, Reclaim, Authentication, Installation };

class RegistrationEngine::Impl {
  public:
    explicit Impl(RegistrationConfig config);

    Actions registerNow(Time now);
    Actions deregister(Time now);
    Actions response(Time now, const SipResponse& response);
    Actions transportError(Time now);
    Actions notify(Time now, std::string_view reginfoXml);
    Actions close(Time now);
    Actions update(Time now, const RegistrationUpdate& update);
    Actions securityReserved(Time now, const SecurityOffer& offer);
    Actions securityUnavailable(Time now, std::string_view reason);
    Actions authenticated(Time now, const sip::AkaResult& result);
    Actions authenticationFailed(Time now, std::string_view reason);
    Actions saSetInstalled(Time now, SaSetId id);
    Actions saSetFailed(Time now, SaSetId id, std::string_view reason);
    Actions inboundTraffic(Time now, SaSetId id);
    Actions retiringTransactions(Time now, bool pending);
    Actions timerFired(Time now, TimerKind kind);

    // Appends InfoChanged when the info or the SA sets changed during the event.
    Actions finish(Actions out);
    std::vector<SaSetView> saSetViews() const;
    std::optional<SaSetView> currentSetView() const;
    const std::string& pcscfAddress() const noexcept { return config.pcscfs[pcscfIndex_].address; }

    RegistrationConfig config;
    RegistrationState state = RegistrationState::Idle;
    RegistrationInfo info;
    std::string callId;

  private:
    // engine.cc: state, timers and attempts.
    void requireOpen() const;
    void setState(Actions& out, RegistrationState next);
    void arm(Actions& out, TimerKind kind, Time at);
    void cancel(Actions& out, TimerKind kind);
    void startAttempt(Actions& out, Purpose purpose);
    action::ReserveSecurity reservation() const;  // for the next offer of purpose_
    RegistrationState attemptState() const;       // registering, reregistering or deregistering
    void endTransaction(Actions& out);
    void releaseOffer(Actions& out);
    void removeSet(Actions& out, SaSetId id);
    void removeAllSets(Actions& out);
    void settleRetiringSets(Time now, Actions& out);
    void dropRegistration(Actions& out);
    void armRefresh(Time now, Actions& out, Seconds duration);
    void setError(std::string reason);
    std::string newToken();

    // failures.cc: failed attempts, pacing and back-off.
    void failAttempt(Time now, Actions& out, std::string reason, Failure failure,
                     std::optional<uint32_t> retryAfter = std::nullopt,
                     Trigger trigger = Trigger::Event);
    void failRefresh(Time now, Actions& out, Failure failure, std::optional<uint32_t> retryAfter,
                     Trigger trigger);
    void retryNow(Actions& out, Trigger trigger, RefreshReason reason);
    void wait(Time now, Actions& out, Seconds duration, RefreshReason reason, bool endsCount);
    void lapse(Actions& out);
    Seconds pacingWait(unsigned failures) const;

    // requests.cc: the REGISTER requests.
    void sendRegister(Time now, Actions& out, const SaSet* over,
                      const std::optional<sip::DigestCredentials>& authorization);
    void sendInitial(Time now, Actions& out);
    std::string contactUri(uint16_t port) const;
    sip::DigestCredentials emptyAuthorization() const;

    // responses.cc: final responses.
    void onChallenge(Time now, Actions& out, const SipResponse& response);
    void onSuccess(Time now, Actions& out, const SipResponse& response);
    void onIntervalTooBrief(Time now, Actions& out, const SipResponse& response);
    void onUseProxy(Time now, Actions& out);
    void finishDeregistration(Actions& out);

    // reg_event.cc helpers.
    enum class VersionCheck { InOrder, Gap, Stale };
    VersionCheck checkVersion(const sip::Reginfo& reginfo);
    std::vector<const sip::ReginfoRegistration*> noteIdentityStates(const sip::Reginfo& reginfo);
    void endedByNetwork(Time now, Actions& out, sip::ContactAction action, const std::string& why,
                        bool rejected, std::optional<uint32_t> retryAfter);

    // security.cc helpers.
    Actions reclaimDone(const SecurityOffer& ports);
    SaSet* findSet(std::optional<SaSetId> id);
    const SaSet* findSet(std::optional<SaSetId> id) const;
    Offer makeOffer(const SecurityOffer& ports) const;
    std::optional<std::string> unusableServer(const sip::IpsecParameters& server,
                                              std::optional<SaSetId> replaced) const;

    std::string fromTag_;
    uint32_t cseq_ = 0;
    size_t pcscfIndex_ = 0;
    uint32_t expires_ = 0;  // requested; raised by a 423
    bool closed_ = false;
    bool registered_ = false;  // the network holds our registration
    Purpose purpose_ = Purpose::Initial;
    bool outstanding_ = false;  // a REGISTER awaits its final response
    Awaiting awaiting_ = Awaiting::Nothing;
    std::optional<Offer> offer_;      // reserved, not part of any set yet
    std::optional<Offer> reclaimed_;  // a temporary set's offer, until its reservation is back
    std::optional<Challenge> challenge_;
    std::optional<sip::DigestCredentials> answer_;  // to the challenge in progress
    // The answer to a challenge the card found invalid, until its new offer is reserved.
    std::optional<sip::DigestCredentials> invalidChallengeAnswer_;
    std::optional<sip::DigestCredentials> lastAuthorization_;  // after the last AKA success
    std::string lastContact_;                                  // Contact URI of the last REGISTER
    std::vector<std::string> lastFeatureTags_;                 // normalized, of the last REGISTER
    std::string registeredContact_;  // Contact URI the last 200 OK accepted
    std::vector<SaSet> sets_;
    SaSetId nextSetId_ = 1;
    std::optional<SaSetId> established_;
    std::optional<SaSetId> temporary_;
    std::set<TimerKind> armed_;
    std::optional<uint32_t> reginfoVersion_;  // of the last reg-event body taken
    std::optional<Time> retireAt_;            // when the Retire timer is armed for
    unsigned failedInitialAttempts_ = 0;
    unsigned failedRefreshes_ = 0;  // consecutive, for the pacing of refresh retries
    size_t silentPcscfs_ = 0;       // consecutive P-CSCFs that did not answer
    bool followsFailedReregistration_ = false;
    bool refusedRefresh_ = false;                        // a 403 to a refresh: no further attempt
    RefreshReason nextRefresh_ = RefreshReason::Expiry;  // what the Refresh timer says
    RefreshReason waitReason_ = RefreshReason::Retry;    // what the Backoff timer says
    bool countEndsWithWait_ = false;                     // the wait is the five-attempt back-off
    bool changed_ = false;  // info or SA sets changed during the current event
};

// capabilities.cc: what the application adds to REGISTERs (EngineError(InvalidConfig) when
// refused), and feature tags as a comparable set.
void validateFeatureTags(const std::vector<std::string>& tags);
void validateExtraHeaders(const std::vector<std::pair<std::string, std::string>>& headers);
std::vector<std::string> normalizedTags(const std::vector<std::string>& tags);
bool isAccessNetworkInfo(std::string_view headerName);

// Values of one header in a response (case-insensitive name or its compact form).
std::vector<std::string_view> headerValues(const SipResponse& response, std::string_view name);

[[noreturn]] void throwWrongState(const std::string& what);
[[noreturn]] void throwMalformed(std::string_view header, const std::string& what);

}  // namespace imsaka::daemon
