// The Annex A checks themselves: a REGISTER as 34.229-1 A.1.1 A1 wants it passes, and each
// row that is broken is reported with its requirement.
#include "checks.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace imsaka::conformance {
namespace {

const UeIdentity kIdentity{"001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
                           "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
                           "ims.mnc001.mcc001.3gppnetwork.org", "10.46.0.1"};

std::string initialRegister(const std::string& replace = {}, const std::string& with = {}) {
    std::string text =
        "REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.46.0.1:5060;rport;branch=z9hG4bK77\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=a1\r\n"
        "To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>\r\n"
        "Call-ID: c1\r\n"
        "CSeq: 1 REGISTER\r\n"
        "Contact: "
        "<sip:10.46.0.1:40001>;+sip.instance=\"<urn:uuid:00000000-0000-4000-8000-00000000cafe>\";"
        "expires=600000\r\n"
        "Expires: 600000\r\n"
        "Authorization: Digest username=\"001010000000001@ims.mnc001.mcc001.3gppnetwork.org\", "
        "realm=\"ims.mnc001.mcc001.3gppnetwork.org\", "
        "uri=\"sip:ims.mnc001.mcc001.3gppnetwork.org\", "
        "nonce=\"\", response=\"\"\r\n"
        "Security-Client: "
        "ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=4096;spi-s=4097;port-c=40000;port-s=40001\r\n"
        "Require: sec-agree\r\n"
        "Proxy-Require: sec-agree\r\n"
        "Supported: path, gruu\r\n"
        "Content-Length: 0\r\n\r\n";
    if (!replace.empty()) text.replace(text.find(replace), replace.size(), with);
    return text;
}

Verdict check(const std::string& text) {
    Inbound inbound{SipMessage::parse(text), Transport::Udp, {}, {}, -1, {}, text.size(), 0};
    RegisterExpectation expected;
    expected.identity = kIdentity;
    return checkRegister(inbound, expected);
}

bool mentions(const Verdict& verdict, const std::string& words) {
    return std::any_of(
        verdict.failures().begin(), verdict.failures().end(),
        [&](const std::string& failure) { return failure.find(words) != std::string::npos; });
}

TEST(AnnexAChecks, AConformantInitialRegisterPasses) {
    auto verdict = check(initialRegister());
    EXPECT_TRUE(verdict.ok()) << verdict.report();
}

TEST(AnnexAChecks, EachBrokenRowIsNamed) {
    EXPECT_TRUE(mentions(check(initialRegister(";rport", "")), "rport"));
    EXPECT_TRUE(
        mentions(check(initialRegister("Require: sec-agree\r\n", "")), "Require sec-agree"));
    EXPECT_TRUE(mentions(check(initialRegister("path, gruu", "gruu")), "Supported path"));
    EXPECT_TRUE(mentions(check(initialRegister("nonce=\"\"", "nonce=\"x\"")), "nonce empty"));
    EXPECT_TRUE(mentions(check(initialRegister("z9hG4bK77", "77")), "branch"));
    EXPECT_TRUE(mentions(check(initialRegister("Expires: 600000", "Expires: 3600")), "agree"));
    EXPECT_TRUE(mentions(
        check(initialRegister("sip:ims.mnc001.mcc001.3gppnetwork.org SIP", "sip:other SIP")),
        "Request-URI"));
    EXPECT_TRUE(
        mentions(check(initialRegister("alg=hmac-sha-1-96", "alg=hmac-md5-96")), "hmac-sha-1-96"));
    EXPECT_TRUE(mentions(
        check(initialRegister("\r\nRequire", "\r\nSecurity-Verify: ipsec-3gpp;alg=x\r\nRequire")),
        "Security-Verify not present"));
}

TEST(AnnexAChecks, MechanismsCompareAsWritten) {
    EXPECT_EQ(normalisedMechanisms("ipsec-3gpp; q=0.9; alg=hmac-md5-96, ipsec-3gpp;alg=x"),
              normalisedMechanisms("ipsec-3gpp;q=0.9;alg=hmac-md5-96,ipsec-3gpp; alg=x"));
    EXPECT_NE(normalisedMechanisms("ipsec-3gpp;alg=a"), normalisedMechanisms("ipsec-3gpp;alg=b"));
}

}  // namespace
}  // namespace imsaka::conformance
