// imsakad's SPI reservations and its checks of a 401, with real components (a private bus,
// pcscd with the virtual card, the guest kernel's XFRM): what a challenge the kernel would
// refuse leaves behind, and a challenge that comes long after the offer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "imsaka/ipsec/xfrm.h"
#include "imsaka/sip/sec_agree.h"
#include "sandbox_test.h"
#include "scenario.h"

namespace imsaka::daemontest {
namespace {

using namespace std::chrono_literals;
using testing::AuthorizationKind;
using ::testing::HasSubstr;
using testing::ImsNetwork;

std::string hex(uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

// Our SPIs and ports as the Security-Client of a REGISTER offers them.
sip::IpsecParameters offered(const Step& request) {
    auto client = testing::headerValue(request.headers(), "Security-Client");
    if (!client) throw std::runtime_error("the REGISTER has no Security-Client");
    return sip::ipsecParameters(sip::parseSecurityHeader(*client).at(0));
}

class SecurityKernelTest : public SandboxTest {};

TEST_F(SecurityKernelTest, AnSpiBelow256InSecurityServerLeavesTheCardAndTheKernelAlone) {
    ASSERT_TRUE(sandbox_);
    ManagerProxy manager(bus(), "/org/imsaka");
    RegistrationProxy registration(bus(),
                                   manager.CreateRegistration(sandbox_->registrationOptions()));
    Step initial = step(registration.Register());
    ASSERT_EQ(initial.next, "send");

    // SQN 32, and a spi-c the kernel would refuse (RFC 4303: 1-255 are reserved).
    ImsNetwork bad({.spiC = 255});
    auto challenge = bad.challenge(initial.headers());
    Step retry = step(registration.HandleResponse(401, toDbus(challenge.headers)));
    // 24.229 5.1.1.5.1: an unusable Security-Server abandons the attempt: a new unprotected
    // REGISTER with a new Call-ID and a new offer.
    ASSERT_EQ(retry.next, "send");
    EXPECT_FALSE(retry.protectedBySa());
    EXPECT_NE(testing::headerValue(retry.headers(), "Call-ID"),
              testing::headerValue(initial.headers(), "Call-ID"));
    EXPECT_THAT(registration.LastError(), HasSubstr("below 256"));
    auto kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 0u) << kernel.ipXfrmState;
    EXPECT_EQ(kernel.ownPolicies, 0u) << kernel.ipXfrmPolicy;
    EXPECT_EQ(kernel.ownSas, 2u) << "only the new offer's reservation:\n" << kernel.ipXfrmState;
    auto first = offered(initial);
    for (uint32_t spi : {first.spiC, first.spiS})
        EXPECT_EQ(kernel.ipXfrmState.find("spi " + hex(spi)), std::string::npos)
            << "the first offer's reservation leaked: " << hex(spi);

    // The card never ran: a challenge with the same SQN is still fresh to it.
    ImsNetwork good;
    auto second = good.challenge(retry.headers());
    ASSERT_EQ(second.sqn, challenge.sqn);
    Step answer = step(registration.HandleResponse(401, toDbus(second.headers)));
    ASSERT_EQ(answer.next, "send") << registration.LastError();
    EXPECT_TRUE(answer.protectedBySa());
    EXPECT_EQ(good.checkAuthorization(answer.headers(), answer.uri()).kind,
              AuthorizationKind::Valid);
    EXPECT_EQ(kernelView().keyedSas, 4u);
}

TEST_F(SecurityKernelTest, AChallengeAMinuteAfterTheOfferFindsItsSpisStillReserved) {
    ASSERT_TRUE(sandbox_);
    // The daemon's namespace keeps larval SAs for the kernel's default 30 s.
    ASSERT_EQ(ipsec::Xfrm::reservationLifetime(), 30s);
    ManagerProxy manager(bus(), "/org/imsaka");
    RegistrationProxy registration(bus(),
                                   manager.CreateRegistration(sandbox_->registrationOptions()));
    Step initial = step(registration.Register());
    ASSERT_EQ(initial.next, "send");
    auto ours = offered(initial);

    // Twice the larval SAs' lifetime passes before the network answers (timer F is 128 s,
    // and the same offer is repeated after a MAC or sync failure and a 423).
    std::this_thread::sleep_for(60s);
    auto kernel = kernelView();
    for (uint32_t spi : {ours.spiC, ours.spiS})
        EXPECT_NE(kernel.ipXfrmState.find("spi " + hex(spi)), std::string::npos)
            << hex(spi) << " is no longer reserved:\n"
            << kernel.ipXfrmState;

    ImsNetwork network;
    auto challenge = network.challenge(initial.headers());
    Step answer = step(registration.HandleResponse(401, toDbus(challenge.headers)));
    ASSERT_EQ(answer.next, "send") << registration.LastError();
    EXPECT_TRUE(answer.protectedBySa());
    EXPECT_EQ(network.checkAuthorization(answer.headers(), answer.uri()).kind,
              AuthorizationKind::Valid);
    kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 4u) << kernel.ipXfrmState;
    for (uint32_t spi : {ours.spiC, ours.spiS})
        EXPECT_NE(kernel.ipXfrmState.find("spi " + hex(spi)), std::string::npos) << hex(spi);
}

}  // namespace
}  // namespace imsaka::daemontest
