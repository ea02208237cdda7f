// Challenges beyond the first and P-CSCF failover, through imsakad's D-Bus interface with
// the SAs in the kernel of user-mode Linux: a second 401 to the protected REGISTER and a
// 401 to the de-REGISTER (24.229 5.1.1.5.1, 5.1.1.6), and a timeout at the first P-CSCF of
// the list (5.1.1.2.1).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "scenario.h"

namespace imsaka::daemontest {
namespace {

using namespace std::chrono_literals;
using testing::AuthorizationKind;
using testing::headerValue;
using testing::ImsNetwork;
using testing::ImsNetworkOptions;

bool holdsSpi(const KernelView& view, uint32_t spi) {
    char text[32];
    std::snprintf(text, sizeof text, "spi 0x%08x", spi);
    return view.ipXfrmState.find(text) != std::string::npos;
}

// The network side of a later challenge: the next SQN, and SPIs and ports of its own as a
// P-CSCF allocates for every new temporary set.
ImsNetworkOptions laterChallenge(const ImsNetwork& before, uint32_t spi, uint16_t port) {
    ImsNetworkOptions options;
    options.sqn = before.nextSqn();
    options.spiC = spi;
    options.spiS = spi + 1;
    options.portC = port;
    options.portS = static_cast<uint16_t>(port + 1);
    return options;
}

class ChallengeKernelTest : public ::testing::Test {
  protected:
    void start() {
        if (auto error = startSandbox(sandbox_); !error.empty()) FAIL() << error;
    }
    void TearDown() override {
        if (HasFailure() && sandbox_) std::cerr << sandbox_->diagnostics();
    }
    sdbus::IConnection& bus() { return *sandbox_->connection; }

    std::unique_ptr<Sandbox> sandbox_;
};

// 24.228 6.9.3 steps 19-29: the S-CSCF challenges the protected REGISTER again. The answer
// repeats the Security-Client of the challenged REGISTER, so the new temporary set has the
// same SPIs and ports on our side, the P-CSCF's new ones, and the new keys; the first
// temporary set is gone.
TEST_F(ChallengeKernelTest, ASecondChallengeIsAnsweredOverANewSetWithTheSameSpisAndPorts) {
    ASSERT_NO_FATAL_FAILURE(start());
    ImsNetwork network;
    auto registration = createAndChallenge(bus(), network, sandbox_->registrationOptions());
    ASSERT_EQ(registration.answer.next, "send") << registration.registration->LastError();
    const auto& first = registration.challenge;

    ImsNetwork again(laterChallenge(network, 0x3100, 6200));
    const auto& second = again.challenge(registration.answer.headers());
    auto answer = step(registration.registration->HandleResponse(401, toDbus(second.headers)));
    ASSERT_EQ(answer.next, "send") << registration.registration->LastError();
    EXPECT_TRUE(answer.protectedBySa());
    EXPECT_EQ(answer.localPort(), first.ue.portC);
    EXPECT_EQ(answer.remotePort(), 6201);
    auto check = again.checkAuthorization(answer.headers(), answer.uri());
    EXPECT_EQ(check.kind, AuthorizationKind::Valid);
    EXPECT_TRUE(check.securityVerifyMatches);
    EXPECT_TRUE(check.securityClientMatches);

    auto kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 4u) << kernel.ipXfrmState;
    EXPECT_EQ(kernel.ownPolicies, 8u) << "four policies and four guards:\n" << kernel.ipXfrmPolicy;
    for (uint32_t spi : {first.ue.spiC, first.ue.spiS, 0x3100u, 0x3101u})
        EXPECT_TRUE(holdsSpi(kernel, spi)) << spi << "\n" << kernel.ipXfrmState;
    for (uint32_t spi : {first.pcscf.spiC, first.pcscf.spiS})
        EXPECT_FALSE(holdsSpi(kernel, spi)) << spi << "\n" << kernel.ipXfrmState;
    auto sets = saObjects(bus(), registration.path);
    ASSERT_EQ(sets.size(), 1u);
    SecurityAssociationProxy set(bus(), sets[0]);
    EXPECT_EQ(set.State(), "temporary");
    EXPECT_EQ(set.SpiUc(), first.ue.spiC);
    EXPECT_EQ(set.SpiPs(), 0x3101u);

    // The protected REGISTER travels on the new set: ESP with the new P-CSCF SPI.
    auto socket = registration.registration->OpenSocket("udp", "client");
    sdbus::UnixFd esp(pcscfEspSocket(), sdbus::adopt_fd);
    ASSERT_EQ(sendToPcscf(socket.get(), 6201, "REGISTER"), 8) << std::strerror(errno);
    EXPECT_EQ(nextEspSpi(esp.get(), 2s), std::optional<uint32_t>(0x3101));

