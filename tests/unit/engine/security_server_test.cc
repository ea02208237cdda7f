// A 401 whose Security-Server names SPIs the kernel would refuse: the engine finds it before
// the card runs (an AUTHENTICATE consumes a sequence number) and abandons the attempt as
// 24.229 5.1.1.5.1 asks for a Security-Server it cannot use (new offer, new Call-ID).
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct BadSpis {
    uint32_t spiPc;
    uint32_t spiPs;
    const char* why;
};

class UnusableSecurityServer : public ::testing::TestWithParam<BadSpis> {};

TEST_P(UnusableSecurityServer, IsRefusedBeforeTheCardRunsAndTheOfferIsReleased) {
    RegistrationEngine engine(testConfig());
    Network network;
    network.spiPc = GetParam().spiPc;
    network.spiPs = GetParam().spiPs;
    OutgoingRegister initial = startInitial(engine, at(0));
    Actions actions = engine.response(at(1), network.challenge(initial, network.nextVector()));
    EXPECT_FALSE(has<action::Authenticate>(actions)) << "the card would run";
    EXPECT_FALSE(has<action::InstallSaSet>(actions));
    EXPECT_THAT(describe(actions), ElementsAre("CancelTimer(timer-f)", "ReleaseSecurity(6100)",
                                               "ReserveSecurity", "InfoChanged"));
    EXPECT_THAT(engine.info().lastError, HasSubstr(GetParam().why));
    // The retry: a new offer, then a REGISTER with a new Call-ID.
    OutgoingRegister retry = sent(engine.securityReserved(at(1), kOfferB));
    EXPECT_NE(header(retry, "Call-ID"), header(initial, "Call-ID"));
    EXPECT_TRUE(engine.saSets().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Spis, UnusableSecurityServer,
    ::testing::Values(BadSpis{255, 5002, "below 256"}, BadSpis{5001, 0, "below 256"},
                      BadSpis{1, 2, "below 256"}, BadSpis{5001, 5001, "the same"}),
    [](const auto& spis) {
        return "pc" + std::to_string(spis.param.spiPc) + "_ps" + std::to_string(spis.param.spiPs);
    });

TEST(UnusableSecurityServerOnReauthentication, SpisOfTheSetInUseAreRefused) {
    RegistrationEngine engine(testConfig());
    Network network;
    registerFully(engine, network, at(0), 3600);
    engine.registerNow(at(3000));
    OutgoingRegister refresh = sent(engine.securityReserved(at(3000), kOfferB));
    // Only spi-s is new: spi-c is still that of the established set's SAs.
    network.spiPs = 6002;
    Actions actions = engine.response(at(3001), network.challenge(refresh, network.nextVector()));
    EXPECT_FALSE(has<action::Authenticate>(actions));
    EXPECT_THAT(engine.info().lastError, HasSubstr("still in use"));
    EXPECT_EQ(engine.state(), RegistrationState::Registered) << "the registration holds";
    ASSERT_EQ(engine.saSets().size(), 1u);
    EXPECT_EQ(engine.saSets()[0].state, SaSetState::Established);
}

}  // namespace
}  // namespace imsaka::daemon::test
