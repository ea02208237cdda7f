// reg-event NOTIFY bodies (RFC 3680, TS 24.229 5.1.1.3): barred identities, and what an
// event on our own contact asks of us.
#include <algorithm>

#include "impl.h"
#include "imsaka/sip/reginfo.h"

namespace imsaka::daemon {

Actions RegistrationEngine::Impl::notify(Time now, std::string_view reginfoXml) {
    requireOpen();
    sip::Reginfo reginfo;
    try {
        reginfo = sip::parseReginfo(reginfoXml);
    } catch (const sip::ReginfoError& error) {
        throw EngineError(EngineErrc::MalformedBody,
                          std::string("reg-event body: ") + error.what());
    }
    Actions out;
    // Identities the network ended are barred until a registration lists them again.
    for (const auto& registration : reginfo.registrations) {
        auto& barred = info.barredUris;
        auto found = std::find(barred.begin(), barred.end(), registration.aor);
        bool terminated = registration.state == sip::RegistrationState::Terminated;
        if (terminated && found == barred.end()) {
            barred.push_back(registration.aor);
            changed_ = true;
        } else if (registration.state == sip::RegistrationState::Active && found != barred.end()) {
            barred.erase(found);
            changed_ = true;
        }
    }
    if (!registered_) return out;

    // Our contact in our IMPU's registration (other AoRs only get barred above). With a
    // reg-id, instance and reg-id name our flow (RFC 5626: the registrar replaces a binding
    // with the same pair). Without one, bindings are keyed by Contact URI (RFC 3261 10.3),
    // and an older binding of the same instance (before a re-authentication moved us to a
    // new port_us, or from an earlier address) may still be listed: only the URI
    // registered or, during a re-registration, the one just sent is ours.
    const sip::ReginfoContact* contact = nullptr;
    if (!config.instanceId.empty() && config.regId) {
        contact = sip::findOurContact(
            reginfo, sip::OurContact{lastContact_, config.instanceId, config.regId}, config.impu);
    }
    for (const auto* uri : {&registeredContact_, &lastContact_}) {
        if (contact) break;
        contact = sip::findOurContact(reginfo, sip::OurContact{*uri, std::nullopt, std::nullopt},
                                      config.impu);
    }
    if (!contact) return out;

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
            if (state == RegistrationState::Deregistering) {
                // It crossed our own deregistration: the registration is gone, as asked.
                finishDeregistration(out);
                break;
            }
            dropRegistration(out);
            setError("the network ended the registration (" +
                     std::string(sip::toString(contact->event)) + ")");
            if (contact->event == sip::ContactEvent::Probation && contact->retryAfter) {
                // RFC 3680 5.3: register again, after retry-after.
                wait(now, out, Seconds(*contact->retryAfter), RefreshReason::RegisterAgain, false);
            } else {
                setState(out, RegistrationState::Unregistered);
                out.push_back(action::RefreshDue{RefreshReason::RegisterAgain});
            }
            break;
        case sip::ContactAction::Stop:
            dropRegistration(out);
            setError("the network ended the registration (" +
                     std::string(sip::toString(contact->event)) + ")");
            setState(out, contact->event == sip::ContactEvent::Rejected
                              ? RegistrationState::Failed
                              : RegistrationState::Unregistered);
            break;
    }
    return out;
}

}  // namespace imsaka::daemon
