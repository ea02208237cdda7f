// Which resolved P-CSCF targets a registration keeps, and what reaches the engine.
#include "pcscf_targets.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "imsaka/daemon/errors.h"

namespace imsaka::daemon {
namespace {

using resolver::Target;
constexpr auto kUdp = resolver::Transport::Udp;
constexpr auto kTcp = resolver::Transport::Tcp;

const std::vector<Target> kResolved{{"2001:db8::1", 5060, kUdp}, {"192.0.2.1", 5060, kUdp},
                                    {"192.0.2.2", 5062, kUdp},   {"192.0.2.3", 5060, kUdp},
                                    {"192.0.2.4", 5060, kTcp},   {"2001:db8::2", 5060, kTcp}};

TEST(PcscfTargets, TheLocalAddressFamilyAndTheFirstTargetsTransportAreKeptInOrder) {
    auto v4 = usableTargets(kResolved, AF_INET, std::nullopt, "p");
    EXPECT_EQ(
        v4, (std::vector<Target>{
                {"192.0.2.1", 5060, kUdp}, {"192.0.2.2", 5062, kUdp}, {"192.0.2.3", 5060, kUdp}}));
    auto v6tcp = usableTargets(kResolved, AF_INET6, Transport::Tcp, "p");
    EXPECT_EQ(v6tcp, (std::vector<Target>{{"2001:db8::2", 5060, kTcp}}));
}

TEST(PcscfTargets, NoTargetOfTheFamilyOrTransportIsAResolutionFailureNamingThePcscf) {
    std::vector<Target> v4Only{{"192.0.2.1", 5060, kUdp}};
    for (auto [family, transport] : {std::pair{AF_INET6, std::optional<Transport>()},
                                     std::pair{AF_INET, std::optional(Transport::Tcp)}}) {
        try {
            usableTargets(v4Only, family, transport, "pcscf.ims.test");
            ADD_FAILURE() << "no error";
        } catch (const DaemonError& error) {
            EXPECT_EQ(error.code(), DaemonErrc::ResolutionFailed);
            EXPECT_NE(std::string(error.what()).find("pcscf.ims.test"), std::string::npos);
        }
    }
    EXPECT_EQ(dbusErrorName(DaemonErrc::ResolutionFailed), "org.imsaka.Error.ResolutionFailed");
}

TEST(PcscfTargets, TheEngineGetsTheTransportAndEveryTargetInOrderOnce) {
    RegistrationConfig config;
    config.pcscfs = {{"198.51.100.1", 5060}};
    applyTargets(config, {{"192.0.2.1", 5070, kTcp},
                          {"192.0.2.2", 5080, kTcp},
                          {"192.0.2.3", 5070, kTcp},
                          {"192.0.2.1", 5070, kTcp}});
    EXPECT_EQ(config.transport, Transport::Tcp);
    EXPECT_EQ(config.pcscfs, (std::vector<PcscfTarget>{
                                 {"192.0.2.1", 5070}, {"192.0.2.2", 5080}, {"192.0.2.3", 5070}}));
}

}  // namespace
}  // namespace imsaka::daemon
