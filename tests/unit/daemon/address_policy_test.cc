#include "address_policy.h"

#include <gtest/gtest.h>

namespace imsaka::daemon {
namespace {

using ipsec::IpAddress;

// A host with 192.0.2.1/24 and 2001:db8::1 besides loopback.
HostAddresses sampleHost() {
    HostAddresses host;
    for (const char* own : {"127.0.0.1", "::1", "192.0.2.1", "2001:db8::1"})
        host.own.push_back(IpAddress::fromText(own));
    host.broadcasts.push_back(IpAddress::fromText("192.0.2.255"));
    return host;
}

std::string pcscfProblem(const char* address) {
    return pcscfAddressProblem(IpAddress::fromText(address), sampleHost()).value_or("");
}

std::string localProblem(const char* address) {
    return localAddressProblem(IpAddress::fromText(address), sampleHost()).value_or("");
}

TEST(AddressPolicy, APcscfIsAnotherUnicastHost) {
    EXPECT_EQ(pcscfProblem("192.0.2.10"), "");
    EXPECT_EQ(pcscfProblem("198.51.100.7"), "");
    EXPECT_EQ(pcscfProblem("2001:db8::10"), "");
    EXPECT_EQ(pcscfProblem("0.0.0.0"), "is the unspecified address");
    EXPECT_EQ(pcscfProblem("0.1.2.3"), "is in 0.0.0.0/8 (this network), not a host");
    EXPECT_EQ(pcscfProblem("::"), "is the unspecified address");
    EXPECT_EQ(pcscfProblem("224.0.0.1"), "is a multicast address");
    EXPECT_EQ(pcscfProblem("239.255.255.250"), "is a multicast address");
    EXPECT_EQ(pcscfProblem("ff05::1:3"), "is a multicast address");
    EXPECT_EQ(pcscfProblem("255.255.255.255"), "is the broadcast address");
    EXPECT_EQ(pcscfProblem("192.0.2.255"), "is the broadcast address of a local network");
    EXPECT_EQ(pcscfProblem("127.0.0.1"), "is a loopback address");
    EXPECT_EQ(pcscfProblem("127.1.2.3"), "is a loopback address");
    EXPECT_EQ(pcscfProblem("::1"), "is a loopback address");
    EXPECT_EQ(pcscfProblem("192.0.2.1"), "is an address of this host");
    EXPECT_EQ(pcscfProblem("2001:db8::1"), "is an address of this host");
    EXPECT_EQ(pcscfProblem("::ffff:192.0.2.10"),
              "is an IPv4-mapped IPv6 address (give the IPv4 address itself)");
    EXPECT_EQ(pcscfProblem("fe80::1"), "is a link-local address");
}

TEST(AddressPolicy, ALocalAddressIsOneOfThisHostsUnicastAddresses) {
    EXPECT_EQ(localProblem("192.0.2.1"), "");
    EXPECT_EQ(localProblem("2001:db8::1"), "");
    EXPECT_EQ(localProblem("0.0.0.0"), "is the unspecified address");
    EXPECT_EQ(localProblem("::"), "is the unspecified address");
    EXPECT_EQ(localProblem("192.0.2.77"), "is not an address of this host");
    EXPECT_EQ(localProblem("127.0.0.1"), "is a loopback address");
    EXPECT_EQ(localProblem("192.0.2.255"), "is the broadcast address of a local network");
    EXPECT_EQ(localProblem("224.0.0.1"), "is a multicast address");
}

TEST(AddressPolicy, TheHostsAddressesIncludeLoopback) {
    auto host = hostAddresses();
    EXPECT_NE(std::find(host.own.begin(), host.own.end(), IpAddress::fromText("127.0.0.1")),
              host.own.end());
}

}  // namespace
}  // namespace imsaka::daemon
