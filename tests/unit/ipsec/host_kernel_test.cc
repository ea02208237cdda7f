// Against the host's own kernel, inside a private network namespace (see CMakeLists.txt):
// it has XFRM (SPI allocation, policies) but no ESP, so installing a set must fail clearly
// and leave nothing behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "imsaka/ipsec/xfrm.h"
#include "messages.h"
#include "netlink.h"

namespace imsaka::ipsec {
namespace {

const Bytes kCk(16, 0x11);
const Bytes kIk(16, 0x22);

void shell(const std::string& command) {
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

std::string shellOutput(const std::string& command) {
    std::string output;
    if (FILE* pipe = popen(command.c_str(), "r")) {
        char buffer[4096];
        size_t length;
        while ((length = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, length);
        pclose(pipe);
    }
    return output;
}

class HostKernel : public ::testing::Test {
  protected:
    void SetUp() override {
        // Nothing from an earlier test may remain in this namespace.
        ASSERT_EQ(xfrm.countState().ownSas + xfrm.countState().ownPolicies, 0u);
    }
    void TearDown() override {
        xfrm.removeOwnState();
        std::system("ip xfrm state flush; ip xfrm policy flush");
    }
    Xfrm xfrm;
    IpAddress ue = IpAddress::fromText("10.45.0.1");
    IpAddress pcscf = IpAddress::fromText("10.45.0.2");
};

SaSetSpec specFor(const SpiReservation& reservation) {
    SaSetSpec spec;
    spec.ue = reservation.local;
    spec.pcscf = reservation.remote;
    spec.portUc = 5100;
    spec.portUs = 5101;
    spec.portPc = 5200;
    spec.portPs = 5201;
    spec.spiUc = reservation.spiClient;
    spec.spiUs = reservation.spiServer;
    spec.spiPc = 3000;
    spec.spiPs = 3001;
    spec.lifetime = {240, 0};
    return spec;
}

TEST_F(HostKernel, AllocatesDistinctKernelSpisInsideTheConfiguredRange) {
    XfrmOptions options;
    options.minSpi = 0x1000;
    options.maxSpi = 0x10ff;
    Xfrm ranged(options);
    std::set<uint32_t> seen;
    std::vector<SpiReservation> reservations;
    for (int i = 0; i < 20; ++i) {
        reservations.push_back(ranged.reserveSpis(ue, pcscf));
        for (uint32_t spi : {reservations.back().spiClient, reservations.back().spiServer}) {
            EXPECT_GE(spi, 0x1000u);
            EXPECT_LE(spi, 0x10ffu);
            EXPECT_TRUE(seen.insert(spi).second) << "SPI " << spi << " handed out twice";
        }
    }
    EXPECT_EQ(ranged.countState().ownSas, 40u) << "each SPI is held by a larval SA";
    for (const auto& reservation : reservations) ranged.release(reservation);
    EXPECT_EQ(ranged.countState().ownSas, 0u);
}

// A set made again from the same offer (a second challenge) needs the SPIs of the set just
// removed: they can be asked for by value, and not while another SA holds them.
TEST_F(HostKernel, GivenSpisCanBeReservedAgainOnceFreeAndNotWhileHeld) {
    auto first = xfrm.reserveSpis(ue, pcscf);
    // (The kernel keeps the refused request's acquire state, without an SPI, until
    // net.core.xfrm_acq_expires: nothing can use it.)
    EXPECT_THROW(xfrm.reserveSpis(ue, pcscf, first.spiClient, 0), XfrmError);
    xfrm.release(first);
    auto again = xfrm.reserveSpis(ue, pcscf, first.spiClient, first.spiServer);
    EXPECT_EQ(again.spiClient, first.spiClient);
    EXPECT_EQ(again.spiServer, first.spiServer);
    xfrm.release(again);
    EXPECT_THROW(xfrm.reserveSpis(ue, pcscf, 0x10, 0), XfrmError);  // below the range
}

TEST_F(HostKernel, AllocatesIpv6SpisOfAtLeast256) {
    auto reservation =
        xfrm.reserveSpis(IpAddress::fromText("fd45::1"), IpAddress::fromText("fd45::2"));
    EXPECT_GE(reservation.spiClient, 256u);
    EXPECT_GE(reservation.spiServer, 256u);
    EXPECT_NE(reservation.spiClient, reservation.spiServer);
}

TEST_F(HostKernel, InstallingOnAKernelWithoutEspSaysSoAndLeavesNothing) {
    auto reservation = xfrm.reserveSpis(ue, pcscf);
    try {
        xfrm.install(reservation, specFor(reservation), kCk, kIk);
        FAIL() << "an ESP SA was accepted by a kernel without ESP";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::KernelLacksEsp) << error.what();
        EXPECT_NE(std::string(error.what()).find("kernel lacks ESP"), std::string::npos);
        EXPECT_EQ(error.where(), "install SA A");
    }
    auto count = xfrm.countState();
    EXPECT_EQ(count.ownSas, 0u) << "the reservation's larval SAs must go too";
    EXPECT_EQ(count.ownPolicies, 0u) << "the policies the kernel accepted must be undone";
}

TEST_F(HostKernel, AMismatchedReservationIsRejectedBeforeTheKernelIsAsked) {
    auto reservation = xfrm.reserveSpis(ue, pcscf);
    SaSetSpec spec = specFor(reservation);
    spec.spiUc += 1;
    try {
        xfrm.install(reservation, spec, kCk, kIk);
        FAIL() << "accepted SPIs that were not reserved";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::InvalidArgument);
    }
    spec = specFor(reservation);
    spec.spiPc = 255;
    EXPECT_THROW(xfrm.install(reservation, spec, kCk, kIk), XfrmError);
    EXPECT_EQ(xfrm.countState().ownPolicies, 0u);
    EXPECT_EQ(xfrm.countState().ownSas, 2u) << "the reservation itself is untouched";
}

TEST_F(HostKernel, KeysOfTheWrongLengthAreRefusedAndLeaveTheReservationUsable) {
    auto reservation = xfrm.reserveSpis(ue, pcscf);
    const Bytes shortKey(15, 0x33);
    for (auto [ck, ik] : {std::pair{ByteView(shortKey), ByteView(kIk)},
                          std::pair{ByteView(kCk), ByteView(shortKey)}}) {
        try {
            xfrm.install(reservation, specFor(reservation), ck, ik);
            FAIL() << "a 15-byte key was accepted";
        } catch (const XfrmError& error) {
            EXPECT_EQ(error.code(), XfrmErrorCode::InvalidArgument) << error.what();
        }
    }
    EXPECT_EQ(xfrm.countState().ownSas, 2u) << "the larval SAs are untouched";
    EXPECT_NO_THROW(xfrm.release(reservation)) << "the refused installs did not use it up";
    EXPECT_EQ(xfrm.countState().ownSas, 0u);
}

TEST_F(HostKernel, StartupCleanupRemovesOnlyStateCarryingOurReqids) {
    // Leftovers of ours (as a crashed daemon leaves them) and someone else's state.
    xfrm.reserveSpis(ue, pcscf);
    shell(
        "ip xfrm policy add src 10.45.0.1 dst 10.45.0.2 proto udp sport 5100 dport 5201 "
        "dir out tmpl src 10.45.0.1 dst 10.45.0.2 proto esp reqid 0x494d0005 mode transport");
    shell(
        "ip xfrm policy add src 10.45.0.1 dst 10.45.0.9 dir out "
        "tmpl src 10.45.0.1 dst 10.45.0.9 proto esp reqid 7 mode transport");
    shell(
        "ip xfrm state allocspi src 10.45.0.9 dst 10.45.0.1 proto esp reqid 7 mode transport "
        ">/dev/null");
    auto before = xfrm.countState();
    EXPECT_EQ(before.ownSas, 2u);
    EXPECT_EQ(before.ownPolicies, 1u);
    EXPECT_EQ(before.otherSas, 1u);
    EXPECT_EQ(before.otherPolicies, 1u);

    auto removed = xfrm.removeOwnState();
    EXPECT_EQ(removed.ownSas, 2u);
    EXPECT_EQ(removed.ownPolicies, 1u);
    auto after = xfrm.countState();
    EXPECT_EQ(after.ownSas + after.ownPolicies, 0u);
    EXPECT_EQ(after.otherSas, 1u) << "a foreign SA must survive";
    EXPECT_EQ(after.otherPolicies, 1u) << "a foreign policy must survive";
}

TEST_F(HostKernel, TheKernelAcceptsTheFourPoliciesOfASetAsBuilt) {
    // The policy half of a set on its own (the host cannot hold the SAs): the kernel must
    // accept each policy and show it as meant.
    detail::Channel channel;
    std::vector<detail::Message> requests;
    const uint16_t ports[4][2] = {{5100, 5201}, {5201, 5100}, {5200, 5101}, {5101, 5200}};
    for (int i = 0; i < 4; ++i) {
        detail::PolicyDescription policy;
        bool out = i == 0 || i == 3;
        policy.flow.source = out ? ue : pcscf;
        policy.flow.destination = out ? pcscf : ue;
        policy.flow.sourcePort = ports[i][0];
        policy.flow.destinationPort = ports[i][1];
        policy.direction = out ? XFRM_POLICY_OUT : XFRM_POLICY_IN;
        policy.reqid = 0x494d0100 + static_cast<uint32_t>(i);
        requests.push_back(detail::policyMessage(policy));
    }
    auto replies = channel.exchange(requests);
    for (const auto& reply : replies) EXPECT_EQ(reply.error, 0) << reply.explanation;
    std::string listing = shellOutput("ip xfrm policy list");
    EXPECT_NE(listing.find("src 10.45.0.1/32 dst 10.45.0.2/32 sport 5100 dport 5201"),
              std::string::npos)
        << listing;
    EXPECT_NE(listing.find("dir in"), std::string::npos);
    EXPECT_NE(listing.find("proto esp reqid 1229783296 mode transport"), std::string::npos)
        << listing;
    EXPECT_EQ(xfrm.countState().ownPolicies, 4u);
    EXPECT_EQ(xfrm.removeOwnState().ownPolicies, 4u);
    EXPECT_EQ(shellOutput("ip xfrm policy list"), "");
}

TEST_F(HostKernel, AFailedInstallKeepsAForeignPolicyThatCollidedWithOurs) {
    // Someone else holds the selector of SA C; our install fails (no ESP here) and its
    // undo must remove our policies only.
    shell("ip xfrm policy add src 10.45.0.2/32 dst 10.45.0.1/32 sport 5200 dport 5101 dir in");
    auto reservation = xfrm.reserveSpis(ue, pcscf);
    EXPECT_THROW(xfrm.install(reservation, specFor(reservation), kCk, kIk), XfrmError);
    auto count = xfrm.countState();
    EXPECT_EQ(count.ownSas + count.ownPolicies, 0u);
    EXPECT_EQ(count.otherPolicies, 1u) << "the foreign policy must survive the undo";
}

TEST_F(HostKernel, AReservationServesOneInstallOrReleaseOfItsOwnXfrm) {
    auto reservation = xfrm.reserveSpis(ue, pcscf);
    Xfrm other;
    try {
        other.release(reservation);
        FAIL() << "another Xfrm released a reservation it did not make";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::InvalidArgument);
    }
    EXPECT_EQ(xfrm.countState().ownSas, 2u) << "a refused release changes nothing";
    EXPECT_THROW(xfrm.install(reservation, specFor(reservation), kCk, kIk), XfrmError);
    try {
        xfrm.install(reservation, specFor(reservation), kCk, kIk);
        FAIL() << "a used reservation was installed again";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::InvalidArgument) << error.what();
    }
    EXPECT_THROW(xfrm.release(reservation), XfrmError);
    auto fresh = xfrm.reserveSpis(ue, pcscf);
    Xfrm moved = std::move(xfrm);  // open reservations move with the connection
    moved.release(fresh);
    EXPECT_EQ(moved.countState().ownSas, 0u);
    xfrm = std::move(moved);
}

