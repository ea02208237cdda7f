#include "imsaka/daemon/engine.h"

namespace imsaka::daemon {

class RegistrationEngine::Impl {
  public:
    explicit Impl(RegistrationConfig c) : config(std::move(c)) {}
    RegistrationConfig config;
    RegistrationState state = RegistrationState::Idle;
    RegistrationInfo info;
    std::string callId;
};

namespace {
[[noreturn]] void notYet() {
    throw EngineError(EngineErrc::WrongState, "not implemented yet");
}
}  // namespace

RegistrationEngine::RegistrationEngine(RegistrationConfig config)
    : impl_(std::make_shared<Impl>(std::move(config))) {}

Actions RegistrationEngine::registerNow(Time) {
    notYet();
}
Actions RegistrationEngine::deregister(Time) {
    notYet();
}
Actions RegistrationEngine::response(Time, const SipResponse&) {
    notYet();
}
Actions RegistrationEngine::transportError(Time) {
    notYet();
}
Actions RegistrationEngine::notify(Time, std::string_view) {
    notYet();
}
Actions RegistrationEngine::close(Time) {
    return {};
}
Actions RegistrationEngine::securityReserved(Time, const SecurityOffer&) {
    notYet();
}
Actions RegistrationEngine::securityUnavailable(Time, std::string_view) {
    notYet();
}
Actions RegistrationEngine::authenticated(Time, const sip::AkaResult&) {
    notYet();
}
Actions RegistrationEngine::authenticationFailed(Time, std::string_view) {
    notYet();
}
Actions RegistrationEngine::saSetInstalled(Time, SaSetId) {
    notYet();
}
Actions RegistrationEngine::saSetFailed(Time, SaSetId, std::string_view) {
    notYet();
}
Actions RegistrationEngine::inboundTraffic(Time, SaSetId) {
    notYet();
}
Actions RegistrationEngine::timerFired(Time, TimerKind) {
    notYet();
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
    return {};
}
std::optional<SaSetView> RegistrationEngine::currentSet() const {
    return std::nullopt;
}
const std::string& RegistrationEngine::callId() const noexcept {
    return impl_->callId;
}

}  // namespace imsaka::daemon
