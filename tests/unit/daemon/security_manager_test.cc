// Port and SPI reservation against the host's kernel, in a private network namespace (see
// CMakeLists.txt): the kernel allocates SPIs there, but has no ESP to install sets with.
#include "security_manager.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "imsaka/daemon/errors.h"
#include "imsaka/ipsec/error.h"
#include "imsaka/ipsec/xfrm.h"
#include "socket_address.h"

namespace imsaka::daemon {
namespace {

bool canBind(int type, uint16_t port) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    auto address = socketAddress(ipsec::IpAddress::fromText("127.0.0.1"), port);
    bool ok = bind(fd, address.get(), address.length) == 0;
    close(fd);
    return ok;
}

uint16_t localPort(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
}

class SecurityManagerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(std::system("ip link set lo up"), 0);
        config.portMin = 41000;
        config.portMax = 41003;
        config.spiMin = 0x5000;
        config.spiMax = 0x5fff;
    }
    DaemonConfig config;
    EventLoop loop;
};

TEST_F(SecurityManagerTest, AnOfferHoldsTwoPortsForUdpAndTcpAndKernelSpisInRange) {
    SecurityManager security(config, loop);
    auto offer = security.reserve("127.0.0.1", "127.0.0.2");
    EXPECT_NE(offer.portUc, offer.portUs);
    for (auto port : {offer.portUc, offer.portUs}) {
        EXPECT_GE(port, 41000);
        EXPECT_LE(port, 41003);
        EXPECT_FALSE(canBind(SOCK_DGRAM, port)) << port;
        EXPECT_FALSE(canBind(SOCK_STREAM, port)) << port;
    }
    for (auto spi : {offer.spiUc, offer.spiUs}) {
        EXPECT_GE(spi, 0x5000u);
        EXPECT_LE(spi, 0x5fffu);
    }
    security.release(offer);
    EXPECT_TRUE(canBind(SOCK_DGRAM, offer.portUc));
    EXPECT_TRUE(canBind(SOCK_STREAM, offer.portUs));
}

TEST_F(SecurityManagerTest, PortsHeldByOthersAreSkippedAndAFullRangeIsPortsUnavailable) {
    int other = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto address = socketAddress(ipsec::IpAddress::fromText("127.0.0.1"), 41000);
    ASSERT_EQ(bind(other, address.get(), address.length), 0);
    SecurityManager security(config, loop);
    auto first = security.reserve("127.0.0.1", "127.0.0.2");
    EXPECT_NE(first.portUc, 41000);
    EXPECT_NE(first.portUs, 41000);
    try {
        security.reserve("127.0.0.1", "127.0.0.2");  // one port left of four
        FAIL() << "no error";
    } catch (const DaemonError& e) {
        EXPECT_EQ(e.code(), DaemonErrc::PortsUnavailable);
    }
    security.release(first);
    close(other);
}

// TS 33.203 7.4: a new set of a registration keeps its protected server port. The port is
// shared: it stays bound while either the old or the new set (or offer) holds it.
TEST_F(SecurityManagerTest, AnOfferCanKeepTheServerPortOfAnotherOne) {
    SecurityManager security(config, loop);
    auto first = security.reserve("127.0.0.1", "127.0.0.2");
    auto second = security.reserve("127.0.0.1", "127.0.0.2", first.portUs);
    EXPECT_EQ(second.portUs, first.portUs);
    EXPECT_NE(second.portUc, first.portUc);
    EXPECT_NE(second.portUc, first.portUs);
    EXPECT_NE(second.spiUc, first.spiUc);
    EXPECT_NE(second.spiUs, first.spiUs);
    security.release(first);
    EXPECT_FALSE(canBind(SOCK_DGRAM, second.portUs)) << "still held by the second offer";
    EXPECT_TRUE(canBind(SOCK_DGRAM, first.portUc));
    int server = security.duplicatePending(second.portUs, false, false);
    ASSERT_GE(server, 0);
    EXPECT_EQ(localPort(server), first.portUs);
    close(server);
    security.release(second);
    EXPECT_TRUE(canBind(SOCK_DGRAM, second.portUs));
    EXPECT_TRUE(canBind(SOCK_STREAM, second.portUs));
}

// A server port to keep that nobody holds any more is bound again when it is free.
TEST_F(SecurityManagerTest, AServerPortToKeepIsBoundAgainWhenNobodyHoldsIt) {
    SecurityManager security(config, loop);
    auto first = security.reserve("127.0.0.1", "127.0.0.2");
    security.release(first);
    auto second = security.reserve("127.0.0.1", "127.0.0.2", first.portUs);
    EXPECT_EQ(second.portUs, first.portUs);
    EXPECT_FALSE(canBind(SOCK_DGRAM, second.portUs));
    security.release(second);
}

