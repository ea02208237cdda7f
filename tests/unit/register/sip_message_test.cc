// imsaka-register's SIP message side: requests built from what Register() hands over,
// messages received parsed by libosip2, and the 200 OK to a NOTIFY.
#include "sip_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sip_error.h"

namespace imsaka::reg {
namespace {

using ::testing::HasSubstr;

// What imsakad's Register() gives for an initial REGISTER (headers as in doc/dbus-api.md).
Headers registerHeaders() {
    return {{"Via", "SIP/2.0/UDP 10.46.0.1:5060;rport"},
            {"From", "<sip:001010000000001@ims.example.net>;tag=f1"},
            {"To", "<sip:001010000000001@ims.example.net>"},
            {"Call-ID", "c1@10.46.0.1"},
            {"CSeq", "1 REGISTER"},
            {"Contact", "<sip:10.46.0.1:5101>;expires=600000"},
            {"Expires", "600000"},
            {"Authorization", "Digest username=\"u@ims.example.net\", response=\"\""},
            {"Security-Client",
             "ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1; spi-s=2; port-c=5100; port-s=5101"},
            {"Require", "sec-agree"},
            {"Proxy-Require", "sec-agree"},
            {"Supported", "path, gruu"}};
}

const char* const k401 =
    "SIP/2.0 401 Unauthorized\r\n"
    "Via: SIP/2.0/UDP 10.46.0.1:5060;rport=5060;branch=z9hG4bKabc\r\n"
    "From: <sip:001010000000001@ims.example.net>;tag=f1\r\n"
    "To: <sip:001010000000001@ims.example.net>;tag=t9\r\n"
    "Call-ID: c1@10.46.0.1\r\n"
    "CSeq: 1 REGISTER\r\n"
    "Security-Server: ipsec-3gpp; q=0.1; alg=hmac-sha-1-96; spi-c=9; spi-s=8; port-c=5100; "
    "port-s=6100\r\n"
    "WWW-Authenticate: Digest realm=\"ims.example.net\", nonce=\"AAAA\", algorithm=AKAv1-MD5\r\n"
    "Service-Route: <sip:orig@scscf.example.net;lr>\r\n"
    "Service-Route: <sip:second@scscf.example.net;lr>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const char* const kNotify =
    "NOTIFY sip:10.46.0.1:5101 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.46.0.2:5100;branch=z9hG4bKn1\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bKn0\r\n"
    "From: <sip:001010000000001@ims.example.net>;tag=s1\r\n"
    "To: <sip:001010000000001@ims.example.net>;tag=u1\r\n"
    "Call-ID: sub1@10.46.0.1\r\n"
    "CSeq: 7 NOTIFY\r\n"
    "Event: reg\r\n"
    "Subscription-State: active;expires=600000\r\n"
    "Content-Type: application/reginfo+xml\r\n"
    "Content-Length: 11\r\n"
    "\r\n"
    "<reginfo/>\n";

// Every value of the header `name` (as the message names it), in order.
std::vector<std::string> valuesOf(const Message& message, const std::string& name) {
    std::vector<std::string> values;
    for (const auto& [headerName, value] : message.headers)
        if (headerName == name) values.push_back(value);
    return values;
}

TEST(BuildRequest, KeepsTheDaemonsHeadersInOrderAndAddsBranchMaxForwardsAndContentLength) {
    std::string text =
        buildRequest("REGISTER", "sip:ims.example.net", registerHeaders(), "z9hG4bK1234");
    EXPECT_EQ(text.rfind("REGISTER sip:ims.example.net SIP/2.0\r\n", 0), 0u);
    EXPECT_THAT(text, HasSubstr("Via: SIP/2.0/UDP 10.46.0.1:5060;rport;branch=z9hG4bK1234\r\n"));
    size_t previous = 0;
    for (const auto& [name, value] : registerHeaders()) {
        size_t at = text.find("\r\n" + name + ": ");
        ASSERT_NE(at, std::string::npos) << name;
        EXPECT_GT(at, previous) << name << " is out of order";
        previous = at;
    }
    EXPECT_THAT(text, HasSubstr("\r\nMax-Forwards: 70\r\n"));
    EXPECT_TRUE(text.ends_with("\r\nContent-Length: 0\r\n\r\n"));
}

TEST(BuildRequest, ParsesBackWithTheSameHeadersAndBranch) {
    std::string text = buildRequest("SUBSCRIBE", "sip:u@ims.example.net", registerHeaders(),
                                    "z9hG4bKfeed", "body");
    Message message = parseMessage(text);
    EXPECT_TRUE(message.isRequest);
    EXPECT_EQ(message.method, "SUBSCRIBE");
    EXPECT_EQ(message.branch, "z9hG4bKfeed");
    EXPECT_EQ(message.callId, "c1@10.46.0.1");
    EXPECT_EQ(message.header("Security-Client"),
              "ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1; spi-s=2; port-c=5100; port-s=5101");
    EXPECT_EQ(message.header("Content-Length"), "4");
}

TEST(BuildRequest, RejectsALineBreakInAHeader) {
    Headers headers = registerHeaders();
    headers.emplace_back("X-Evil", "a\r\nVia: SIP/2.0/UDP 1.2.3.4");
    auto error =
        sipErrorOf([&] { buildRequest("REGISTER", "sip:ims.example.net", headers, "z9hG4bK1"); });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::BadHeaderValue);
    EXPECT_THAT(error->what(), HasSubstr("X-Evil"));
}

TEST(BuildRequest, RejectsHeadersWithoutVia) {
    auto error = sipErrorOf([&] {
        buildRequest("REGISTER", "sip:ims.example.net", {{"From", "<sip:a@b>"}}, "z9hG4bK1");
    });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::MissingHeader);
}

