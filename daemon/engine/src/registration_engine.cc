// The public class: each call forwards to Impl, which keeps the state, and ends with
// InfoChanged when anything visible changed.
#include "impl.h"

namespace imsaka::daemon {

RegistrationEngine::RegistrationEngine(RegistrationConfig config)
    : impl_(std::make_shared<Impl>(std::move(config))) {}

Actions RegistrationEngine::registerNow(Time now) {
    return impl_->finish(impl_->registerNow(now));
}
Actions RegistrationEngine::deregister(Time now) {
    return impl_->finish(impl_->deregister(now));
}
Actions RegistrationEngine::response(Time now, const SipResponse& response) {
    return impl_->finish(impl_->response(now, response));
}
Actions RegistrationEngine::transportError(Time now) {
    return impl_->finish(impl_->transportError(now));
}
Actions RegistrationEngine::notify(Time now, std::string_view reginfoXml) {
    return impl_->finish(impl_->notify(now, reginfoXml));
}
Actions RegistrationEngine::update(Time now, const RegistrationUpdate& update) {
    return impl_->finish(impl_->update(now, update));
}
Actions RegistrationEngine::close(Time now) {
    return impl_->finish(impl_->close(now));
}
Actions RegistrationEngine::securityReserved(Time now, const SecurityOffer& offer) {
    return impl_->finish(impl_->securityReserved(now, offer));
}
Actions RegistrationEngine::securityUnavailable(Time now, std::string_view reason) {
    return impl_->finish(impl_->securityUnavailable(now, reason));
}
Actions RegistrationEngine::authenticated(Time now, const sip::AkaResult& result) {
    return impl_->finish(impl_->authenticated(now, result));
}
Actions RegistrationEngine::authenticationFailed(Time now, std::string_view reason) {
    return impl_->finish(impl_->authenticationFailed(now, reason));
}
Actions RegistrationEngine::saSetInstalled(Time now, SaSetId id) {
    return impl_->finish(impl_->saSetInstalled(now, id));
}
Actions RegistrationEngine::saSetFailed(Time now, SaSetId id, std::string_view reason) {
    return impl_->finish(impl_->saSetFailed(now, id, reason));
}
Actions RegistrationEngine::inboundTraffic(Time now, SaSetId id) {
    return impl_->finish(impl_->inboundTraffic(now, id));
}
Actions RegistrationEngine::retiringTransactions(Time now, bool pending) {
    return impl_->finish(impl_->retiringTransactions(now, pending));
}
Actions RegistrationEngine::timerFired(Time now, TimerKind kind) {
    return impl_->finish(impl_->timerFired(now, kind));
}

RegistrationState RegistrationEngine::state() const noexcept {
    return impl_->state;
}
const RegistrationConfig& RegistrationEngine::config() const noexcept {
    return impl_->config;
}
const RegistrationInfo& RegistrationEngine::info() const noexcept {
    return impl_->info;
}
std::vector<SaSetView> RegistrationEngine::saSets() const {
    return impl_->saSetViews();
}
std::optional<SaSetView> RegistrationEngine::currentSet() const {
    return impl_->currentSetView();
}
const std::string& RegistrationEngine::callId() const noexcept {
    return impl_->callId;
}
const std::string& RegistrationEngine::pcscfAddress() const noexcept {
    return impl_->pcscfAddress();
}

}  // namespace imsaka::daemon
