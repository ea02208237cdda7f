#pragma once

// The registration engine: the UE side of TS 24.229 5.1.1.2 (initial registration),
// 5.1.1.4 (re-registration), 5.1.1.5 (IMS AKA and its SA sets), 5.1.1.6 (deregistration)
// and the reg-event rules, for one registration. It owns no socket, thread or clock: each
// call takes an event and the current time and returns the actions the caller must carry
// out, in order. Results of actions that need I/O (SPI reservation, AUTHENTICATE, SA install)
// come back as further events.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "imsaka/common/bytes.h"
#include "imsaka/sip/digest.h"
#include "imsaka/sip/sec_agree.h"

namespace imsaka::daemon {

using Time = std::chrono::steady_clock::time_point;
using Seconds = std::chrono::seconds;

enum class Transport { Udp, Tcp };
std::string_view toString(Transport transport);  // "udp", "tcp"

struct EngineTimers {
    Seconds regAwaitAuth{240};         // lifetime of a temporary SA set (reg-await-auth)
    Seconds timerF{128};               // 64 * T1 with T1 = 2 s
    unsigned maxInitialAttempts = 5;   // consecutive failed initial registrations before back-off
    Seconds backoffAfterInitial{300};  // 5 min when no Retry-After
    Seconds backoffAfterReregistration{1800};  // 30 min when no Retry-After
    Seconds refreshMargin{600};                // re-register this long before expiry ...
    Seconds refreshThreshold{
        1200};            // ... when the registration lasts longer than this, else at half
    Seconds saGrace{30};  // established SA lifetime = expires + this
    // A retiring set outlives the first message the network sends on its successor by the
    // longest transaction time (64 * T1), unless the application says its transactions on
    // it are done (24.229 5.1.1.5.1); its own lifetime is the outer bound.
    Seconds retiringGrace{128};
    // Pacing of the attempts below the limit (RFC 5626 4.5): the n-th consecutive failure
    // waits min(retryMax, retryBase * 2^n), less up to half of it (jitter).
    Seconds retryBase{30};
    Seconds retryMax{1800};
};

// A P-CSCF to register through: an IP literal and the port for unprotected REGISTERs.
struct PcscfTarget {
    std::string address;
    uint16_t port = 5060;
    bool operator==(const PcscfTarget&) const = default;
};

struct RegistrationConfig {
    std::string impi;               // username in Authorization
    std::string impu;               // From/To
    std::string homeDomain;         // Request-URI sip:<homeDomain>, uri= in Authorization
    std::string instanceId;         // +sip.instance value, e.g. "<urn:uuid:...>"
    std::optional<uint32_t> regId;  // set for an additional registration (RFC 5626 reg-id)
    Transport transport = Transport::Udp;
    std::string localAddress;  // IP literal of the UE
    // In order of preference: the first is used; a 305, timer F or a transport error moves
    // to the next (24.229 5.1.1.2.1, 5.1.1.4.1).
    std::vector<PcscfTarget> pcscfs;
    uint16_t unprotectedPort = 5060;  // our port for unprotected REGISTERs (Via sent-by)
    uint32_t expires = 600000;        // requested registration lifetime in seconds
    // The offer: every integrity algorithm with every encryption one. Kept short, since each
    // pair is a mechanism of about 110 bytes in every REGISTER.
    std::vector<sip::IntegrityAlgorithm> integrity{sip::IntegrityAlgorithm::HmacMd5_96,
                                                   sip::IntegrityAlgorithm::HmacSha1_96};
    std::vector<sip::EncryptionAlgorithm> encryption{sip::EncryptionAlgorithm::Null,
                                                     sip::EncryptionAlgorithm::AesCbc};
    // RFC 3261 18.1.1, which TS 24.229 4.2A applies to the UE whatever MTU it knows: a
    // request larger than this many bytes (requestSize) goes over TCP when the registration
    // uses UDP; the SA selectors cover both.
    size_t maxUdpSize = 1300;
    EngineTimers timers;
    // Interop (Kamailio 5.6): after a challenge answered without SAs (MAC or SQN failure)
    // repeat the offer the challenge answered instead of offering new SPIs and ports as
    // 24.229 5.1.1.5.3 and 5.1.1.5.4 ask; 5.6 keeps a pending contact's first offer.
    bool keepOfferAfterInvalidChallenge = false;
    // Interop (Kamailio 5.6): the de-REGISTER repeats the offer of the set in use instead of
    // offering new SPIs and ports (24.229 5.1.1.6): 5.6 sends the 200 OK of a de-REGISTER
    // to the port_us of its Security-Client, where no SA exists. A 401 to it then fails.
    bool deregisterWithTheSetsOffer = false;
    // Contact parameters the application adds: the feature tags of the services it intends
    // to use (24.229 5.1.1.2.1 c): +g.3gpp.icsi-ref, +g.3gpp.iari-ref, +g.3gpp.smsip, ...),
    // each "name" or "name=value" as written in the Contact. Not +sip.instance, reg-id or
    // expires, which the engine writes.
    std::vector<std::string> featureTags;
    // Headers added to every REGISTER (User-Agent, ...); P-Access-Network-Info only to those
    // sent over an SA set (24.229 5.1.1.2.1 h)). Not the headers the engine writes.
    std::vector<std::pair<std::string, std::string>> extraHeaders;
    // Source of Call-IDs, tags, branches and cnonces; empty means random (OpenSSL RAND).
    // Tests inject a deterministic one.
    std::function<std::string()> newToken;
    // The share of a pacing wait actually waited, in [0.5, 1]; empty means random. Tests
    // inject a fixed one.
    std::function<double()> jitter;
};

enum class RegistrationState {
    Idle,            // created, nothing sent yet
    Registering,     // an unprotected or protected REGISTER is outstanding
    Authenticating,  // a 401 is being answered (card, SA install)
    Registered,
    Reregistering,  // registered, and a refresh REGISTER is outstanding
    Deregistering,  // REGISTER with Expires: 0 outstanding
    Backoff,        // waiting before the next initial attempt (RefreshDue says when)
    Unregistered,   // deregistered, or the network ended it; may register again
    Failed,         // ended for good (403, rejected, no P-CSCF left after a 305)
};
std::string_view toString(RegistrationState state);

// Ports and SPIs the caller reserved for the next SA set (our side of Security-Client).
struct SecurityOffer {
    uint16_t portUc = 0;
    uint16_t portUs = 0;
    uint32_t spiUc = 0;
    uint32_t spiUs = 0;
};

using Header = std::pair<std::string, std::string>;  // name, value (one per header line)

struct SipResponse {
    uint16_t status = 0;
    std::vector<Header> headers;  // names compared case-insensitively; compact forms allowed
};

// A REGISTER for the application to send. It adds only Via's branch, Max-Forwards and
// Content-Length; every other header it needs is here.
struct OutgoingRegister {
    std::string requestUri;       // sip:<homeDomain>
    std::vector<Header> headers;  // Via (sent-by, no branch), From, To, Call-ID, CSeq, Contact,
                                  // Expires, Authorization, Security-*, Require, Proxy-Require,
                                  // Supported
    Transport transport = Transport::Udp;
    std::string localAddress;
    uint16_t localPort = 0;  // send from here (5060-style port when unprotected, port_uc)
    std::string remoteAddress;
    uint16_t remotePort = 0;  // P-CSCF port (the target's port unprotected, port_ps protected)
    bool protectedBySa = false;
};

// What the application adds to a REGISTER the engine hands out, counted by requestSize:
// the Via branch, Max-Forwards, Content-Length and the blank line (80 bytes at most).
inline constexpr size_t kApplicationAllowance = 80;
// The size of the request as sent: the request line and headers as handed out, plus
// kApplicationAllowance.
size_t requestSize(const OutgoingRegister& request);

using SaSetId = uint32_t;  // engine-assigned, unique per engine

enum class SaSetState { Temporary, Established, Retiring };
std::string_view toString(SaSetState state);

struct SaSetView {
    SaSetId id = 0;
    SaSetState state = SaSetState::Temporary;
    SecurityOffer ours;
    sip::IpsecParameters theirs;  // from Security-Server
    std::string pcscfAddress;
    Seconds lifetime{0};
};

struct RegistrationInfo {
    std::optional<Time> expiresAt;
    std::vector<std::string> associatedUris;  // P-Associated-URI, first is the default IMPU
    std::vector<std::string> barredUris;  // our IMPU when the 200 OK leaves it out (5.1.1.2.1 c)
    // Identities of this registration (ours, and P-Associated-URI's) that the reg-event
    // reported terminated (24.229 5.1.2.1), until it reports them active again.
    std::vector<std::string> deregisteredUris;
    std::vector<std::string> serviceRoute;
    std::string publicGruu;
    std::string temporaryGruu;
    std::string lastError;  // human-readable reason of the last failure, empty when none
    // A flow (reg-id): the registrar accepted outbound, Require: outbound in the last 200 OK
    // (RFC 5626 4.2.1). Without it no further flow of the same identity makes sense.
    bool outbound = false;
};

enum class TimerKind { TimerF, RegAwaitAuth, Refresh, Backoff, Retire };
// Resubscribe asks for no REGISTER: the reg-event subscription missed a notification (RFC
// 3680 version gap) and a refresh of it brings the full state.
enum class RefreshReason {
    Expiry,
    Retry,
    Reauthenticate,
    RegisterAgain,
    Resubscribe,
    Capabilities
};
// "expiry", "retry", "reauthenticate", "register-again", "resubscribe", "capabilities"
std::string_view toString(RefreshReason reason);

namespace action {
// Answer with securityReserved() or securityUnavailable(). A new set of a registration keeps
// the protected server port of the set in use, with new SPIs and a new client port (TS 33.203
// 7.4), so that the Contact stays: serverPort is then that port, to share with that set.
struct ReserveSecurity {
    std::optional<uint16_t> serverPort;
};
struct ReleaseSecurity {
    SecurityOffer offer;  // reserved but never installed
};
// Remove the set's SAs and policies but keep its ports and SPIs reserved for a set made
// from the same offer (a new challenge to the REGISTER the set protected); answer with
// securityReserved() (that offer) or securityUnavailable().
struct ReclaimSecurity {
    SaSetId id;
};
struct Authenticate {  // answer with authenticated() or authenticationFailed()
    std::array<uint8_t, 16> rand;
    std::array<uint8_t, 16> autn;
};
// Answer with saSetInstalled() or saSetFailed(); after a failure the engine asks for
// RemoveSaSet(id): remove whatever part was installed, and the offer's reservation.
struct InstallSaSet {
    SaSetView set;
    SecureBytes ck;
    SecureBytes ik;
};
struct SetSaLifetime {
    SaSetId id;
    Seconds lifetime;
};
struct RemoveSaSet {
    SaSetId id;
};
// Report with inboundTraffic() the first packet that arrives on this set after this action
// (the 200 OK that established it has already been counted).
struct WatchInbound {
    SaSetId id;
};
struct Send {
    OutgoingRegister request;
};
struct ArmTimer {
    TimerKind kind;
    Time at;
};
struct CancelTimer {
    TimerKind kind;
};
struct RefreshDue {
    RefreshReason reason;
};
struct StateChanged {
    RegistrationState state;
};
struct InfoChanged {};  // RegistrationInfo or the SA sets changed
}  // namespace action

using Action = std::variant<action::ReserveSecurity, action::ReleaseSecurity,
                            action::ReclaimSecurity, action::Authenticate, action::InstallSaSet,
                            action::SetSaLifetime, action::RemoveSaSet, action::WatchInbound,
                            action::Send, action::ArmTimer, action::CancelTimer, action::RefreshDue,
                            action::StateChanged, action::InfoChanged>;
using Actions = std::vector<Action>;

enum class EngineErrc {
    WrongState,       // the event makes no sense now (e.g. a response with nothing outstanding)
    MalformedHeader,  // a header of the response could not be parsed (what() names it)
    MalformedBody,    // a reg-event NOTIFY body is not reginfo XML
    InvalidConfig,
};

// A change of what the application adds to its REGISTERs; what is empty stays as it is.
struct RegistrationUpdate {
    std::optional<std::vector<std::string>> featureTags;
    std::optional<std::vector<std::pair<std::string, std::string>>> extraHeaders;
};

class EngineError : public std::runtime_error {
  public:
    EngineError(EngineErrc code, const std::string& what) : std::runtime_error(what), code_(code) {}
    EngineErrc code() const noexcept { return code_; }

