#include <gtest/gtest.h>
#include <netinet/in.h>

#include <vector>

#include "esp_capture.h"

namespace imsaka::e2e {
namespace {

std::vector<uint8_t> ipv4(uint8_t protocol, std::vector<uint8_t> payload) {
    std::vector<uint8_t> packet = {0x45, 0, 0,  0,  0, 0, 0,  0,  64, protocol,
                                   0,    0, 10, 46, 0, 1, 10, 46, 0,  2};
    packet.insert(packet.end(), payload.begin(), payload.end());
    return packet;
}

std::vector<uint8_t> withText(std::vector<uint8_t> header, const std::string& text) {
    header.insert(header.end(), text.begin(), text.end());
    return header;
}

TEST(PacketTest, EspGivesItsSpi) {
    auto data = ipv4(IPPROTO_ESP, {0x00, 0x00, 0x10, 0x01, 0, 0, 0, 1});
    Packet packet;
    ASSERT_TRUE(parseIpPacket(data.data(), data.size(), packet));
    EXPECT_TRUE(packet.esp());
    EXPECT_EQ(packet.spi, 4097u);
    EXPECT_EQ(packet.length, data.size());
    EXPECT_FALSE(packet.fragment);
    EXPECT_EQ(packet.source, "10.46.0.1");
    EXPECT_EQ(packet.destination, "10.46.0.2");
    EXPECT_FALSE(packet.clearSip());
}

TEST(PacketTest, UdpSipInClearIsRecognised) {
    // Ports 31000 -> 6100, length and checksum zero.
    auto data = ipv4(IPPROTO_UDP, withText({0x79, 0x18, 0x17, 0xd4, 0, 0, 0, 0},
                                           "REGISTER sip:ims.test SIP/2.0\r\nVia: x\r\n"));
    Packet packet;
    ASSERT_TRUE(parseIpPacket(data.data(), data.size(), packet));
    EXPECT_EQ(packet.sourcePort, 31000);
    EXPECT_EQ(packet.destinationPort, 6100);
    EXPECT_EQ(packet.firstLine, "REGISTER sip:ims.test SIP/2.0");
    EXPECT_TRUE(packet.clearSip());
}

TEST(PacketTest, Ipv6TcpSkipsTheTcpHeader) {
    std::vector<uint8_t> data = {0x60, 0, 0, 0, 0, 0, IPPROTO_TCP, 64};
    std::vector<uint8_t> source(16, 0), destination(16, 0);
    source[0] = destination[0] = 0xfd;
    source[1] = destination[1] = 0x46;
    source[15] = 1;
    destination[15] = 2;
    data.insert(data.end(), source.begin(), source.end());
    data.insert(data.end(), destination.begin(), destination.end());
    std::vector<uint8_t> tcp(20, 0);
    tcp[0] = 0x13;
    tcp[1] = 0xc4;  // 5060
    tcp[2] = 0x79;
    tcp[3] = 0x18;   // 31000
    tcp[12] = 0x50;  // 5 words
    data.insert(data.end(), tcp.begin(), tcp.end());
    data = withText(data, "SIP/2.0 200 OK\r\n");
    Packet packet;
    ASSERT_TRUE(parseIpPacket(data.data(), data.size(), packet));
    EXPECT_EQ(packet.source, "fd46::1");
    EXPECT_EQ(packet.destination, "fd46::2");
    EXPECT_EQ(packet.sourcePort, 5060);
    EXPECT_EQ(packet.firstLine, "SIP/2.0 200 OK");
    EXPECT_TRUE(packet.clearSip());
}

TEST(PacketTest, Ipv6FirstFragmentGivesTheEspSpi) {
    std::vector<uint8_t> data = {0x60, 0, 0, 0, 0, 0, IPPROTO_FRAGMENT, 64};
    data.insert(data.end(), 32, 0);
    // Fragment header: next header ESP, offset 0 with "more fragments", identification.
    std::vector<uint8_t> fragment = {IPPROTO_ESP, 0, 0x00, 0x01, 0, 0, 0, 7};
    data.insert(data.end(), fragment.begin(), fragment.end());
    std::vector<uint8_t> esp = {0x00, 0x00, 0x10, 0x01, 0, 0, 0, 1};
    data.insert(data.end(), esp.begin(), esp.end());
    Packet packet;
    ASSERT_TRUE(parseIpPacket(data.data(), data.size(), packet));
    EXPECT_TRUE(packet.esp());
    EXPECT_TRUE(packet.fragment);
    EXPECT_EQ(packet.spi, 4097u);
}

TEST(PacketTest, LaterFragmentsAreNotReadAsHeaders) {
    // IPv4, protocol ESP, fragment offset 185 (1480 bytes): its first bytes are not an SPI.
    auto data = ipv4(IPPROTO_ESP, {0xde, 0xad, 0xbe, 0xef});
    data[6] = 0x00;
    data[7] = 0xb9;
    Packet packet;
    ASSERT_TRUE(parseIpPacket(data.data(), data.size(), packet));
    EXPECT_TRUE(packet.laterFragment);
    EXPECT_TRUE(packet.fragment);
    EXPECT_FALSE(packet.esp());
    EXPECT_EQ(packet.spi, 0u);
}

TEST(PacketTest, OtherTrafficIsNotSip) {
    auto data = ipv4(IPPROTO_UDP, withText({0, 53, 0, 53, 0, 0, 0, 0}, "\x01\x02"));
    Packet packet;
    ASSERT_TRUE(parseIpPacket(data.data(), data.size(), packet));
    EXPECT_FALSE(packet.clearSip());
    EXPECT_FALSE(packet.esp());
}

TEST(PacketTest, ShortOrUnknownPacketsAreRefused) {
    std::vector<uint8_t> arp = {0x00, 0x01, 0x08, 0x00};
    Packet packet;
    EXPECT_FALSE(parseIpPacket(arp.data(), arp.size(), packet));
    auto data = ipv4(IPPROTO_ESP, {});
    EXPECT_FALSE(parseIpPacket(data.data(), 12, packet));
}

}  // namespace
}  // namespace imsaka::e2e