TEST_F(SecurityManagerTest, SocketsHandedOutAreBoundToTheReservedPort) {
    SecurityManager security(config, loop);
    auto offer = security.reserve("127.0.0.1", "127.0.0.2");
    int udp = security.duplicatePending(offer.portUc, false, false);
    int server = security.duplicatePending(offer.portUs, true, true);
    ASSERT_GE(udp, 0);
    ASSERT_GE(server, 0);
    EXPECT_EQ(localPort(udp), offer.portUc);
    EXPECT_EQ(localPort(server), offer.portUs);
    int listening = 0;
    socklen_t length = sizeof listening;
    ASSERT_EQ(getsockopt(server, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length), 0);
    EXPECT_EQ(listening, 1);
    EXPECT_EQ(security.duplicatePending(1, false, false), -1);
    close(udp);
    close(server);
    security.release(offer);
}

TEST_F(SecurityManagerTest, InstallingWithoutEspFailsAndFreesThePorts) {
    SecurityManager security(config, loop);
    auto offer = security.reserve("127.0.0.1", "127.0.0.2");
    SaSetView view;
    view.id = 1;
    view.ours = offer;
    view.theirs = {sip::IntegrityAlgorithm::HmacSha1_96,
                   sip::EncryptionAlgorithm::Null,
                   0x3000,
                   0x3001,
                   6100,
                   6101};
    view.pcscfAddress = "127.0.0.2";
    view.lifetime = Seconds(240);
    Bytes ck(16, 0x11), ik(16, 0x22);
    try {
        security.install(view, "127.0.0.1", ck, ik);
        FAIL() << "the host kernel has ESP: this test expects one without";
    } catch (...) {
        EXPECT_EQ(classify(std::current_exception()).code(), DaemonErrc::KernelError);
    }
    EXPECT_TRUE(canBind(SOCK_DGRAM, offer.portUc));
    EXPECT_TRUE(canBind(SOCK_STREAM, offer.portUs));
}

SaSetView setFor(const SecurityOffer& offer, uint32_t spiPc, uint32_t spiPs) {
    SaSetView view;
    view.id = 1;
    view.ours = offer;
    view.theirs = {sip::IntegrityAlgorithm::HmacSha1_96,
                   sip::EncryptionAlgorithm::Null,
                   spiPc,
                   spiPs,
                   6100,
                   6101};
    view.pcscfAddress = "127.0.0.2";
    view.lifetime = Seconds(240);
    return view;
}

TEST_F(SecurityManagerTest, AnInstallRefusedBeforeTheKernelReleasesTheReservation) {
    SecurityManager security(config, loop);
    auto offer = security.reserve("127.0.0.1", "127.0.0.2");
    ASSERT_EQ(ipsec::Xfrm().countState().ownSas, 2u) << "the reservation's larval SAs";
    Bytes ck(16, 0x11), ik(16, 0x22);
    // An SPI the kernel refuses before anything goes in (1-255 are reserved, RFC 4303).
    EXPECT_ANY_THROW(security.install(setFor(offer, 255, 0x3001), "127.0.0.1", ck, ik));
    auto left = ipsec::Xfrm().countState();
    EXPECT_EQ(left.ownSas + left.ownPolicies, 0u) << "the reservation leaked";
    EXPECT_TRUE(canBind(SOCK_DGRAM, offer.portUc));
    EXPECT_TRUE(canBind(SOCK_STREAM, offer.portUs));
}

// The SPIs of the larval SAs of ours in this namespace.
std::set<uint32_t> larvalSpis() {
    std::set<uint32_t> spis;
    FILE* listing = popen("ip xfrm state list", "r");
    char line[512];
    while (listing && fgets(line, sizeof line, listing)) {
        unsigned spi = 0;
        if (const char* at = strstr(line, "spi 0x"); at && sscanf(at, "spi 0x%x", &spi) == 1)
            spis.insert(spi);
    }
    if (listing) pclose(listing);
    return spis;
}

TEST_F(SecurityManagerTest, AReservationOnOfferOutlivesTheKernelsLifetimeForLarvalSas) {
    // net.core.xfrm_acq_expires of this private namespace: 2 s instead of 30.
    ASSERT_EQ(std::system("echo 2 > /proc/sys/net/core/xfrm_acq_expires"), 0);
    SecurityManager security(config, loop);
    auto offer = security.reserve("127.0.0.1", "127.0.0.2");
    auto reserved = [](const SecurityOffer& o) {
        auto spis = larvalSpis();
        return spis.count(o.spiUc) + spis.count(o.spiUs);
    };
    ASSERT_EQ(reserved(offer), 2u);
    // A reservation released meanwhile is not renewed.
    auto released = security.reserve("127.0.0.1", "127.0.0.2");
    security.release(released);
    // Five lifetimes of the kernel's larval SAs on the daemon's loop.
    Timer end(loop, [&] { loop.exit(0); });
    end.armIn(std::chrono::milliseconds(10000));
    loop.run();
    EXPECT_EQ(reserved(offer), 2u) << "the offer's SPIs must still be reserved";
    EXPECT_EQ(reserved(released), 0u) << "a released reservation came back";
    security.release(offer);
    EXPECT_EQ(reserved(offer), 0u);
    std::system("echo 30 > /proc/sys/net/core/xfrm_acq_expires");
}

}  // namespace
}  // namespace imsaka::daemon