  private:
    EngineErrc code_;
};

// How the engine behaves where the specifications leave a choice:
// - Every event either returns actions or throws EngineError and changes nothing; after an
//   EngineError the caller still owns what it passed (release an offer it reserved).
// - InfoChanged, when present, is the last action. ArmTimer for a kind already armed moves
//   it. A timer that fires after it was cancelled (by close() too) is ignored (empty
//   result).
// - A failed initial attempt (error response, unusable 401, timer F, transport error, card
//   or SA failure, a 200 OK without our Contact) counts towards maxInitialAttempts. A 403
//   ends it all (Failed, 24.228 6.9.3). Below the limit the next attempt goes at once only
//   when there is a P-CSCF not yet tried after timer F or a transport error, or a 401 to
//   abandon (new Call-ID); an event hands it over (ReserveSecurity), a timer asks for it
//   (Unregistered, RefreshDue(Retry)). Anything else waits: Backoff for the response's
//   Retry-After, else the pacing wait (timers.retryBase/retryMax, RFC 5626 4.5), then
//   RefreshDue(Retry). At the limit: Backoff for Retry-After, 30 minutes after a failed
//   re-registration, else 5 minutes. registerNow is refused while backing off.
// - A refresh answered 408, 500 or 504, or ended by timer F or a transport error (then at
//   the next P-CSCF), becomes an initial registration at once (24.229 5.1.1.4.1): the
//   registration and its sets are dropped. A 403 keeps the set until expiry, then Failed.
//   Other failures keep the registration and ask for the refresh again
//   (RefreshDue(Retry)) after Retry-After or the pacing wait if that comes before expiry;
//   a registration that expires unrefreshed is dropped (Unregistered,
//   RefreshDue(RegisterAgain)), and the back-off that may follow is the 30-minute one.
// - A 401 to the REGISTER protected by a temporary set replaces that set: ReclaimSecurity
//   frees it and keeps its offer, which the new set reuses (the answer repeats the
//   challenged Security-Client). The de-REGISTER offers new SPIs and ports, so that a 401
//   to it is answered over a temporary set like any other.
// - After a MAC or SQN failure the REGISTER goes out without SAs and with a new offer
//   (24.229 5.1.1.5.3, 5.1.1.5.4), or, with keepOfferAfterInvalidChallenge, the same one.
// - A 200 OK to deregistration, any final response to it, or its timeout all end in
//   Unregistered with every SA set removed.
// - Our binding in a 200 OK or a reg-event body is the one with the Contact URI we sent;
//   with a reg-id, also the one with our +sip.instance and reg-id (RFC 5626). Without a
//   reg-id the instance alone is not enough: an older binding may share it.
// - lastError never holds key material; it may quote the network's headers (control
//   characters replaced by '?').
class RegistrationEngine {
  public:
    explicit RegistrationEngine(RegistrationConfig config);  // throws EngineError(InvalidConfig)

