#include <gtest/gtest.h>

#include "imsaka/sip/sec_agree.h"

namespace imsaka::sip {
namespace {

std::vector<SecurityMechanism> ourOffer() {
    SecurityCapabilities capabilities;
    capabilities.spiC = 1000;
    capabilities.spiS = 1001;
    capabilities.portC = 5062;
    capabilities.portS = 5064;
    return buildSecurityClient(capabilities);
}

std::vector<SecurityMechanism> singlePairOffer(IntegrityAlgorithm alg, EncryptionAlgorithm ealg) {
    SecurityCapabilities capabilities;
    capabilities.integrity = {alg};
    capabilities.encryption = {ealg};
    capabilities.portC = 1;
    capabilities.portS = 2;
    return buildSecurityClient(capabilities);
}

std::string server(std::string_view alg, std::string_view ealg, std::string_view q, uint32_t spi) {
    std::string text = "ipsec-3gpp;alg=" + std::string(alg);
    if (!ealg.empty()) text += ";ealg=" + std::string(ealg);
    if (!q.empty()) text += ";q=" + std::string(q);
    text += ";spi-c=" + std::to_string(spi) + ";spi-s=" + std::to_string(spi + 1) +
            ";port-c=7000;port-s=7001";
    return text;
}

TEST(SecAgreeSelect, PicksTheHighestQAmongPairsWeOffered) {
    auto offered = ourOffer();
    auto servers = parseSecurityHeader(server("hmac-md5-96", "null", "0.1", 10) + ", " +
                                       server("hmac-sha-1-96", "aes-cbc", "0.9", 20) + ", " +
                                       server("hmac-sha-256", "aes-cbc", "1", 30) + ", " +
                                       server("hmac-sha-1-96", "null", "0.5", 40));
    auto chosen = selectMechanism(offered, servers);
    EXPECT_EQ(chosen.index, 1u);  // q=1 is an algorithm we do not have
    EXPECT_EQ(chosen.server.alg, IntegrityAlgorithm::HmacSha1_96);
    EXPECT_EQ(chosen.server.ealg, EncryptionAlgorithm::AesCbc);
    EXPECT_EQ(chosen.server.spiC, 20u);
    EXPECT_EQ(chosen.server.spiS, 21u);
}

TEST(SecAgreeSelect, TiesGoToTheFirstListedAndAbsentQRanksLast) {
    auto offered = ourOffer();
    auto tie = parseSecurityHeader(server("hmac-md5-96", "null", "0.5", 10) + ", " +
                                   server("hmac-sha-1-96", "null", "0.500", 20));
    EXPECT_EQ(selectMechanism(offered, tie).index, 0u);
    auto absent = parseSecurityHeader(server("hmac-sha-1-96", "aes-cbc", "", 10) + ", " +
                                      server("hmac-md5-96", "null", "0", 20));
    EXPECT_EQ(selectMechanism(offered, absent).index, 1u);
}

TEST(SecAgreeSelect, TakesKamailiosSingleMechanismWithoutQ) {
    auto offered = ourOffer();
    auto servers = parseSecurityHeader(
        "ipsec-3gpp;prot=esp;mod=trans;spi-c=4097;spi-s=4098;port-c=5100;port-s=6100;"
        "alg=hmac-md5-96;ealg=des-ede3-cbc");
    auto chosen = selectMechanism(offered, servers);
    EXPECT_EQ(chosen.index, 0u);
    EXPECT_EQ(chosen.server.ealg, EncryptionAlgorithm::DesEde3Cbc);
    EXPECT_EQ(chosen.server.portC, 5100);
}

TEST(SecAgreeSelect, MatchesOnlyPairsWeOfferedNotEachAlgorithmAlone) {
    auto offered = singlePairOffer(IntegrityAlgorithm::HmacSha1_96, EncryptionAlgorithm::Null);
    auto servers = parseSecurityHeader(server("hmac-sha-1-96", "aes-cbc", "0.9", 10));
    EXPECT_THROW(selectMechanism(offered, servers), NoAcceptableMechanismError);
}

TEST(SecAgreeSelect, SaysWhyEachServerMechanismDoesNotFit) {
    auto offered = singlePairOffer(IntegrityAlgorithm::HmacMd5_96, EncryptionAlgorithm::Null);
    auto servers = parseSecurityHeader("tls;q=0.9, " + server("hmac-sha-1-96", "null", "0.5", 10) +
                                       ", " + server("hmac-md5-96", "aes-gcm", "0.4", 20) +
                                       ", ipsec-3gpp;alg=hmac-md5-96;spi-c=1;port-c=2;port-s=3, " +
                                       server("hmac-md5-96", "null", "0.3", 30) + ";prot=ah");
    try {
        selectMechanism(offered, servers);
        FAIL() << "a mechanism was chosen";
    } catch (const NoAcceptableMechanismError& error) {
        EXPECT_EQ(error.code(), SecAgreeErrc::NoAcceptableMechanism);
        const auto& rejections = error.rejections();
        ASSERT_EQ(rejections.size(), 5u);
        EXPECT_EQ(rejections[0].reason, "mechanism tls is not ipsec-3gpp");
        EXPECT_EQ(rejections[1].reason,
                  "alg=hmac-sha-1-96 with ealg=null is not a pair we offered");
        EXPECT_EQ(rejections[2].reason, "ealg=aes-gcm is not supported");
        EXPECT_EQ(rejections[3].reason, "spi-s is missing");
        EXPECT_EQ(rejections[4].reason, "prot=ah is not supported (only esp)");
        EXPECT_NE(std::string(error.what()).find("[2] alg=hmac-sha-1-96"), std::string::npos);
        EXPECT_FALSE(error.hasPosition());
        EXPECT_EQ(std::string(error.what()), error.message());
    }
}

TEST(SecAgreeSelect, ExplainsAnEmptyServerListOrAnEmptyOffer) {
    auto servers = parseSecurityHeader(server("hmac-md5-96", "null", "", 1));
    try {
        selectMechanism({}, servers);
        FAIL();
    } catch (const NoAcceptableMechanismError& error) {
        EXPECT_EQ(error.message(), "our Security-Client offered no ipsec-3gpp mechanism");
    }
    auto offered = ourOffer();
    try {
        selectMechanism(offered, {});
        FAIL();
    } catch (const NoAcceptableMechanismError& error) {
        EXPECT_EQ(error.message(), "Security-Server lists no mechanism");
    }
}

TEST(SecAgreeVerify, MirrorsTheServerValueExactly) {
    std::string_view kamailio =
        "ipsec-3gpp;prot=esp;mod=trans;spi-c=4097;spi-s=4098;port-c=5100;port-s=6100;"
        "alg=hmac-sha-1-96;ealg=aes-cbc";
    EXPECT_EQ(securityVerifyValue(std::span(&kamailio, 1)), kamailio);
    std::string_view spaced[] = {
        "  ipsec-3gpp; q=0.1; alg=hmac-sha-1-96; spi-c=98765432; spi-s=87654321;\r\n"
        "   port-c=8642; port-s=7531 ",
        "ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4"};
    EXPECT_EQ(securityVerifyValue(spaced),
              "ipsec-3gpp; q=0.1; alg=hmac-sha-1-96; spi-c=98765432; spi-s=87654321; "
              "port-c=8642; port-s=7531, ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;"
              "port-s=4");
}

TEST(SecAgreeVerify, MirrorsAParsedListAsReceived) {
    std::string_view value =
        "ipsec-3gpp; q=0.1; alg=hmac-sha-1-96; spi-c=98765432;\r\n spi-s=87654321; "
        "port-c=8642; port-s=7531, ipsec-3gpp;alg=hmac-md5-96;spi-c=1;spi-s=2;port-c=3;port-s=4";
    auto parsed = parseSecurityHeader(value);
    EXPECT_EQ(securityVerifyValue(parsed), securityVerifyValue(std::span(&value, 1)));
    auto built = ourOffer();
    EXPECT_EQ(securityVerifyValue(std::span(built).first(1)),
              formatSecurityHeader(std::span(built).first(1)));
    EXPECT_THROW(securityVerifyValue(std::span<const SecurityMechanism>()), SecAgreeError);
}

TEST(SecAgreeVerify, RefusesToEchoASecurityServerThatDoesNotParse) {
    std::string_view broken = "ipsec-3gpp;alg=x\r\nVia: SIP/2.0/UDP evil";
    EXPECT_THROW(securityVerifyValue(std::span(&broken, 1)), SecAgreeError);
}

}  // namespace
}  // namespace imsaka::sip
