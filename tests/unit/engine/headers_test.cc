// The engine's small header parsers: delta-seconds, Retry-After and name-addr lists.
#include "imsaka/daemon/headers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace imsaka::daemon {
namespace {

HeaderErrc errorOf(const std::function<void()>& parse, size_t* position = nullptr) {
    try {
        parse();
    } catch (const HeaderError& error) {
        if (position) *position = error.position();
        return error.code();
    }
    ADD_FAILURE() << "expected a HeaderError";
    return HeaderErrc::Empty;
}

TEST(DeltaSeconds, ReadsDigitsBetweenWhiteSpace) {
    EXPECT_EQ(parseDeltaSeconds(" 3600 "), 3600u);
    EXPECT_EQ(parseDeltaSeconds("0"), 0u);
}

TEST(DeltaSeconds, CapsHugeValuesAt32Bits) {
    EXPECT_EQ(parseDeltaSeconds("99999999999999999999"), 4294967295u);
}

TEST(DeltaSeconds, RejectsAnythingButDigits) {
    EXPECT_EQ(errorOf([] { parseDeltaSeconds(""); }), HeaderErrc::Empty);
    EXPECT_EQ(errorOf([] { parseDeltaSeconds("-1"); }), HeaderErrc::ExpectedNumber);
    size_t position = 0;
    EXPECT_EQ(errorOf([] { parseDeltaSeconds("12 s"); }, &position),
              HeaderErrc::UnexpectedCharacter);
    EXPECT_EQ(position, 3u);
}

TEST(RetryAfter, AcceptsACommentAndParameters) {
    EXPECT_EQ(parseRetryAfter("18000;duration=3600"), 18000u);
    EXPECT_EQ(parseRetryAfter("120 (I'm in a (nested) meeting) ;duration=60"), 120u);
}

TEST(RetryAfter, RejectsAnUnclosedCommentOrStrayText) {
    EXPECT_EQ(errorOf([] { parseRetryAfter("120 (open"); }), HeaderErrc::UnterminatedQuote);
    EXPECT_EQ(errorOf([] { parseRetryAfter("120 x"); }), HeaderErrc::UnexpectedCharacter);
    EXPECT_EQ(errorOf([] { parseRetryAfter("120;"); }), HeaderErrc::ExpectedParameterName);
}

TEST(NameAddrList, ReadsContactsWithQuotedParameters) {
    auto list = parseNameAddrList(
        "<sip:10.0.0.2:6101>;expires=3600;+sip.instance=\"<urn:gsma:imei:1>\";"
        "pub-gruu=\"sip:a@b;gr=urn:x\" , \"Bob \\\"B\\\"\" <sip:bob@[2001:db8::1]:5060;lr>;flag");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].uri, "sip:10.0.0.2:6101");
    EXPECT_EQ(list[0].parameter("EXPIRES"), std::optional<std::string>("3600"));
    EXPECT_EQ(list[0].parameter("+sip.instance"), std::optional<std::string>("<urn:gsma:imei:1>"));
    EXPECT_EQ(list[0].parameter("pub-gruu"), std::optional<std::string>("sip:a@b;gr=urn:x"));
    EXPECT_FALSE(list[0].parameter("temp-gruu"));
    EXPECT_EQ(list[1].displayName, "Bob \"B\"");
    EXPECT_EQ(list[1].uri, "sip:bob@[2001:db8::1]:5060;lr");
    ASSERT_TRUE(list[1].parameter("flag"));
    EXPECT_FALSE(*list[1].parameter("flag"));
}

TEST(NameAddrList, ReadsTokenDisplayNamesAndBareAddrSpecs) {
    auto list = parseNameAddrList("Service Route <sip:orig@scscf.home1.net;lr>, sip:x@y;expires=5");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].displayName, "Service Route");
    EXPECT_EQ(list[0].uri, "sip:orig@scscf.home1.net;lr");
    EXPECT_EQ(list[1].uri, "sip:x@y");
    EXPECT_EQ(list[1].parameter("expires"), std::optional<std::string>("5"));
}

TEST(NameAddrList, NamesWhatIsWrongAndWhere) {
    size_t position = 0;
    EXPECT_EQ(errorOf([] { parseNameAddrList("<sip:a@b"); }, &position),
              HeaderErrc::UnterminatedUri);
    EXPECT_EQ(position, 0u);
    EXPECT_EQ(errorOf([] { parseNameAddrList("<sip:a@b>;x=\"open"); }),
              HeaderErrc::UnterminatedQuote);
    EXPECT_EQ(errorOf([] { parseNameAddrList("<sip:a@b>,"); }), HeaderErrc::ExpectedUri);
    EXPECT_EQ(errorOf([] { parseNameAddrList("<>"); }), HeaderErrc::ExpectedUri);
    EXPECT_EQ(errorOf([] { parseNameAddrList("<sip:a@b>;=1"); }),
              HeaderErrc::ExpectedParameterName);
    EXPECT_EQ(errorOf([] { parseNameAddrList("<sip:a@b> junk"); }),
              HeaderErrc::UnexpectedCharacter);
    EXPECT_EQ(errorOf([] { parseNameAddrList("   "); }), HeaderErrc::Empty);
}

TEST(SipUriHostPort, KeepsOnlyHostAndPortInLowerCase) {
    EXPECT_EQ(sipUriHostPort("sip:user@Host.Example:5061;transport=udp"), "host.example:5061");
    EXPECT_EQ(sipUriHostPort("SIPS:[2001:DB8::1]:6101"), "[2001:db8::1]:6101");
    EXPECT_EQ(sipUriHostPort("tel:+123"), "");
}

TEST(SipUriHostPort, WritesAnIpv6ReferenceInItsOneCanonicalForm) {
    EXPECT_EQ(sipUriHostPort("sip:[2001:0DB8:0000:0000:0000:0000:0000:0001]:6101"),
              "[2001:db8::1]:6101");
    EXPECT_EQ(sipUriHostPort("sip:u@[2001:db8:0:0::1];lr"), "[2001:db8::1]");
    EXPECT_EQ(sipUriHostPort("sip:[not-an-address]:1"), "[not-an-address]:1");
}

}  // namespace
}  // namespace imsaka::daemon