    // Application-driven events.
    // Initial registration or refresh; starts with ReserveSecurity (every REGISTER offers
    // new SPIs). WrongState while an attempt is outstanding, in Backoff and once Failed.
    Actions registerNow(Time now);
    // REGISTER Expires: 0 over the established set, with a new offer (ReserveSecurity
    // first). During an initial attempt it abandons the attempt; WrongState while a refresh
    // is outstanding or nothing is registered (Backoff included: close() ends that).
    Actions deregister(Time now);
    Actions response(Time now, const SipResponse& response);
    Actions transportError(Time now);  // a failed attempt, like timer F firing
    // reg-event NOTIFY body: shortened => RefreshDue(Reauthenticate); deactivated, expired
    // => Unregistered + RefreshDue(RegisterAgain) (probation: Backoff for its retry-after,
    // then the same; during a deregistration: only Unregistered); rejected => Failed,
    // unregistered => Unregistered, with every SA set removed. WrongState unless the network
    // holds a registration (24.229 5.1.1.3: only one it holds is reported on).
    Actions notify(Time now, std::string_view reginfoXml);
    Actions close(Time now);  // drop everything: RemoveSaSet for each set, no message
    // New feature tags or extra headers (InvalidConfig for values refused, nothing changes).
    // They go on every REGISTER from the next one on. A changed set of feature tags is a
    // change of capabilities, which 24.229 5.1.1.4.1 asks to register: registered, the
    // re-registration starts at once (as registerNow); with a REGISTER outstanding that
    // carried the old set, its 200 OK brings RefreshDue(Capabilities).
    Actions update(Time now, const RegistrationUpdate& update);

