// Failed attempts and what follows them: 24.229 5.1.1.2.1 (initial registration: another
// P-CSCF after timer F, at most five attempts before the back-off), 5.1.1.4.1 (a refresh
// that fails with 408, 500, 504 or timer F becomes an initial registration), 5.1.1.5.1
// (the temporary set goes, the old one stays), 24.228 6.9.3 (a 403 ends the attempts), and
// the pacing of the attempts in between (RFC 5626 4.5).
#include <openssl/rand.h>

#include <algorithm>
#include <cmath>

#include "impl.h"

namespace imsaka::daemon {
namespace {

// A share in [0.5, 1] from OpenSSL's generator, for the jitter of RFC 5626 4.5.
double randomShare() {
    uint32_t value = 0;
    if (RAND_bytes(reinterpret_cast<uint8_t*>(&value), sizeof value) != 1) return 1.0;
    return 0.5 + 0.5 * (static_cast<double>(value) / 4294967296.0);
}

}  // namespace

// RFC 5626 4.5: min(max-time, base-time * 2^failures), of which a random 50 to 100 % is
// waited so that UEs failed by one outage do not all come back at once.
Seconds RegistrationEngine::Impl::pacingWait(unsigned failures) const {
    const auto& timers = config.timers;
    double full = static_cast<double>(timers.retryBase.count()) *
                  std::ldexp(1.0, static_cast<int>(std::min(failures, 30u)));
    full = std::min(full, static_cast<double>(timers.retryMax.count()));
    double share = std::clamp(config.jitter ? config.jitter() : randomShare(), 0.5, 1.0);
    return Seconds(std::max<long long>(1, std::llround(full * share)));
}

void RegistrationEngine::Impl::wait(Time now, Actions& out, Seconds duration, RefreshReason reason,
                                    bool endsCount) {
    waitReason_ = reason;
    countEndsWithWait_ = endsCount;
    setState(out, RegistrationState::Backoff);
    arm(out, TimerKind::Backoff, now + duration);
}

// A new attempt at once: an event's caller gets the REGISTER, a timer asks for registerNow.
void RegistrationEngine::Impl::retryNow(Actions& out, Trigger trigger, RefreshReason reason) {
    if (trigger == Trigger::Timer) {
        setState(out, RegistrationState::Unregistered);
        out.push_back(action::RefreshDue{reason});
        return;
    }
    setState(out, RegistrationState::Registering);
    startAttempt(out, Purpose::Initial);
}

// The registration ran out without a successful refresh.
void RegistrationEngine::Impl::lapse(Actions& out) {
    dropRegistration(out);
    if (refusedRefresh_) {
        // 24.228 6.9.3: after a 403 the UE ceases registration attempts.
        setState(out, RegistrationState::Failed);
        return;
    }
    setError("the registration expired before it could be refreshed");
    followsFailedReregistration_ = true;
    setState(out, RegistrationState::Unregistered);
    out.push_back(action::RefreshDue{RefreshReason::RegisterAgain});
}

// One place for every failed attempt: error responses, timer F, transport errors,
// reg-await-auth, unusable 401s, a 200 without our Contact, card, SA and port failures.
void RegistrationEngine::Impl::failAttempt(Time now, Actions& out, std::string reason,
                                           Failure failure, std::optional<uint32_t> retryAfter,
                                           Trigger trigger) {
    endTransaction(out);
    if (temporary_) removeSet(out, *temporary_);  // the old set, if any, stays in use
    releaseOffer(out);
    setError(std::move(reason));
    // A P-CSCF that never answered: the next one in the list (24.229 5.1.1.2.1 a),
    // 5.1.1.4.1; NOTE 3 allows other signs than timer F, such as a transport error).
    bool untriedPcscf = false;
    if (failure == Failure::NoAnswer && purpose_ != Purpose::Deregister) {
        pcscfIndex_ = (pcscfIndex_ + 1) % config.pcscfs.size();
        untriedPcscf = ++silentPcscfs_ < config.pcscfs.size();
        if (!untriedPcscf) silentPcscfs_ = 0;  // all tried: the next round tries each again
    }
    switch (purpose_) {
        case Purpose::Deregister:
            finishDeregistration(out);
            return;
        case Purpose::Refresh:
            failRefresh(now, out, failure, retryAfter, trigger);
            return;
        case Purpose::Initial:
            break;
    }
    if (failure == Failure::Forbidden) {
        // 24.228 6.9.3: "On receiving the 403 Forbidden response the UE ceases
        // registration and authentication attempts".
        setState(out, RegistrationState::Failed);
        return;
    }
    if (++failedInitialAttempts_ >= config.timers.maxInitialAttempts) {
        // 24.229 5.1.1.2.1: Retry-After, else 30 minutes after a failed re-registration,
        // else 5 minutes.
        Seconds duration = retryAfter                     ? Seconds(*retryAfter)
                           : followsFailedReregistration_ ? config.timers.backoffAfterReregistration
                                                          : config.timers.backoffAfterInitial;
        wait(now, out, duration, RefreshReason::Retry, true);
        return;
    }
    // Another P-CSCF, or a 401 to abandon (5.1.1.5.1 3: "send a new REGISTER request with a
    // new Call-ID"), goes at once; anything else waits its Retry-After or the pacing wait.
    if (!retryAfter && (untriedPcscf || failure == Failure::Unusable)) {
        retryNow(out, trigger, RefreshReason::Retry);
        return;
    }
    wait(now, out, retryAfter ? Seconds(*retryAfter) : pacingWait(failedInitialAttempts_),
         RefreshReason::Retry, false);
}

void RegistrationEngine::Impl::failRefresh(Time now, Actions& out, Failure failure,
                                           std::optional<uint32_t> retryAfter, Trigger trigger) {
    switch (failure) {
        case Failure::Forbidden:
            // 24.229 5.1.1.5.1: the registration failed, the old set stays in use; 24.228
            // 6.9.3: no further attempt. It serves until it expires.
            refusedRefresh_ = true;
            setState(out, RegistrationState::Registered);
            if (info.expiresAt) arm(out, TimerKind::Refresh, *info.expiresAt);
            return;
        case Failure::Lost:
        case Failure::NoAnswer:
            // 24.229 5.1.1.4.1: the procedures for initial registration, now; after timer F
            // the set in use is no longer active (5.1.1.2.1), and a 408, 500 or 504 says the
            // registration is gone as well.
            dropRegistration(out);
            followsFailedReregistration_ = true;
            failedInitialAttempts_ = 0;
            if (retryAfter) {
                // RFC 3261 20.33: the service is back no sooner than the Retry-After of the
                // 500 (or 503) said, so the initial registration waits for it.
                wait(now, out, Seconds(*retryAfter), RefreshReason::RegisterAgain, false);
                return;
            }
            retryNow(out, trigger, RefreshReason::RegisterAgain);
            return;
        case Failure::Unusable:
        case Failure::Other:
            break;
    }
    // Anything else: the registration holds until it expires; the refresh is tried again
    // after Retry-After or the pacing wait when that comes first.
    ++failedRefreshes_;
    setState(out, RegistrationState::Registered);
    if (!info.expiresAt) return;
    Time retry = now + (retryAfter ? Seconds(*retryAfter) : pacingWait(failedRefreshes_));
    if (retry < *info.expiresAt) {
        nextRefresh_ = RefreshReason::Retry;
        arm(out, TimerKind::Refresh, retry);
    } else {
        arm(out, TimerKind::Refresh, *info.expiresAt);
    }
}

}  // namespace imsaka::daemon