TEST(XfrmOptionsCheck, RejectsSpiRangesBelow256AndEmptyReqidRanges) {
    XfrmOptions options;
    options.minSpi = 255;
    EXPECT_THROW(Xfrm{options}, XfrmError);
    options = {};
    options.minSpi = 5000;
    options.maxSpi = 4000;
    EXPECT_THROW(Xfrm{options}, XfrmError);
    options = {};
    options.reqidCount = 0;
    EXPECT_THROW(Xfrm{options}, XfrmError);
}

}  // namespace
}  // namespace imsaka::ipsec

namespace imsaka::ipsec {
namespace {

TEST_F(HostKernel, AGuardPolicyBlocksAnyPeerOfALocalPortAndCarriesOurReqid) {
    detail::Channel channel;
    std::vector<detail::Message> requests;
    for (bool in : {true, false}) {
        detail::PolicyDescription guard;
        guard.flow.source = ue;
        guard.flow.destination = ue;
        guard.flow.anySource = in;
        guard.flow.anyDestination = !in;
        (in ? guard.flow.destinationPort : guard.flow.sourcePort) = 5101;
        guard.direction = in ? XFRM_POLICY_IN : XFRM_POLICY_OUT;
        guard.reqid = 0x494d0200;
        guard.priority = 1;
        guard.block = true;
        requests.push_back(detail::policyMessage(guard));
    }
    auto replies = channel.exchange(requests);
    for (const auto& reply : replies) EXPECT_EQ(reply.error, 0) << reply.explanation;
    std::string listing = shellOutput("ip xfrm policy list");
    EXPECT_NE(listing.find("src 0.0.0.0/0 dst 10.45.0.1/32 dport 5101"), std::string::npos)
        << listing;
    EXPECT_NE(listing.find("src 10.45.0.1/32 dst 0.0.0.0/0 sport 5101"), std::string::npos)
        << listing;
    EXPECT_NE(listing.find("action block"), std::string::npos) << listing;
    for (const auto& message : channel.dump(XFRM_MSG_GETPOLICY, "list policies")) {
        auto policy = detail::parsePolicy(message);
        ASSERT_TRUE(policy);
        EXPECT_TRUE(policy->block);
        EXPECT_EQ(policy->flow.anySource, policy->direction == XFRM_POLICY_IN);
        EXPECT_EQ(policy->flow.anyDestination, policy->direction == XFRM_POLICY_OUT);
    }
    EXPECT_EQ(xfrm.countState().ownPolicies, 2u) << "the template's reqid marks them as ours";
    EXPECT_EQ(xfrm.removeOwnState().ownPolicies, 2u);
    EXPECT_EQ(shellOutput("ip xfrm policy list"), "");
}

TEST_F(HostKernel, ARenewedReservationHasItsSpisBackAfterTheKernelDroppedThem) {
    shell("echo 1 > /proc/sys/net/core/xfrm_acq_expires");
    EXPECT_EQ(Xfrm::reservationLifetime(), std::chrono::seconds(1));
    auto reservation = xfrm.reserveSpis(ue, pcscf);
    shell("echo 30 > /proc/sys/net/core/xfrm_acq_expires");
    // Poll until the kernel has dropped both larval SAs (bounded).
    for (int i = 0; i < 1000 && xfrm.countState().ownSas != 0; ++i) usleep(20000);
    ASSERT_EQ(xfrm.countState().ownSas, 0u) << "the kernel kept the larval SAs";
    xfrm.renew(reservation);
    std::string listing = shellOutput("ip xfrm state list");
    for (uint32_t spi : {reservation.spiClient, reservation.spiServer}) {
        char text[16];
        std::snprintf(text, sizeof text, "spi 0x%08x", spi);
        EXPECT_NE(listing.find(text), std::string::npos) << text << " in\n" << listing;
    }
    EXPECT_EQ(xfrm.countState().ownSas, 2u);
    // Renewed again while alive: still exactly two, no stray larval SA without an SPI.
    xfrm.renew(reservation);
    EXPECT_EQ(xfrm.countState().ownSas, 2u) << shellOutput("ip xfrm state list");
    xfrm.release(reservation);
    EXPECT_EQ(xfrm.countState().ownSas, 0u);
    EXPECT_THROW(xfrm.renew(reservation), XfrmError) << "a released reservation is gone";
}

}  // namespace
}  // namespace imsaka::ipsec
