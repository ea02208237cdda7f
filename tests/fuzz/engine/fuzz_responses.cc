// Arbitrary responses to an engine that is registering. The input holds up to four
// responses separated by an empty line; each is a status line ("401") followed by
// "Name: value" lines. The first answers the unprotected REGISTER; whenever a response
// leads to an Authenticate the card succeeds and the SA set installs, and once registered
// the engine starts a re-registration, so each response answers whatever REGISTER is
// outstanding by then. The engine may only throw EngineError, never leaves a temporary
// set behind once registered, and never puts key material in lastError.
#include <cstdlib>
#include <string>
#include <vector>

#include "imsaka/daemon/engine.h"

using namespace imsaka;
using namespace imsaka::daemon;

namespace {

std::vector<SipResponse> responsesFrom(std::string_view text) {
    std::vector<SipResponse> responses;
    while (!text.empty() && responses.size() < 4) {
        size_t end = text.find("\n\n");
        std::string_view part = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 2);
        SipResponse response;
        size_t lineEnd = part.find('\n');
        std::string_view status = part.substr(0, lineEnd);
        unsigned code = 0;
        for (char c : status.substr(0, 4)) {
            if (c >= '0' && c <= '9') code = code * 10 + static_cast<unsigned>(c - '0');
        }
        response.status = static_cast<uint16_t>(code);
        part = lineEnd == std::string_view::npos ? std::string_view() : part.substr(lineEnd + 1);
        while (!part.empty()) {
            size_t next = part.find('\n');
            std::string_view line = part.substr(0, next);
            part = next == std::string_view::npos ? std::string_view() : part.substr(next + 1);
            size_t colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
        }
        responses.push_back(std::move(response));
    }
    return responses;
}

template <typename T>
const T* find(const Actions& actions) {
    for (const auto& action : actions) {
        if (const auto* found = std::get_if<T>(&action)) return found;
    }
    return nullptr;
}

Time at(int seconds) {
    return Time{} + std::chrono::seconds(seconds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto responses = responsesFrom(std::string_view(reinterpret_cast<const char*>(data), size));
    if (responses.empty()) return 0;

    RegistrationConfig config;
    config.impi = "user1_private@home1.net";
    config.impu = "sip:user1_public1@home1.net";
    config.homeDomain = "home1.net";
    config.instanceId = "<urn:gsma:imei:35209900-176148-1>";
    config.localAddress = "10.0.0.2";
    config.pcscfs = {{"10.0.0.1", 5060}, {"10.0.0.9", 5060}};
    int counter = 0;
    config.newToken = [&counter] { return "t" + std::to_string(++counter); };
    RegistrationEngine engine(config);
    engine.registerNow(at(0));
    engine.securityReserved(at(0), SecurityOffer{6100, 6101, 1111, 2222});

    // CK, IK and RES never reach lastError (unless the network itself sent their hex).
    sip::AkaSuccess card{SecureBytes(8, 0x11), SecureBytes(16, 0x22), SecureBytes(16, 0x33)};
    const std::string input(reinterpret_cast<const char*>(data), size);
    auto leaks = [&](std::string_view secret) {
        return engine.info().lastError.find(secret) != std::string::npos &&
               input.find(secret) == std::string::npos;
    };
    int now = 1;
    for (const auto& response : responses) {
        Actions actions;
        try {
            actions = engine.response(at(now++), response);
        } catch (const EngineError&) {
            continue;
        }
        if (find<action::ReserveSecurity>(actions)) {
            engine.securityReserved(at(now), SecurityOffer{6200, 6201, 3333, 4444});
        }
        if (find<action::Authenticate>(actions)) {
            auto installed = engine.authenticated(at(now), card);
            if (const auto* install = find<action::InstallSaSet>(installed)) {
                engine.saSetInstalled(at(now), install->set.id);
            }
        }
        if (engine.state() == RegistrationState::Registered) {
            // Registered: one established set (none when the network did not challenge),
            // perhaps retiring ones, never a temporary one.
            size_t established = 0;
            for (const auto& set : engine.saSets()) {
                if (set.state == SaSetState::Temporary) std::abort();
                if (set.state == SaSetState::Established) ++established;
            }
            if (established > 1 || !engine.info().expiresAt) std::abort();
            engine.registerNow(at(now));
            engine.securityReserved(at(now), SecurityOffer{6300, 6301, 5555, 6666});
        }
        if (leaks("1111111111111111") || leaks("22222222222222222222222222222222") ||
            leaks("33333333333333333333333333333333")) {
            std::abort();
        }
        for (char c : engine.info().lastError) {
            if (static_cast<unsigned char>(c) < 0x20) std::abort();  // one printable line
        }
    }
    if (engine.state() == RegistrationState::Registering && engine.callId().empty()) std::abort();
    engine.close(at(now));
    if (!engine.saSets().empty()) std::abort();
    return 0;
}
