#include "imsaka/sip/digest.h"

#include <gtest/gtest.h>

namespace imsaka::sip {
namespace {

DigestErrc challengeError(std::string_view value, size_t* position = nullptr) {
    try {
        parseWwwAuthenticate(value);
    } catch (const DigestError& error) {
        if (position) *position = error.position();
        return error.code();
    }
    ADD_FAILURE() << "no error for: " << value;
    return DigestErrc::InvalidArgument;
}

TEST(DigestChallengeParse, ReadsAnAkaChallengeWithQopOpaqueAndUnknowns) {
    auto challenge = parseWwwAuthenticate(
        "Digest realm=\"ims.mnc001.mcc001.3gppnetwork.org\",\r\n "
        "nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=\", algorithm=AKAv1-MD5,"
        "qop=\"auth,auth-int\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", x-vendor=7");
    EXPECT_EQ(challenge.realm, "ims.mnc001.mcc001.3gppnetwork.org");
    EXPECT_EQ(challenge.nonce, "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");
    EXPECT_EQ(challenge.algorithm, DigestAlgorithm::AkaV1Md5);
    EXPECT_TRUE(challenge.isAka());
    EXPECT_EQ(challenge.qop, (std::vector<std::string>{"auth", "auth-int"}));
    EXPECT_EQ(challenge.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
    EXPECT_FALSE(challenge.stale);
    EXPECT_FALSE(challenge.ck);
    ASSERT_EQ(challenge.otherParameters.size(), 1u);
    EXPECT_EQ(challenge.otherParameters[0].name, "x-vendor");
    EXPECT_EQ(challenge.otherParameters[0].value, "7");
}

TEST(DigestChallengeParse, IgnoresCaseOfSchemeNamesAndAlgorithm) {
    auto challenge = parseWwwAuthenticate(
        "DIGEST REALM=\"r\", Nonce=\"n\", ALGORITHM=akav2-md5, Stale=TRUE, QOP=\"Auth\"");
    EXPECT_EQ(challenge.algorithm, DigestAlgorithm::AkaV2Md5);
    EXPECT_EQ(challenge.algorithmText, "akav2-md5");
    EXPECT_TRUE(challenge.stale);
    EXPECT_TRUE(challenge.offersQop("auth"));
}

TEST(DigestChallengeParse, RecognisesPlainMd5AndAbsentAlgorithmAsNotAka) {
    EXPECT_EQ(parseWwwAuthenticate("Digest realm=\"r\", nonce=\"n\", algorithm=MD5").algorithm,
              DigestAlgorithm::Md5);
    auto absent = parseWwwAuthenticate("Digest realm=\"r\", nonce=\"n\"");
    EXPECT_EQ(absent.algorithm, DigestAlgorithm::Md5);
    EXPECT_FALSE(absent.isAka());
    EXPECT_EQ(parseWwwAuthenticate("Digest realm=r, nonce=n, algorithm=SHA-256").algorithm,
              DigestAlgorithm::Other);
}

TEST(DigestChallengeParse, KeepsKeysAMisconfiguredNetworkLeftInOutOfOtherParameters) {
    // TS 24.228 example: the S-CSCF adds ik and ck for the P-CSCF.
    auto challenge = parseWwwAuthenticate(
        "Digest realm=\"registrar.home1.net\", nonce=\"A34Cm+Fva37UYWpGNB34JP\", "
        "algorithm=AKAv1-MD5, ik=\"00112233445566778899aabbccddeeff\", "
        "ck=\"ffeeddccbbaa11223344556677889900\"");
    ASSERT_TRUE(challenge.ik);
    ASSERT_TRUE(challenge.ck);
    EXPECT_EQ(toHex(*challenge.ik), "00112233445566778899aabbccddeeff");
    EXPECT_EQ(toHex(*challenge.ck), "ffeeddccbbaa11223344556677889900");
    EXPECT_TRUE(challenge.otherParameters.empty());
    // A malformed key is not ours to refuse: it is dropped.
    auto odd = parseWwwAuthenticate("Digest realm=r, nonce=n, ck=\"ffeeddccbaa1122\"");
    EXPECT_FALSE(odd.ck);
    EXPECT_TRUE(odd.otherParameters.empty());
}

TEST(DigestChallengeParse, NamesEachErrorAndWhereItIs) {
    struct Case {
        std::string_view value;
        DigestErrc code;
        size_t position;
    };
    const Case cases[] = {
        {"", DigestErrc::NotDigest, 0},
        {"Basic realm=\"r\"", DigestErrc::NotDigest, 0},
        {"Digestrealm=\"r\"", DigestErrc::NotDigest, 0},
        {"Digest realm=\"r\", =x", DigestErrc::ExpectedParameterName, 18},
        {"Digest realm", DigestErrc::ExpectedEquals, 12},
        {"Digest realm=", DigestErrc::ExpectedValue, 13},
        {"Digest realm=\"r", DigestErrc::UnterminatedQuote, 15},
        {"Digest realm=\"r\" nonce=\"n\"", DigestErrc::UnexpectedCharacter, 17},
        {"Digest realm=\"r\", REALM=\"s\", nonce=\"n\"", DigestErrc::DuplicateParameter, 18},
        {"Digest nonce=\"n\"", DigestErrc::MissingParameter, 16},
        {"Digest realm=\"r\"", DigestErrc::MissingParameter, 16},
        {"Digest realm=r, nonce=n, stale=maybe", DigestErrc::BadValue, 31},
        {"Digest realm=r, nonce=n, qop=\"auth,,x\"", DigestErrc::BadValue, 29},
        {"Digest realm=r, nonce=n\r\nVia: x", DigestErrc::UnexpectedCharacter, 23},
    };
    for (const auto& c : cases) {
        size_t position = 9999;
        EXPECT_EQ(challengeError(c.value, &position), c.code) << c.value;
        EXPECT_EQ(position, c.position) << c.value;
    }
}

TEST(DigestChallengeSelect, TakesTheAkaChallengeAmongSeveral) {
    std::string_view values[] = {"Basic realm=\"r\"", "Digest realm=\"r\", nonce=\"md5\"",
                                 "Digest realm=\"r\", nonce=\"aka\", algorithm=AKAv2-MD5"};
    auto challenge = selectAkaChallenge(values);
    EXPECT_EQ(challenge.nonce, "aka");
    EXPECT_EQ(challenge.algorithm, DigestAlgorithm::AkaV2Md5);
}

TEST(DigestChallengeSelect, SaysWhatEachValueWasWhenNoneIsAka) {
    std::string_view values[] = {"Basic realm=\"r\"", "Digest realm=\"r\", nonce=\"n\"",
                                 "Digest realm=r, nonce=n, algorithm=SHA-256"};
    try {
        selectAkaChallenge(values);
        FAIL() << "chose a challenge";
    } catch (const DigestError& error) {
        EXPECT_EQ(error.code(), DigestErrc::NotAka);
        EXPECT_FALSE(error.hasPosition());
        EXPECT_EQ(error.message(),
                  "no AKA challenge among 3 WWW-Authenticate values: [1] the scheme is not Digest "
                  "(at offset 0); [2] algorithm MD5 (none given); [3] algorithm SHA-256");
    }
    EXPECT_THROW(selectAkaChallenge({}), DigestError);
}

TEST(DigestChallengeFormat, RoundTrips) {
    auto challenge = parseWwwAuthenticate(
        "Digest realm=\"a \\\"quoted\\\" realm\", nonce=\"bm9uY2U=\", algorithm=AKAv2-MD5, "
        "qop=\"auth-int,auth\", opaque=\"o\", domain=\"sip:x\", stale=true, "
        "ik=\"00112233445566778899aabbccddeeff\", x=\"y\", z=w");
    auto again = parseWwwAuthenticate(formatWwwAuthenticate(challenge));
    EXPECT_EQ(again.realm, "a \"quoted\" realm");
    EXPECT_EQ(again.nonce, challenge.nonce);
    EXPECT_EQ(again.algorithm, DigestAlgorithm::AkaV2Md5);
    EXPECT_EQ(again.qop, challenge.qop);
    EXPECT_EQ(again.opaque, "o");
    EXPECT_EQ(again.domain, "sip:x");
    EXPECT_TRUE(again.stale);
    ASSERT_TRUE(again.ik);
    EXPECT_EQ(*again.ik, *challenge.ik);
    ASSERT_EQ(again.otherParameters.size(), 2u);
    EXPECT_TRUE(again.otherParameters[0].quoted);
    EXPECT_FALSE(again.otherParameters[1].quoted);
}

TEST(DigestCredentialsParse, ReadsTheSpecExampleAndKeepsIntegrityProtected) {
    auto credentials = parseAuthorization(
        "Digest username=\"user1_private@home1.net\",\r\n realm=\"registrar.home1.net\", "
        "nonce=\"A34Cm+Fva37UYWpGNB34JP\", algorithm=AKAv1-MD5, "
        "uri=\"sip:registrar.home1.net\", response=\"6629fae49393a05397450978507c4ef1\", "
        "integrity-protected=\"yes\"");
    EXPECT_EQ(credentials.username, "user1_private@home1.net");
    EXPECT_EQ(credentials.uri, "sip:registrar.home1.net");
    EXPECT_EQ(credentials.response, "6629fae49393a05397450978507c4ef1");
    EXPECT_EQ(credentials.algorithmText, "AKAv1-MD5");
    EXPECT_FALSE(credentials.qop);
    ASSERT_EQ(credentials.otherParameters.size(), 1u);
    EXPECT_EQ(credentials.otherParameters[0].name, "integrity-protected");
}

TEST(DigestCredentialsParse, ReadsTheInitialRegisterWithEmptyNonceAndResponse) {
    auto credentials = parseAuthorization(
        "Digest username=\"user1_private@home1.net\", realm=\"registrar.home1.net\", "
        "nonce=\"\", uri=\"sip:registrar.home1.net\", response=\"\"");
    EXPECT_TRUE(credentials.nonce.empty());
    EXPECT_TRUE(credentials.response.empty());
}

TEST(DigestCredentialsParse, NamesEachErrorAndWhereItIs) {
    const std::string base = "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:r\"";
    const std::string withResponse = base + ", response=\"\"";
    struct Case {
        std::string value;
        DigestErrc code;
        size_t position;
    };
    const Case cases[] = {
        {base, DigestErrc::MissingParameter, base.size()},  // no response
        {withResponse + ", qop=auth", DigestErrc::MissingParameter, withResponse.size() + 10},
        {withResponse + ", qop=auth, nc=1, cnonce=\"c\"", DigestErrc::BadValue,
         withResponse.size() + 15},
        {withResponse + ", qop=auth, nc=0000x001, cnonce=\"c\"", DigestErrc::BadValue,
         withResponse.size() + 15},
        {withResponse + ", qop=\"a b\", nc=00000001, cnonce=\"c\"", DigestErrc::BadValue,
         withResponse.size() + 6},
        {withResponse + ", Response=\"\"", DigestErrc::DuplicateParameter, withResponse.size() + 2},
        {withResponse + ", auts=\"AAECAwQFBgcICQoLDA==\"", DigestErrc::BadValue,
         withResponse.size() + 7},  // 13 bytes
        {withResponse + ", auts=\"AAECAwQFBgcICQoLDA0*\"", DigestErrc::BadValue,
         withResponse.size() + 7},
        {"Digest username=\"u\r\n\"", DigestErrc::UnterminatedQuote, 18},
    };
    for (const auto& c : cases) {
        try {
            parseAuthorization(c.value);
            ADD_FAILURE() << "accepted " << c.value;
        } catch (const DigestError& error) {
            EXPECT_EQ(error.code(), c.code) << c.value;
            EXPECT_EQ(error.position(), c.position) << c.value;
        }
    }
}

TEST(DigestCredentialsFormat, RoundTripsEveryField) {
    DigestCredentials credentials;
    credentials.username = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    credentials.realm = "ims.mnc001.mcc001.3gppnetwork.org";
    credentials.nonce = "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
    credentials.uri = "sip:ims.mnc001.mcc001.3gppnetwork.org";
    credentials.response = "402ab8df9f3a4d63a9f47c2f90e02938";
    credentials.algorithmText = "AKAv1-MD5";
    credentials.qop = "auth";
    credentials.nc = "00000001";
    credentials.cnonce = "0a4f113b";
    credentials.opaque = "op";
    credentials.auts = "AAECAwQFBgcICQoLDA0=";
    credentials.otherParameters.push_back({"integrity-protected", "no", true});
    std::string text = formatAuthorization(credentials);
    EXPECT_EQ(text,
              "Digest username=\"001010000000001@ims.mnc001.mcc001.3gppnetwork.org\", "
              "realm=\"ims.mnc001.mcc001.3gppnetwork.org\", "
              "nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=\", "
              "uri=\"sip:ims.mnc001.mcc001.3gppnetwork.org\", algorithm=AKAv1-MD5, "
              "response=\"402ab8df9f3a4d63a9f47c2f90e02938\", qop=auth, nc=00000001, "
              "cnonce=\"0a4f113b\", opaque=\"op\", auts=\"AAECAwQFBgcICQoLDA0=\", "
              "integrity-protected=\"no\"");
    auto again = parseAuthorization(text);
    EXPECT_EQ(again.username, credentials.username);
    EXPECT_EQ(again.realm, credentials.realm);
    EXPECT_EQ(again.nonce, credentials.nonce);
    EXPECT_EQ(again.uri, credentials.uri);
    EXPECT_EQ(again.response, credentials.response);
    EXPECT_EQ(again.algorithmText, credentials.algorithmText);
    EXPECT_EQ(again.qop, credentials.qop);
    EXPECT_EQ(again.nc, credentials.nc);
    EXPECT_EQ(again.cnonce, credentials.cnonce);
    EXPECT_EQ(again.opaque, credentials.opaque);
    EXPECT_EQ(again.auts, credentials.auts);
    ASSERT_EQ(again.otherParameters.size(), 1u);
}

TEST(DigestCredentialsFormat, RefusesFieldsThatWouldBreakTheHeader) {
    DigestCredentials credentials;
    credentials.username = "user\r\nVia: evil";
    EXPECT_THROW(formatAuthorization(credentials), DigestError);
    credentials.username = "user";
    credentials.qop = "auth int";
    EXPECT_THROW(formatAuthorization(credentials), DigestError);
}

}  // namespace
}  // namespace imsaka::sip
