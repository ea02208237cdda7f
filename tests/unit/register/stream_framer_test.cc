// SIP over TCP: whole messages cut out of a byte stream by Content-Length.
#include <gtest/gtest.h>

#include "sip_error.h"
#include "sip_message.h"

namespace imsaka::reg {
namespace {

std::string message(const std::string& callId, const std::string& body) {
    return "NOTIFY sip:10.46.0.1:5101 SIP/2.0\r\n"
           "Via: SIP/2.0/TCP 10.46.0.2:5100;branch=z9hG4bK" +
           callId +
           "\r\n"
           "From: <sip:a@ims.example.net>;tag=1\r\nTo: <sip:a@ims.example.net>;tag=2\r\n"
           "Call-ID: " +
           callId + "\r\nCSeq: 1 NOTIFY\r\nContent-Type: application/reginfo+xml\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(StreamFramer, CutsTwoMessagesOutOfOneRead) {
    StreamFramer framer;
    framer.append(message("one", "<a/>") + message("two", "<bb/>"));
    auto first = framer.next();
    auto second = framer.next();
    ASSERT_TRUE(first && second);
    EXPECT_EQ(*first, message("one", "<a/>"));
    EXPECT_EQ(parseMessage(*second).body, "<bb/>");
    EXPECT_FALSE(framer.next());
    EXPECT_EQ(framer.buffered(), 0u);
}

TEST(StreamFramer, WaitsForAMessageSplitAcrossReads) {
    const std::string whole = message("split", "<reginfo>x</reginfo>");
    for (size_t cut : {size_t{5}, whole.find("\r\n\r\n") + 2, whole.size() - 1}) {
        StreamFramer framer;
        framer.append(whole.substr(0, cut));
        EXPECT_FALSE(framer.next()) << "cut at " << cut;
        framer.append(whole.substr(cut));
        auto got = framer.next();
        ASSERT_TRUE(got) << "cut at " << cut;
        EXPECT_EQ(*got, whole);
    }
}

TEST(StreamFramer, SkipsKeepAlivesBetweenMessages) {
    StreamFramer framer;
    framer.append("\r\n\r\n" + message("k", "") + "\r\n\r\n");
    EXPECT_EQ(framer.next(), message("k", ""));
    EXPECT_FALSE(framer.next());
}

TEST(StreamFramer, RejectsAMessageWithoutContentLength) {
    StreamFramer framer;
    framer.append("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 1.2.3.4;branch=z9hG4bK1\r\n\r\n");
    auto error = sipErrorOf([&] { framer.next(); });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::MissingHeader);
}

TEST(StreamFramer, RejectsAnUnusableContentLength) {
    StreamFramer framer;
    framer.append(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 1.2.3.4;branch=z9hG4bK1\r\n"
        "Content-Length: 99999999\r\n\r\n");
    auto error = sipErrorOf([&] { framer.next(); });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::BadHeaderValue);
}

TEST(StreamFramer, RejectsHeadersThatNeverEnd) {
    StreamFramer framer;
    framer.append("SIP/2.0 200 OK\r\n" + std::string(kMaxMessageSize, 'a'));
    auto error = sipErrorOf([&] { framer.next(); });
    ASSERT_TRUE(error) << "no error";
    EXPECT_EQ(error->code(), SipErrorCode::TooLarge);
}

}  // namespace
}  // namespace imsaka::reg