TEST(NewBranch, StartsWithTheMagicCookieAndDiffersEachTime) {
    std::string first = newBranch();
    EXPECT_EQ(first.rfind("z9hG4bK", 0), 0u);
    EXPECT_EQ(first.size(), 7u + 24u);
    EXPECT_NE(first, newBranch());
}

TEST(ParseMessage, GivesTheStatusTheCSeqMethodAndEveryHeader) {
    Message message = parseMessage(k401);
    EXPECT_FALSE(message.isRequest);
    EXPECT_EQ(message.status, 401);
    EXPECT_EQ(message.method, "REGISTER");
    EXPECT_EQ(message.branch, "z9hG4bKabc");
    EXPECT_EQ(message.cseq, "1 REGISTER");
    EXPECT_EQ(message.header("WWW-Authenticate"),
              "Digest realm=\"ims.example.net\", nonce=\"AAAA\", algorithm=AKAv1-MD5");
    EXPECT_EQ(message.header("security-server"),
              "ipsec-3gpp; q=0.1; alg=hmac-sha-1-96; spi-c=9; spi-s=8; port-c=5100; port-s=6100");
    EXPECT_EQ(message.headers.size(), 10u);
    EXPECT_TRUE(message.body.empty());
}

TEST(ParseMessage, KeepsTheOrderOfHeadersOfTheSameName) {
    Message message = parseMessage(k401);
    EXPECT_EQ(valuesOf(message, "service-route"),
              (std::vector<std::string>{"<sip:orig@scscf.example.net;lr>",
                                        "<sip:second@scscf.example.net;lr>"}));
}

TEST(ParseMessage, AcceptsCompactFormsAndFoldedLines) {
    Message message = parseMessage(
        "SIP/2.0 200 OK\r\n"
        "v: SIP/2.0/UDP 10.46.0.1:5101;branch=z9hG4bKc\r\n"
        "f: <sip:a@ims.example.net>;tag=1\r\n"
        "t: <sip:a@ims.example.net>;tag=2\r\n"
        "i: compact\r\n"
        "CSeq: 2 REGISTER\r\n"
        "P-Associated-URI: <sip:a@ims.example.net>,\r\n"
        " <tel:+15550001>\r\n"
        "l: 0\r\n\r\n");
    EXPECT_EQ(message.status, 200);
    EXPECT_EQ(message.callId, "compact");
    EXPECT_EQ(message.branch, "z9hG4bKc");
    EXPECT_EQ(message.header("Via"), "SIP/2.0/UDP 10.46.0.1:5101;branch=z9hG4bKc");
    EXPECT_EQ(valuesOf(message, "p-associated-uri"),
              (std::vector<std::string>{"<sip:a@ims.example.net>", "<tel:+15550001>"}));
}

TEST(ParseMessage, GivesARequestsMethodAndBody) {
    Message message = parseMessage(kNotify);
    EXPECT_TRUE(message.isRequest);
    EXPECT_EQ(message.method, "NOTIFY");
    EXPECT_EQ(message.uri, "sip:10.46.0.1:5101");
    EXPECT_EQ(message.header("Event"), "reg");
    EXPECT_EQ(message.body, "<reginfo/>\n");
    EXPECT_EQ(message.cseq, "7 NOTIFY");
    EXPECT_EQ(message.branch, "z9hG4bKn1");
}

TEST(ParseMessage, RejectsGarbageWithANamedError) {
    auto error = sipErrorOf([&] { parseMessage("this is not SIP\r\n\r\n"); });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::Unparsable);
}

TEST(ParseMessage, RejectsAResponseWithoutCSeq) {
    auto error = sipErrorOf([&] {
        parseMessage(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
            "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\n\r\n");
    });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::MissingHeader);
    EXPECT_THAT(error->what(), HasSubstr("CSeq"));
}

TEST(ParseMessage, RejectsADatagramShorterThanItsContentLength) {
    auto error = sipErrorOf([&] {
        parseMessage(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
            "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\n"
            "CSeq: 1 REGISTER\r\nContent-Length: 10\r\n\r\nabc");
    });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::Truncated);
    // With a Content-Type, libosip2 itself refuses the short body.
    std::string notify = kNotify;
    notify.resize(notify.size() - 3);
    EXPECT_THROW(parseMessage(notify), SipMessageError);
}

