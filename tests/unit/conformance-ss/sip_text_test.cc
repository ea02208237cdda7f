// The system simulator's reading of SIP: start lines, folded and compact headers, lists,
// name-addr, Via, Digest credentials, sec-agree mechanisms, stream framing, bad input.
#include "sip_text.h"

#include <gtest/gtest.h>

namespace imsaka::conformance {
namespace {

const char* const kRegister =
    "REGISTER sip:ims.example.net SIP/2.0\r\n"
    "v: SIP/2.0/UDP [fd46::1]:40101;branch=z9hG4bKabc\r\n"
    "From: <sip:alice@ims.example.net>;tag=f1\r\n"
    "To: <sip:alice@ims.example.net>\r\n"
    "i: call-1\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:[fd46::1]:40101>;+sip.instance=\"<urn:uuid:1>\";expires=600000\r\n"
    "Authorization: Digest username=\"alice@ims.example.net\", realm=\"ims.example.net\",\r\n"
    "  nonce=\"bm9uY2U=\", uri=\"sip:ims.example.net\", response=\"\", qop=auth, nc=00000001\r\n"
    "Security-Client: ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1; spi-s=2; port-c=3; port-s=4,\r\n"
    " ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;spi-c=1;spi-s=2;port-c=3;port-s=4\r\n"
    "Supported: path, gruu\r\n"
    "l: 0\r\n"
    "\r\n";

TEST(SipText, ReadsARequestWithFoldedAndCompactHeaders) {
    auto message = SipMessage::parse(kRegister);
    EXPECT_TRUE(message.isRequest());
    EXPECT_EQ(message.method(), "REGISTER");
    EXPECT_EQ(message.requestUri(), "sip:ims.example.net");
    EXPECT_EQ(message.cseqNumber(), 2u);
    EXPECT_EQ(message.cseqMethod(), "REGISTER");
    EXPECT_EQ(message.first("Call-ID"), "call-1");
    EXPECT_EQ(message.count("Via"), 1u);
    EXPECT_EQ(message.values("Supported"), (std::vector<std::string>{"path", "gruu"}));
    auto credentials = parseCredentials(*message.first("Authorization"));
    EXPECT_EQ(credentials.scheme, "Digest");
    const auto* nonce = findParameter(credentials.parameters, "nonce");
    ASSERT_NE(nonce, nullptr);
    EXPECT_EQ(nonce->value, "bm9uY2U=");
    EXPECT_TRUE(nonce->quoted);
    const auto* response = findParameter(credentials.parameters, "response");
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(response->value, "");
    EXPECT_EQ(findParameter(credentials.parameters, "nc")->value, "00000001");
}

TEST(SipText, ReadsViaContactAndMechanisms) {
    auto message = SipMessage::parse(kRegister);
    auto via = parseVia(message.values("Via").front());
    EXPECT_EQ(via.protocol, "SIP/2.0/UDP");
    EXPECT_EQ(via.transport, "UDP");
    EXPECT_EQ(via.host, "fd46::1");
    EXPECT_EQ(via.port, 40101);
    EXPECT_EQ(findParameter(via.parameters, "branch")->value, "z9hG4bKabc");

    auto contact = parseNameAddr(message.values("Contact").front());
    EXPECT_EQ(contact.uri, "sip:[fd46::1]:40101");
    auto uri = parseUri(contact.uri);
    EXPECT_EQ(uri.host, "fd46::1");
    EXPECT_EQ(uri.port, 40101);
    EXPECT_EQ(findParameter(contact.parameters, "+sip.instance")->value, "<urn:uuid:1>");

    auto mechanisms = parseSecurityMechanisms(*message.first("Security-Client"));
    ASSERT_EQ(mechanisms.size(), 2u);
    EXPECT_EQ(mechanisms[0].name, "ipsec-3gpp");
    EXPECT_EQ(findParameter(mechanisms[0].parameters, "alg")->value, "hmac-sha-1-96");
    EXPECT_EQ(findParameter(mechanisms[1].parameters, "ealg")->value, "aes-cbc");
}

TEST(SipText, ReadsAResponseAndItsBody) {
    auto message = SipMessage::parse(
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\nFrom: "
        "<sip:a@b>;tag=1\r\n"
        "To: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 7 REGISTER\r\nContent-Length: 3\r\n\r\nabcdef");
    EXPECT_FALSE(message.isRequest());
    EXPECT_EQ(message.status(), 401);
    EXPECT_EQ(message.reason(), "Unauthorized");
    EXPECT_EQ(message.body(), "abc");
    EXPECT_EQ(message.cseqMethod(), "REGISTER");
}

TEST(SipText, FramesMessagesOnAStream) {
    std::string stream = std::string(kRegister) + "SIP/2.0 200 OK\r\n";
    auto length = completeMessageLength(stream);
    ASSERT_TRUE(length);
    EXPECT_EQ(*length, std::string(kRegister).size());
    EXPECT_FALSE(completeMessageLength(stream.substr(*length)));
    EXPECT_THROW(completeMessageLength("OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n"), SipSyntaxError);
}

TEST(SipText, RejectsWhatIsNotSip) {
    EXPECT_THROW(SipMessage::parse("hello"), SipSyntaxError);
    EXPECT_THROW(SipMessage::parse("REGISTER sip:a SIP/3.0\r\n\r\n"), SipSyntaxError);
    EXPECT_THROW(SipMessage::parse("REGISTER  sip:a SIP/2.0\r\nVia: x\r\n\r\n"), SipSyntaxError);
    EXPECT_THROW(SipMessage::parse("SIP/2.0 99 Low\r\n\r\n"), SipSyntaxError);
    // Every message needs Via, From, To, Call-ID and CSeq.
    EXPECT_THROW(SipMessage::parse("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"),
                 SipSyntaxError);
    EXPECT_THROW(parseUri("sip:[fd46::1"), SipSyntaxError);
    EXPECT_THROW(parseUri("sip:host:0"), SipSyntaxError);
    EXPECT_THROW(parseUri("http://host"), SipSyntaxError);
    EXPECT_THROW(parseNameAddr("<sip:a@b"), SipSyntaxError);
    EXPECT_THROW(parseCredentials("Digest nonce=\"open"), SipSyntaxError);
    EXPECT_THROW(splitList("a, <b, c"), SipSyntaxError);
}

TEST(SipText, SplitsListsOutsideQuotesAndBrackets) {
    EXPECT_EQ(splitList("<sip:a;x=\"1,2\">, <sip:b>"),
              (std::vector<std::string>{"<sip:a;x=\"1,2\">", "<sip:b>"}));
    EXPECT_EQ(fullHeaderName("k"), "Supported");
    EXPECT_EQ(fullHeaderName("X-Other"), "X-Other");
    EXPECT_EQ(parseUnsigned("4294967295"), 4294967295u);
    EXPECT_FALSE(parseUnsigned("4294967296"));
    EXPECT_FALSE(parseUnsigned("1a"));
}

}  // namespace
}  // namespace imsaka::conformance