    auto ok = again.ok(answer.headers(), 3600, {kImpu}, {});
    step(registration.registration->HandleResponse(200, toDbus(ok)));
    EXPECT_EQ(registration.registration->State(), "registered");
    EXPECT_EQ(set.State(), "established");
}

// 24.229 5.1.1.6 with 5.1.1.5.1: the de-REGISTER offers new SPIs and ports; a 401 to it is
// answered over a new temporary set, and its 200 OK leaves nothing in the kernel.
TEST_F(ChallengeKernelTest, AChallengeToTheDeregisterIsAnsweredAndLeavesNothing) {
    ASSERT_NO_FATAL_FAILURE(start());
    ImsNetwork network;
    auto registration = createAndChallenge(bus(), network, sandbox_->registrationOptions());
    auto ok = network.ok(registration.answer.headers(), 3600, {kImpu}, {});
    step(registration.registration->HandleResponse(200, toDbus(ok)));
    ASSERT_EQ(registration.registration->State(), "registered");

    auto deregister = step(registration.registration->Deregister());
    ASSERT_EQ(deregister.next, "send");
    EXPECT_TRUE(deregister.protectedBySa());
    EXPECT_EQ(headerValue(deregister.headers(), "Expires"), "0");
    ImsNetwork again(laterChallenge(network, 0x3200, 6300));
    const auto& challenge = again.challenge(deregister.headers());
    EXPECT_NE(challenge.ue.spiC, registration.challenge.ue.spiC)
        << "the de-REGISTER's offer is new";

    auto answer = step(registration.registration->HandleResponse(401, toDbus(challenge.headers)));
    ASSERT_EQ(answer.next, "send") << registration.registration->LastError();
    EXPECT_TRUE(answer.protectedBySa());
    EXPECT_EQ(answer.localPort(), challenge.ue.portC);
    EXPECT_EQ(answer.remotePort(), 6301);
    EXPECT_EQ(headerValue(answer.headers(), "Expires"), "0");
    EXPECT_EQ(again.checkAuthorization(answer.headers(), answer.uri()).kind,
              AuthorizationKind::Valid);
    auto kernel = kernelView();
    EXPECT_EQ(kernel.keyedSas, 8u) << "the established set and the temporary one\n"
                                   << kernel.ipXfrmState;

    auto done = step(
        registration.registration->HandleResponse(200, toDbus(again.response(answer.headers()))));
    EXPECT_EQ(done.next, "stop");
    EXPECT_EQ(registration.registration->State(), "unregistered");
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (kernelView().ownSas != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    kernel = kernelView();
    EXPECT_EQ(kernel.ownSas, 0u) << kernel.ipXfrmState;
    EXPECT_EQ(kernel.ownPolicies, 0u) << kernel.ipXfrmPolicy;
}

// A list of P-CSCFs: no answer from the first (HandleTimeout) sends the next REGISTER to the
// second at once, with SPIs reserved towards it, and the registration goes on there.
TEST_F(ChallengeKernelTest, ATimeoutAtTheFirstPcscfMovesToTheNextOfTheList) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto options = sandbox_->registrationOptions();
    options["pcscf"] =
        sdbus::Variant(std::vector<std::string>{"10.46.0.9", std::string(kPcscfAddress) + ":5060"});
    ManagerProxy manager(bus(), "/org/imsaka");
    std::string path = manager.CreateRegistration(options);
    RegistrationProxy registration(bus(), path);
    auto first = step(registration.Register());
    ASSERT_EQ(first.next, "send");
    EXPECT_EQ(first.remoteAddress(), "10.46.0.9");
    EXPECT_EQ(registration.PcscfAddress(), "10.46.0.9");

    auto second = step(registration.HandleTimeout());
    ASSERT_EQ(second.next, "send") << registration.LastError();
    EXPECT_EQ(second.remoteAddress(), kPcscfAddress);
    EXPECT_EQ(second.remotePort(), 5060);
    EXPECT_EQ(registration.PcscfAddress(), kPcscfAddress);
    EXPECT_NE(headerValue(second.headers(), "Call-ID"), headerValue(first.headers(), "Call-ID"));

    ImsNetwork network;
    const auto& challenge = network.challenge(second.headers());
    auto answer = step(registration.HandleResponse(401, toDbus(challenge.headers)));
    ASSERT_EQ(answer.next, "send") << registration.LastError();
    EXPECT_EQ(answer.remoteAddress(), kPcscfAddress);
    auto sets = saObjects(bus(), path);
    ASSERT_EQ(sets.size(), 1u);
    EXPECT_EQ(SecurityAssociationProxy(bus(), sets[0]).PcscfAddress(), kPcscfAddress);
}

}  // namespace
}  // namespace imsaka::daemontest
