#include "socket_address.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "imsaka/daemon/errors.h"

namespace imsaka::daemon {
namespace {

TEST(SocketAddress, CarriesFamilyPortAndAddressBytes) {
    auto v4 = socketAddress(ipsec::IpAddress::fromText("192.0.2.7"), 5060);
    ASSERT_EQ(v4.length, sizeof(sockaddr_in));
    auto* in = reinterpret_cast<const sockaddr_in*>(v4.get());
    EXPECT_EQ(in->sin_family, AF_INET);
    EXPECT_EQ(ntohs(in->sin_port), 5060);
    EXPECT_EQ(ntohl(in->sin_addr.s_addr), 0xc0000207u);
    auto v6 = socketAddress(ipsec::IpAddress::fromText("2001:db8::1"), 5061);
    ASSERT_EQ(v6.length, sizeof(sockaddr_in6));
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(v6.get());
    EXPECT_EQ(in6->sin6_family, AF_INET6);
    EXPECT_EQ(ntohs(in6->sin6_port), 5061);
    EXPECT_EQ(in6->sin6_addr.s6_addr[0], 0x20);
    EXPECT_EQ(in6->sin6_addr.s6_addr[15], 0x01);
}

TEST(SourceAddress, TowardsLoopbackIsLoopback) {
    EXPECT_EQ(sourceAddressTowards("127.0.0.1", 5060), "127.0.0.1");
}

TEST(SourceAddress, BadTextIsRefusedBeforeAnySocket) {
    EXPECT_THROW(sourceAddressTowards("not-an-address", 5060), std::exception);
}

}  // namespace
}  // namespace imsaka::daemon
