// imsaka-register's sockets over the loopback interface.
#include "transport.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>

#include "sip_message.h"

namespace imsaka::reg {
namespace {

bool readable(const Socket& socket) {
    pollfd wait{socket.fd(), POLLIN, 0};
    return poll(&wait, 1, 2000) == 1;
}

TEST(Endpoint, WritesIpv6InBrackets) {
    EXPECT_EQ((Endpoint{"10.46.0.1", 5060}).text(), "10.46.0.1:5060");
    EXPECT_EQ((Endpoint{"fd46::1", 5060}).text(), "[fd46::1]:5060");
}

TEST(ProtectedPairs, CoverTheSetsTwoPairsAndNothingElse) {
    ProtectedPairs set{"10.46.0.1", "10.46.0.2", 40000, 40001, 5100, 6100};
    EXPECT_TRUE(set.cover({"10.46.0.1", 40000}, {"10.46.0.2", 6100}));   // uc <-> ps
    EXPECT_TRUE(set.cover({"10.46.0.1", 40001}, {"10.46.0.2", 5100}));   // us <-> pc
    EXPECT_FALSE(set.cover({"10.46.0.1", 40001}, {"10.46.0.2", 5999}));  // another P-CSCF port
    EXPECT_FALSE(set.cover({"10.46.0.1", 40001}, {"10.46.0.2", 6100}));  // us <-> ps: no SA
    EXPECT_FALSE(set.cover({"10.46.0.1", 40001}, {"10.46.0.9", 5100}));  // another host
    EXPECT_FALSE(set.cover({"10.46.0.3", 40000}, {"10.46.0.2", 6100}));  // another UE address
    EXPECT_FALSE(set.cover({"10.46.0.1", 5060}, {"10.46.0.2", 5060}));   // unprotected ports
    ProtectedPairs v6{"fd46::1", "fd46:0::2", 40000, 40001, 5100, 6100};
    EXPECT_TRUE(v6.cover({"fd46:0:0::1", 40000}, {"fd46::2", 6100}));
    EXPECT_FALSE(ProtectedPairs{}.cover({"", 0}, {"", 0})) << "no set yet";
}

TEST(Transport, CarriesADatagramAndSaysWhereItCameFrom) {
    Socket receiver = bindUdp({"127.0.0.1", 0});
    Socket sender = bindUdp({"127.0.0.1", 0});
    sendDatagram(sender, localEndpoint(receiver), "OPTIONS");
    ASSERT_TRUE(readable(receiver));
    auto datagram = receiveDatagram(receiver);
    ASSERT_TRUE(datagram);
    EXPECT_EQ(datagram->data, "OPTIONS");
    EXPECT_EQ(datagram->from, localEndpoint(sender));
}

TEST(Transport, ANonBlockingSocketWithNothingWaitingGivesNothing) {
    Socket socket = bindUdp({"127.0.0.1", 0});
    ASSERT_EQ(fcntl(socket.fd(), F_SETFL, O_NONBLOCK), 0);
    EXPECT_FALSE(receiveDatagram(socket));
}

TEST(Transport, CarriesAStreamFramedIntoMessages) {
    Socket listener = listenTcp({"127.0.0.1", 0});
    Socket client = connectTcp({"127.0.0.1", 0}, localEndpoint(listener));
    Socket server = accept(listener);
    EXPECT_EQ(peerEndpoint(server), localEndpoint(client));
    const std::string message = buildRequest("OPTIONS", "sip:10.46.0.2",
                                             {{"Via", "SIP/2.0/TCP 10.46.0.1:5060"}}, "z9hG4bK1");
    sendStream(client, message + message);
    StreamFramer framer;
    int messages = 0;
    while (messages < 2 && readable(server)) {
        auto bytes = receiveStream(server);
        ASSERT_TRUE(bytes);
        framer.append(*bytes);
        while (auto whole = framer.next()) {
            EXPECT_EQ(*whole, message);
            ++messages;
        }
    }
    EXPECT_EQ(messages, 2);
    client.close();
    ASSERT_TRUE(readable(server));
    EXPECT_FALSE(receiveStream(server)) << "the peer closed the stream";
}

TEST(Transport, ConnectingToAPortNobodyListensOnIsANamedError) {
    Endpoint closed;
    {
        Socket listener = listenTcp({"127.0.0.1", 0});
        closed = localEndpoint(listener);
    }
    try {
        connectTcp({"127.0.0.1", 0}, closed);
        FAIL() << "no error";
    } catch (const TransportError& error) {
        EXPECT_NE(std::string(error.what()).find("connect to " + closed.text()), std::string::npos)
            << error.what();
    }
}

TEST(Transport, RejectsAnAddressThatIsNotAnIpLiteral) {
    EXPECT_THROW(bindUdp({"pcscf.example.net", 5060}), TransportError);
}

}  // namespace
}  // namespace imsaka::reg
