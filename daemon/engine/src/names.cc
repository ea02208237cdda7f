#include "imsaka/daemon/engine.h"

namespace imsaka::daemon {

std::string_view toString(Transport transport) {
    return transport == Transport::Tcp ? "tcp" : "udp";
}

std::string_view toString(RegistrationState state) {
    switch (state) {
        case RegistrationState::Idle:
            return "idle";
        case RegistrationState::Registering:
            return "registering";
        case RegistrationState::Authenticating:
            return "authenticating";
        case RegistrationState::Registered:
            return "registered";
        case RegistrationState::Reregistering:
            return "reregistering";
        case RegistrationState::Deregistering:
            return "deregistering";
        case RegistrationState::Backoff:
            return "backoff";
        case RegistrationState::Unregistered:
            return "unregistered";
        case RegistrationState::Failed:
            return "failed";
    }
    return "unknown";
}

std::string_view toString(SaSetState state) {
    switch (state) {
        case SaSetState::Temporary:
            return "temporary";
        case SaSetState::Established:
            return "established";
        case SaSetState::Retiring:
            return "retiring";
    }
    return "unknown";
}

std::string_view toString(RefreshReason reason) {
    switch (reason) {
        case RefreshReason::Expiry:
            return "expiry";
        case RefreshReason::Retry:
            return "retry";
        case RefreshReason::Reauthenticate:
            return "reauthenticate";
        case RefreshReason::RegisterAgain:
            return "register-again";
        case RefreshReason::Resubscribe:
            return "resubscribe";
        case RefreshReason::Capabilities:
            return "capabilities";
    }
    return "unknown";
}

}  // namespace imsaka::daemon
