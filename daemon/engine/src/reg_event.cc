// reg-event NOTIFY bodies (RFC 3680, TS 24.229 5.1.1.3 and 5.1.2.1): the identities of this
// registration the network deregistered, and what an event on our own contact asks of us.
#include <algorithm>
#include <map>

#include "impl.h"
#include "imsaka/sip/reginfo.h"

namespace imsaka::daemon {

// RFC 3680 4.4: versions count up by one per document of a subscription, from 0. A version
// not above the last is a duplicate or arrived late and is dropped; a partial document
// after a gap is applied (what it says still holds) and the application is asked to refresh
// its subscription, whose full state brings back what was missed.
RegistrationEngine::Impl::VersionCheck RegistrationEngine::Impl::checkVersion(
    const sip::Reginfo& reginfo) {
    // Version 0 of a full state starts a subscription (the application subscribed again).
    bool starts = reginfo.full && reginfo.version == 0;
    if (reginfoVersion_ && !starts && reginfo.version <= *reginfoVersion_)
        return VersionCheck::Stale;
    bool gap =
        !reginfo.full && !starts && (!reginfoVersion_ || reginfo.version != *reginfoVersion_ + 1);
    reginfoVersion_ = reginfo.version;
    return gap ? VersionCheck::Gap : VersionCheck::InOrder;
}

// 24.229 5.1.2.1: an identity reported "active" is registered, "terminated" deregistered.
// Only identities of this registration count (our IMPU and the 200 OK's P-Associated-URI),
// so the list never holds more than those, whatever the body names. Returns our IMPU's
// registrations (each AoR is put in canonical form once: the work is linear in the body).
std::vector<const sip::ReginfoRegistration*> RegistrationEngine::Impl::noteIdentityStates(
    const sip::Reginfo& reginfo) {
    std::map<std::string, std::string> ours;  // canonical form -> as we know it
    for (const auto& uri : info.associatedUris) ours.emplace(sip::canonicalUri(uri), uri);
    const std::string impu = sip::canonicalUri(config.impu);
    ours.emplace(impu, config.impu);
    std::vector<const sip::ReginfoRegistration*> ourRegistrations;
    auto& deregistered = info.deregisteredUris;
    for (const auto& registration : reginfo.registrations) {
        auto identity = ours.find(sip::canonicalUri(registration.aor));
        if (identity == ours.end()) continue;
        if (identity->first == impu) ourRegistrations.push_back(&registration);
        if (registration.state == sip::RegistrationState::Init) continue;
        auto listed = std::find(deregistered.begin(), deregistered.end(), identity->second);
        bool terminated = registration.state == sip::RegistrationState::Terminated;
        if (terminated && listed == deregistered.end()) {
            deregistered.push_back(identity->second);
            changed_ = true;
        } else if (!terminated && listed != deregistered.end()) {
            deregistered.erase(listed);
            changed_ = true;
        }
    }
    return ourRegistrations;
}

// The network ended the registration: register again, wait out a probation, or stop.
void RegistrationEngine::Impl::endedByNetwork(Time now, Actions& out, sip::ContactAction action,
                                              const std::string& why, bool rejected,
                                              std::optional<uint32_t> retryAfter) {
    if (state == RegistrationState::Deregistering) {
        // It crossed our own deregistration: the registration is gone, as asked.
        finishDeregistration(out);
        return;
    }
    dropRegistration(out);
    setError("the network ended the registration (" + why + ")");
    if (action == sip::ContactAction::Stop) {
        setState(out, rejected ? RegistrationState::Failed : RegistrationState::Unregistered);
    } else if (retryAfter) {
        // RFC 3680 5.3 (probation): register again, after retry-after.
        wait(now, out, Seconds(*retryAfter), RefreshReason::RegisterAgain, false);
    } else {
        setState(out, RegistrationState::Unregistered);
        out.push_back(action::RefreshDue{RefreshReason::RegisterAgain});
    }
}

Actions RegistrationEngine::Impl::notify(Time now, std::string_view reginfoXml) {
    requireOpen();
    // Only a registration the network holds is reported on (24.229 5.1.1.3); refusing
    // anything else before reading the body keeps such calls cheap.
    if (!registered_) {
        throwWrongState("no registration for a reg-event NOTIFY to report on (state " +
                        std::string(toString(state)) + ")");
    }
    sip::Reginfo reginfo;
    try {
        reginfo = sip::parseReginfo(reginfoXml);
    } catch (const sip::ReginfoError& error) {
        throw EngineError(EngineErrc::MalformedBody,
                          std::string("reg-event body: ") + error.what());
    }
    Actions out;
    VersionCheck order = checkVersion(reginfo);
    if (order == VersionCheck::Stale) return out;
    auto ourRegistrations = noteIdentityStates(reginfo);

    // Our IMPU's registration(s), and our contact in them. With a reg-id, instance and
    // reg-id name our flow (RFC 5626: the registrar replaces a binding with the same pair).
    // Without one, bindings are keyed by Contact URI (RFC 3261 10.3), and an older binding
    // of the same instance (before a re-authentication moved us to a new port_us, or from
    // an earlier address) may still be listed: only the URI registered or, during a
    // re-registration, the one just sent is ours.
    auto find = [&](const sip::OurContact& wanted) -> const sip::ReginfoContact* {
        for (const auto* registration : ourRegistrations)
            for (const auto& contact : registration->contacts)
                if (sip::isOurContact(contact, wanted)) return &contact;
        return nullptr;
    };
    const sip::ReginfoContact* contact = nullptr;
    if (!config.instanceId.empty() && config.regId)
        contact = find(sip::OurContact{lastContact_, config.instanceId, config.regId});
    for (const auto* uri : {&registeredContact_, &lastContact_}) {
        if (!contact) contact = find(sip::OurContact{*uri, std::nullopt, std::nullopt});
    }
    bool ourRegistrationTerminated =
        std::any_of(ourRegistrations.begin(), ourRegistrations.end(),
                    [](const auto* r) { return r->state == sip::RegistrationState::Terminated; });

    if (contact) {
        switch (sip::actionFor(*contact)) {
            case sip::ContactAction::None:
                break;
            case sip::ContactAction::Reauthenticate:
                // shortened: the network wants a new authentication before the new expiry.
                if (contact->expires) {
                    info.expiresAt = now + Seconds(*contact->expires);
                    changed_ = true;
                    if (state == RegistrationState::Registered) {
                        armRefresh(now, out, Seconds(*contact->expires));
                    }
                }
                if (state == RegistrationState::Registered) {
                    out.push_back(action::RefreshDue{RefreshReason::Reauthenticate});
                }
                break;
            case sip::ContactAction::RegisterAgain:
            case sip::ContactAction::Stop: {
                bool probation = contact->event == sip::ContactEvent::Probation;
                endedByNetwork(now, out, sip::actionFor(*contact),
                               std::string(sip::toString(contact->event)),
                               contact->event == sip::ContactEvent::Rejected,
                               probation ? contact->retryAfter : std::nullopt);
                break;
            }
        }
    } else if (ourRegistrationTerminated) {
        // RFC 3680: a terminated registration has no active contact left, ours included,
        // whether or not the body lists it; with no event to go by, register again.
        endedByNetwork(now, out, sip::ContactAction::RegisterAgain,
                       "registration of " + config.impu + " terminated", false, std::nullopt);
    }
    if (order == VersionCheck::Gap && registered_) {
        out.push_back(action::RefreshDue{RefreshReason::Resubscribe});
    }
    return out;
}

}  // namespace imsaka::daemon
