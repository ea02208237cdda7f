// What the engine tests share: a configuration, a fake clock, helpers to pick actions and
// headers, and a network side that builds real AKA challenges with the TS 34.108 XOR
// algorithm (nonce = base64(RAND || AUTN)) and answers REGISTERs.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "imsaka/daemon/engine.h"
#include "imsaka/milenage/milenage.h"
#include "imsaka/sip/digest.h"
#include "imsaka/sip/sec_agree.h"

namespace imsaka::daemon::test {

// Seconds after an arbitrary origin: the fake clock.
inline Time at(int64_t seconds) {
    return Time{} + std::chrono::hours(1000) + Seconds(seconds);
}

inline constexpr std::string_view kImpu = "sip:user1_public1@home1.net";
inline constexpr std::string_view kImpi = "user1_private@home1.net";
inline constexpr std::string_view kInstance = "<urn:gsma:imei:35209900-176148-1>";

RegistrationConfig testConfig(std::string localAddress = "10.0.0.2",
                              std::optional<uint32_t> regId = std::nullopt,
                              std::string tokenPrefix = "tok");

inline constexpr SecurityOffer kOfferA{6100, 6101, 1111, 2222};
inline constexpr SecurityOffer kOfferB{6200, 6201, 3333, 4444};
// What a re-registration reserves after kOfferA: new SPIs and client port, the same port_us.
inline constexpr SecurityOffer kOfferBKeepingServerPort{6200, 6101, 3333, 4444};

template <typename T>
std::vector<T> all(const Actions& actions) {
    std::vector<T> found;
    for (const auto& action : actions) {
        if (const auto* value = std::get_if<T>(&action)) found.push_back(*value);
    }
    return found;
}

template <typename T>
bool has(const Actions& actions) {
    return !all<T>(actions).empty();
}

// The one action of type T (a test failure, and a default value, when not exactly one).
template <typename T>
T one(const Actions& actions) {
    auto found = all<T>(actions);
    EXPECT_EQ(found.size(), 1u) << "expected exactly one action of the kind asked for";
    return found.empty() ? T{} : found.front();
}

// A readable list of the actions, to compare whole sequences.
std::vector<std::string> describe(const Actions& actions);

// The values of a header in a request (exact name).
std::vector<std::string> headers(const OutgoingRegister& request, std::string_view name);
// The single value of a header; a test failure when not exactly one.
std::string header(const OutgoingRegister& request, std::string_view name);

// The P-CSCF and S-CSCF, seen from the UE.
class Network {
  public:
    Network();

    milenage::AuthVector nextVector();
    std::string securityServer(std::string_view alg = "hmac-sha-1-96",
                               std::string_view ealg = "aes-cbc") const;
    std::string wwwAuthenticate(const milenage::AuthVector& vector) const;
    // A response echoing the request's Call-ID and CSeq.
    static SipResponse answer(uint16_t status, const OutgoingRegister& request,
                              std::vector<Header> extra = {});
    SipResponse challenge(const OutgoingRegister& request, const milenage::AuthVector& vector,
                          std::vector<Header> extra = {}) const;
    SipResponse ok(const OutgoingRegister& request, uint32_t expires) const;
    static sip::AkaSuccess success(const milenage::AuthVector& vector);

    const milenage::XorTestAlgorithm& card() const { return card_; }

    uint32_t spiPc = 5001;
    uint32_t spiPs = 5002;
    uint16_t portPc = 7100;
    uint16_t portPs = 7101;

  private:
    milenage::XorTestAlgorithm card_;
    uint64_t sqn_ = 32;
};

// The request of the single Send action.
OutgoingRegister sent(const Actions& actions);

// registerNow + securityReserved: the unprotected REGISTER.
OutgoingRegister startInitial(RegistrationEngine& engine, Time now,
                              const SecurityOffer& offer = kOfferA);

// Answers a challenged engine's Authenticate with AKA success and confirms the install;
// returns the protected REGISTER.
OutgoingRegister answerWithSuccess(RegistrationEngine& engine, Time now,
                                   const milenage::AuthVector& vector);

// registerNow, the 401 and AKA success on a fresh engine, all at `now`: the protected
// REGISTER, waiting for its 200 OK.
OutgoingRegister authenticateInitial(RegistrationEngine& engine, Network& network, Time now,
                                     const SecurityOffer& offer = kOfferA);

// Drives a fresh engine to Registered (challenge, SA set, 200 OK); returns the last request.
OutgoingRegister registerFully(RegistrationEngine& engine, Network& network, Time now,
                               uint32_t expires = 3600, const SecurityOffer& offer = kOfferA);

// The code of the EngineError that call throws (a test failure when it throws none).
EngineErrc errorOf(const std::function<void()>& call);

// A fixture with one engine of testConfig() and its network.
class OneEngine : public ::testing::Test {
  protected:
    // registerNow + securityReserved at t = 0: the unprotected REGISTER.
    OutgoingRegister start(const SecurityOffer& offer = kOfferA) {
        return startInitial(engine_, at(0), offer);
    }
    RegistrationEngine engine_{testConfig()};
    Network network_;
};

// The digest response an independent computation expects for this request and vector.
std::string expectedResponse(const OutgoingRegister& request, const sip::DigestCredentials& sent,
                             ByteView password);

}  // namespace imsaka::daemon::test
