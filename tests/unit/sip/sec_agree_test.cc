#include "imsaka/sip/sec_agree.h"

#include <gtest/gtest.h>

namespace imsaka::sip {
namespace {

// Security-Server from the IMS AKA example flow (TS 24.228 / IMS Forum paper).
constexpr std::string_view kSpecServer =
    "ipsec-3gpp; q=0.1; alg=hmac-sha-1-96; spi-c=98765432; spi-s=87654321; port-c=8642; "
    "port-s=7531";
// What a Kamailio 5.6 P-CSCF writes (format string of ims_ipsec_pcscf): no spaces, no q.
constexpr std::string_view kKamailioServer =
    "ipsec-3gpp;prot=esp;mod=trans;spi-c=4097;spi-s=4098;port-c=5100;port-s=6100;"
    "alg=hmac-sha-1-96;ealg=aes-cbc";

SecAgreeErrc codeOf(std::string_view value, size_t* position = nullptr) {
    try {
        parseSecurityHeader(value);
    } catch (const SecAgreeError& error) {
        if (position) *position = error.position();
        return error.code();
    }
    ADD_FAILURE() << "no error for: " << value;
    return SecAgreeErrc::InvalidArgument;
}

TEST(SecAgreeParse, ReadsTheSpecExampleMechanism) {
    auto mechanisms = parseSecurityHeader(kSpecServer);
    ASSERT_EQ(mechanisms.size(), 1u);
    const auto& mechanism = mechanisms[0];
    EXPECT_TRUE(mechanism.isIpsec3gpp());
    EXPECT_EQ(mechanism.preference(), 100);
    auto ipsec = ipsecParameters(mechanism);
    EXPECT_EQ(ipsec.alg, IntegrityAlgorithm::HmacSha1_96);
    EXPECT_EQ(ipsec.ealg, EncryptionAlgorithm::Null);  // absent ealg means null
    EXPECT_EQ(ipsec.spiC, 98765432u);
    EXPECT_EQ(ipsec.spiS, 87654321u);
    EXPECT_EQ(ipsec.portC, 8642);
    EXPECT_EQ(ipsec.portS, 7531);
    EXPECT_EQ(mechanism.text, kSpecServer);
}

TEST(SecAgreeParse, ReadsKamailioSecurityServerWithoutSpacesOrQ) {
    auto mechanisms = parseSecurityHeader(kKamailioServer);
    ASSERT_EQ(mechanisms.size(), 1u);
    EXPECT_FALSE(mechanisms[0].preference());
    auto ipsec = ipsecParameters(mechanisms[0]);
    EXPECT_EQ(ipsec.alg, IntegrityAlgorithm::HmacSha1_96);
    EXPECT_EQ(ipsec.ealg, EncryptionAlgorithm::AesCbc);
    EXPECT_EQ(ipsec.spiC, 4097u);
    EXPECT_EQ(ipsec.portS, 6100);
}

TEST(SecAgreeParse, ReadsSeveralMechanismsWithFoldedLinesAndMixedCase) {
    auto mechanisms = parseSecurityHeader(
        "IPSEC-3GPP ; Q=0.5 ; ALG=HMAC-MD5-96 ; SPI-C=1 ; Spi-S=2 ; port-c=3 ; port-s=4 ,\r\n"
        "\tipsec-3gpp;q=1;alg=hmac-sha-1-96;ealg=des-ede3-cbc;spi-c=4294967295;spi-s=0;"
        "port-c=65535;port-s=1, tls ;q=0.2");
    ASSERT_EQ(mechanisms.size(), 3u);
    EXPECT_EQ(mechanisms[0].preference(), 500);
    EXPECT_EQ(ipsecParameters(mechanisms[0]).alg, IntegrityAlgorithm::HmacMd5_96);
    EXPECT_EQ(mechanisms[1].preference(), 1000);
    auto second = ipsecParameters(mechanisms[1]);
    EXPECT_EQ(second.spiC, 4294967295u);
    EXPECT_EQ(second.ealg, EncryptionAlgorithm::DesEde3Cbc);
    EXPECT_EQ(mechanisms[2].name, "tls");
    EXPECT_EQ(mechanisms[2].text, "tls ;q=0.2");
}

TEST(SecAgreeParse, KeepsUnknownParametersAndFlagsAndQuotedValues) {
    auto mechanisms = parseSecurityHeader(
        "digest;d-alg=md5;d-ver=\"0000000000000000000000000000abcd\";"
        "x-flag;x-host=[2001:db8::1]");
    ASSERT_EQ(mechanisms[0].parameters.size(), 4u);
    EXPECT_EQ(mechanisms[0].value("D-VER"), "0000000000000000000000000000abcd");
    EXPECT_TRUE(mechanisms[0].parameters[1].quoted);
    ASSERT_NE(mechanisms[0].find("x-flag"), nullptr);
    EXPECT_FALSE(mechanisms[0].find("x-flag")->value);
    EXPECT_EQ(mechanisms[0].value("x-host"), "[2001:db8::1]");
}

TEST(SecAgreeParse, ReadsTheRfc3329ExampleHeaders) {
    // RFC 3329 section 3: the client offers digest and tls in two header instances, the
    // server answers with ipsec-ike and tls with q.
    std::string_view client[] = {"digest", "tls"};
    auto offered = parseSecurityHeaders(client);
    ASSERT_EQ(offered.size(), 2u);
    EXPECT_EQ(offered[0].name, "digest");
    EXPECT_TRUE(offered[0].parameters.empty());
    std::string_view server[] = {"ipsec-ike;q=0.1", "tls;q=0.2"};
    auto answered = parseSecurityHeaders(server);
    ASSERT_EQ(answered.size(), 2u);
    EXPECT_EQ(answered[0].preference(), 100);
    EXPECT_EQ(answered[1].preference(), 200);
    EXPECT_EQ(formatSecurityHeader(answered), "ipsec-ike;q=0.1, tls;q=0.2");
}

TEST(SecAgreeParse, JoinsSeveralHeaderInstancesInOrder) {
    std::string_view values[] = {"ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4",
                                 "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=5;spi-s=6;port-c=7;port-s=8"};
    auto mechanisms = parseSecurityHeaders(values);
    ASSERT_EQ(mechanisms.size(), 2u);
    EXPECT_EQ(ipsecParameters(mechanisms[1]).spiC, 5u);
}

TEST(SecAgreeParse, CountsPositionsOfLaterInstancesFromTheFirst) {
    std::string_view values[] = {"tls", "ipsec-3gpp;q=2"};
    try {
        parseSecurityHeaders(values);
        FAIL() << "accepted q=2";
    } catch (const SecAgreeError& error) {
        EXPECT_EQ(error.code(), SecAgreeErrc::BadValue);
        EXPECT_EQ(error.position(), 3u + 2u + 13u);  // "tls" ", " "ipsec-3gpp;q="
    }
}

TEST(SecAgreeParse, NamesEachSyntaxErrorAndWhereItIs) {
    struct Case {
        std::string_view value;
        SecAgreeErrc code;
        size_t position;
    };
    const Case cases[] = {
        {"", SecAgreeErrc::Empty, 0},
        {"   \r\n ", SecAgreeErrc::Empty, 0},
        {";alg=x", SecAgreeErrc::ExpectedMechanismName, 0},
        {"ipsec-3gpp;", SecAgreeErrc::ExpectedParameterName, 11},
        {"ipsec-3gpp;alg=", SecAgreeErrc::ExpectedValue, 15},
        {"ipsec-3gpp;alg=\"x", SecAgreeErrc::UnterminatedQuote, 17},
        {"ipsec-3gpp;x=\"a\rb\"", SecAgreeErrc::UnterminatedQuote, 15},
        {"ipsec-3gpp alg", SecAgreeErrc::UnexpectedCharacter, 11},
        {"ipsec-3gpp;alg=a b", SecAgreeErrc::UnexpectedCharacter, 17},
        {"ipsec-3gpp,", SecAgreeErrc::ExpectedMechanismName, 11},
        {"ipsec-3gpp;q=1.5", SecAgreeErrc::BadValue, 13},
        {"ipsec-3gpp;q=0.1234", SecAgreeErrc::BadValue, 13},
        {"ipsec-3gpp;spi-c=4294967296", SecAgreeErrc::BadValue, 17},
        {"ipsec-3gpp;spi-s=-1", SecAgreeErrc::BadValue, 17},
        {"ipsec-3gpp;port-c=65536", SecAgreeErrc::BadValue, 18},
        {"ipsec-3gpp;port-s=0", SecAgreeErrc::BadValue, 18},
        {"ipsec-3gpp;alg=a;ALG=b", SecAgreeErrc::DuplicateParameter, 17},
        {"ipsec-3gpp;x=[2001:db8::1", SecAgreeErrc::ExpectedValue, 13},
        {"ipsec-3gpp;alg=x\r\nVia: y", SecAgreeErrc::UnexpectedCharacter, 16},
    };
    for (const auto& c : cases) {
        size_t position = 9999;
        EXPECT_EQ(codeOf(c.value, &position), c.code) << c.value;
        EXPECT_EQ(position, c.position) << c.value;
    }
}

TEST(SecAgreeFormat, RoundTripsParsedHeaders) {
    for (std::string_view value :
         {kSpecServer, kKamailioServer,
          std::string_view("ipsec-3gpp;q=0.5;alg=hmac-md5-96;ealg=null;spi-c=1;spi-s=2;"
                           "port-c=3;port-s=4, digest;d-ver=\"a\\\"b\";x-flag;x-h=[::1]")}) {
        auto parsed = parseSecurityHeader(value);
        auto again = parseSecurityHeader(formatSecurityHeader(parsed));
        ASSERT_EQ(again.size(), parsed.size());
        for (size_t i = 0; i < parsed.size(); ++i) {
            EXPECT_EQ(again[i].name, parsed[i].name);
            ASSERT_EQ(again[i].parameters.size(), parsed[i].parameters.size());
            for (size_t j = 0; j < parsed[i].parameters.size(); ++j) {
                EXPECT_EQ(again[i].parameters[j].name, parsed[i].parameters[j].name);
                EXPECT_EQ(again[i].parameters[j].value, parsed[i].parameters[j].value);
                EXPECT_EQ(again[i].parameters[j].quoted, parsed[i].parameters[j].quoted);
            }
        }
    }
    EXPECT_EQ(formatSecurityHeader(parseSecurityHeader(kKamailioServer)), kKamailioServer);
}

TEST(SecAgreeFormat, RefusesValuesThatWouldBreakTheHeader) {
    SecurityMechanism mechanism{"ipsec-3gpp", {{"x", "a\r\nVia: evil", true}}, {}};
    EXPECT_THROW(formatSecurityHeader(std::span(&mechanism, 1)), SecAgreeError);
    SecurityMechanism badName{"ipsec 3gpp", {}, {}};
    EXPECT_THROW(formatSecurityHeader(std::span(&badName, 1)), SecAgreeError);
}

TEST(SecAgreeClient, OffersEveryPairWithOurSpisPortsAndAnExplicitEalg) {
    SecurityCapabilities capabilities;
    capabilities.spiC = 1111;
    capabilities.spiS = 2222;
    capabilities.portC = 5062;
    capabilities.portS = 5064;
    auto client = buildSecurityClient(capabilities);
    ASSERT_EQ(client.size(), 6u);
    for (const auto& mechanism : client) {
        EXPECT_TRUE(mechanism.find("ealg"));  // Kamailio needs ealg even when null
        EXPECT_FALSE(mechanism.find("q"));
        auto ipsec = ipsecParameters(mechanism);
        EXPECT_EQ(ipsec.spiC, 1111u);
        EXPECT_EQ(ipsec.spiS, 2222u);
        EXPECT_EQ(ipsec.portC, 5062);
        EXPECT_EQ(ipsec.portS, 5064);
    }
    EXPECT_EQ(formatSecurityHeader(std::span(client).first(1)),
              "ipsec-3gpp;alg=hmac-md5-96;ealg=null;spi-c=1111;spi-s=2222;port-c=5062;"
              "port-s=5064;prot=esp;mod=trans");
    // A Kamailio 5.6 P-CSCF takes the last one: make it the strongest.
    auto last = ipsecParameters(client.back());
    EXPECT_EQ(last.alg, IntegrityAlgorithm::HmacSha1_96);
    EXPECT_EQ(last.ealg, EncryptionAlgorithm::AesCbc);
    // What we send parses back to what we built.
    EXPECT_EQ(parseSecurityHeader(formatSecurityHeader(client)).size(), 6u);
}

TEST(SecAgreeClient, RefusesAnEmptyOfferOrPortZero) {
    SecurityCapabilities capabilities;
    capabilities.portC = 1;
    capabilities.portS = 0;
    EXPECT_THROW(buildSecurityClient(capabilities), SecAgreeError);
    capabilities.portS = 2;
    capabilities.integrity.clear();
    EXPECT_THROW(buildSecurityClient(capabilities), SecAgreeError);
}

TEST(SecAgreeIpsec, NamesWhatIsMissingOrUnsupported) {
    auto codeFor = [](std::string_view value) {
        try {
            ipsecParameters(parseSecurityHeader(value)[0]);
        } catch (const SecAgreeError& error) {
            return error.code();
        }
        return SecAgreeErrc::Empty;
    };
    EXPECT_EQ(codeFor("ipsec-3gpp;spi-c=1;spi-s=2;port-c=3;port-s=4"),
              SecAgreeErrc::MissingParameter);
    EXPECT_EQ(codeFor("ipsec-3gpp;alg=hmac-md5-96;spi-c=1;port-c=3;port-s=4"),
              SecAgreeErrc::MissingParameter);
    EXPECT_EQ(codeFor("ipsec-3gpp;alg=hmac-sha-256;spi-c=1;spi-s=2;port-c=3;port-s=4"),
              SecAgreeErrc::BadValue);
    EXPECT_EQ(codeFor("ipsec-3gpp;alg=hmac-md5-96;prot=ah;spi-c=1;spi-s=2;port-c=3;port-s=4"),
              SecAgreeErrc::BadValue);
    EXPECT_EQ(codeFor("ipsec-3gpp;alg=hmac-md5-96;mod=tun;spi-c=1;spi-s=2;port-c=3;port-s=4"),
              SecAgreeErrc::BadValue);
    EXPECT_EQ(codeFor("tls;alg=hmac-md5-96"), SecAgreeErrc::BadValue);
}

}  // namespace
}  // namespace imsaka::sip
