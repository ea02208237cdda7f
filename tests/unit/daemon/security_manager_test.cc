// Port and SPI reservation against the host's kernel, in a private network namespace (see
// CMakeLists.txt): the kernel allocates SPIs there, but has no ESP to install sets with.
#include "security_manager.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "imsaka/daemon/errors.h"
#include "imsaka/ipsec/error.h"
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
};

TEST_F(SecurityManagerTest, AnOfferHoldsTwoPortsForUdpAndTcpAndKernelSpisInRange) {
    SecurityManager security(config);
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
    SecurityManager security(config);
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
    SecurityManager security(config);
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
    SecurityManager security(config);
    auto first = security.reserve("127.0.0.1", "127.0.0.2");
    security.release(first);
    auto second = security.reserve("127.0.0.1", "127.0.0.2", first.portUs);
    EXPECT_EQ(second.portUs, first.portUs);
    EXPECT_FALSE(canBind(SOCK_DGRAM, second.portUs));
    security.release(second);
}

TEST_F(SecurityManagerTest, SocketsHandedOutAreBoundToTheReservedPort) {
    SecurityManager security(config);
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
    SecurityManager security(config);
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

}  // namespace
}  // namespace imsaka::daemon