    // Results of actions.
    Actions securityReserved(Time now, const SecurityOffer& offer);
    Actions securityUnavailable(Time now, std::string_view reason);
    Actions authenticated(Time now, const sip::AkaResult& result);
    Actions authenticationFailed(Time now, std::string_view reason);  // card absent, PIN, ...
    Actions saSetInstalled(Time now, SaSetId id);
    Actions saSetFailed(Time now, SaSetId id, std::string_view reason);
    Actions inboundTraffic(Time now, SaSetId id);
    // Whether the application still has SIP transactions on the retiring set(s)
    // (24.229 5.1.1.5.1): false lets a retiring set go as soon as the network has used its
    // successor; true keeps it past the grace, up to its lifetime. WrongState when no set
    // is retiring.
    Actions retiringTransactions(Time now, bool pending);
    Actions timerFired(Time now, TimerKind kind);

    RegistrationState state() const noexcept;
    const RegistrationConfig& config() const noexcept;
    const RegistrationInfo& info() const noexcept;
    std::vector<SaSetView> saSets() const;
    std::optional<SaSetView> currentSet() const;  // the set protected requests use now
    const std::string& callId() const noexcept;
    // The P-CSCF in use: where the next REGISTER goes and the peer of the SA set that
    // ReserveSecurity prepares for. pcscfs[0] at first; a 305, timer F or a transport
    // error moves it to the next (round the list).
    const std::string& pcscfAddress() const noexcept;

  private:
    class Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace imsaka::daemon