TEST(ParseMessage, RejectsAnOversizedMessage) {
    std::string text = kNotify + std::string(kMaxMessageSize, 'x');
    auto error = sipErrorOf([&] { parseMessage(text); });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::TooLarge);
}

std::string okWithContacts(const std::string& contacts) {
    return "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.46.0.1:5101;branch=z9hG4bKc\r\n"
           "From: <sip:a@ims.example.net>;tag=1\r\nTo: <sip:a@ims.example.net>;tag=2\r\n"
           "Call-ID: c\r\nCSeq: 2 REGISTER\r\n" +
           contacts + "Content-Length: 0\r\n\r\n";
}

TEST(GrantedExpires, IsTheExpiresOfOurContactAmongOthers) {
    Message ok =
        parseMessage(okWithContacts("Contact: <sip:10.46.0.3:5101>;expires=100, "
                                    "<sip:10.46.0.1:5101;transport=udp>;expires=20\r\n"
                                    "Expires: 3600\r\n"));
    EXPECT_EQ(grantedExpires(ok, "sip:10.46.0.1:5101"), 20u);
    EXPECT_EQ(grantedExpires(ok, "sip:10.46.0.3:5101"), 100u);
}

TEST(GrantedExpires, FallsBackToTheExpiresHeaderThenToNothing) {
    Message withHeader =
        parseMessage(okWithContacts("Contact: <sip:10.46.0.1:5101>\r\nExpires: 1200\r\n"));
    EXPECT_EQ(grantedExpires(withHeader, "sip:10.46.0.1:5101"), 1200u);
    Message otherContact =
        parseMessage(okWithContacts("Contact: <sip:10.46.0.9:5101>;expires=5\r\n"));
    EXPECT_EQ(grantedExpires(otherContact, "sip:10.46.0.1:5101"), std::nullopt);
    Message garbled =
        parseMessage(okWithContacts("Contact: <sip:10.46.0.1:5101>;expires=soon\r\n"));
    EXPECT_EQ(grantedExpires(garbled, "sip:10.46.0.1:5101"), std::nullopt);
}

TEST(ParseSeconds, TakesDeltaSecondsOnly) {
    EXPECT_EQ(parseSeconds("600000"), 600000u);
    EXPECT_EQ(parseSeconds("0"), 0u);
    EXPECT_EQ(parseSeconds(""), std::nullopt);
    EXPECT_EQ(parseSeconds("60 (maintenance)"), std::nullopt);
    EXPECT_EQ(parseSeconds("4294967296"), std::nullopt);
}

TEST(SubscriptionIdentity, IsTheRegisteredOneUnlessItIsBarred) {
    const std::string temporary = "sip:310310987654321@ims.mnc310.mcc310.3gppnetwork.org";
    const std::vector<std::string> associated = {
        "sip:+15551230001@ims.mnc310.mcc310.3gppnetwork.org", "tel:+15551230001"};
    EXPECT_EQ(subscriptionIdentity(temporary, {}, associated), temporary);
    EXPECT_EQ(subscriptionIdentity(temporary, {temporary}, associated), associated.front());
    EXPECT_EQ(subscriptionIdentity(temporary, {"tel:+1"}, associated), temporary);
    // Barred, but the network named no other: nothing better to subscribe with.
    EXPECT_EQ(subscriptionIdentity(temporary, {temporary}, {}), temporary);
}

TEST(BuildResponse, AnswersANotifyWithItsViasFromToCallIdAndCSeq) {
    std::string text = buildResponse(kNotify, 200, "OK");
    EXPECT_EQ(text.rfind("SIP/2.0 200 OK\r\n", 0), 0u);
    Message response = parseMessage(text);
    EXPECT_FALSE(response.isRequest);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.method, "NOTIFY");
    EXPECT_EQ(response.cseq, "7 NOTIFY");
    EXPECT_EQ(response.callId, "sub1@10.46.0.1");
    EXPECT_EQ(valuesOf(response, "Via"),
              (std::vector<std::string>{"SIP/2.0/UDP 10.46.0.2:5100;branch=z9hG4bKn1",
                                        "SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bKn0"}));
    EXPECT_EQ(response.header("From"), "<sip:001010000000001@ims.example.net>;tag=s1");
    EXPECT_EQ(response.header("To"), "<sip:001010000000001@ims.example.net>;tag=u1");
    EXPECT_EQ(response.header("Content-Length"), "0");
    EXPECT_TRUE(response.header("Event").empty());
}

TEST(BuildResponse, AddsAToTagWhenTheRequestHasNone) {
    std::string request = kNotify;
    request.replace(request.find(";tag=u1"), 7, "");
    Message response = parseMessage(buildResponse(request, 200, "OK"));
    EXPECT_THAT(response.header("To"), HasSubstr(";tag="));
}

TEST(BuildResponse, RefusesToAnswerAResponse) {
    EXPECT_THROW(buildResponse(k401, 200, "OK"), SipMessageError);
}

}  // namespace
}  // namespace imsaka::reg
