// Digest AKA answers against the examples in shared/vectors/digest-aka-example.txt and
// values computed independently (Python hashlib/hmac) where no published vector exists.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "imsaka/milenage/milenage.h"
#include "imsaka/sip/digest.h"

namespace imsaka::sip {
namespace {

SecureBytes secret(std::string_view hex) {
    return secureCopy(*fromHex(hex));
}

// Example 1: Milenage, TS 35.208 test set 1.
struct ExampleOne {
    static constexpr std::string_view username =
        "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    static constexpr std::string_view realm = "ims.mnc001.mcc001.3gppnetwork.org";
    static constexpr std::string_view uri = "sip:ims.mnc001.mcc001.3gppnetwork.org";
    static constexpr std::string_view nonce = "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
};

// Example 2: conformance test equipment with the TS 34.108 8.1.2 XOR algorithm.
struct ExampleTwo {
    static constexpr std::string_view username =
        "466058041131504@ims.mnc005.mcc466.3gppnetwork.org";
    static constexpr std::string_view realm = "ims.mnc005.mcc466.3gppnetwork.org";
    static constexpr std::string_view uri = "sip:ims.mnc005.mcc466.3gppnetwork.org";
    static constexpr std::string_view nonce = "AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgc=";
};

// The card of example 2: the TS 34.108 8.1.2 XOR test algorithm with K = 00..0f, RAND,
// SQN and AMF all zero.
milenage::AuthVector exampleTwoVector() {
    milenage::XorTestAlgorithm algorithm(*fromHex("000102030405060708090a0b0c0d0e0f"));
    return milenage::generateVector(algorithm, Bytes(6, 0), Bytes(2, 0), ByteView(Bytes(16, 0)));
}

AkaSuccess successFrom(const milenage::AuthVector& vector) {
    return AkaSuccess{vector.xres, vector.ck, vector.ik};
}

template <typename Example>
DigestChallenge challengeFor(std::string_view algorithm, std::string_view qop) {
    std::string text = "Digest realm=\"" + std::string(Example::realm) + "\", nonce=\"" +
                       std::string(Example::nonce) + "\", algorithm=" + std::string(algorithm);
    if (!qop.empty()) text += ", qop=\"" + std::string(qop) + "\"";
    return parseWwwAuthenticate(text);
}

template <typename Example>
DigestRequest requestFor(std::string_view cnonce) {
    DigestRequest request;
    request.username = Example::username;
    request.uri = Example::uri;
    request.cnonce = cnonce;
    return request;
}

TEST(DigestAkaVectors, ExampleOneNonceCarriesTestSetOneRandAndAutn) {
    auto nonce = decodeAkaNonce(ExampleOne::nonce);
    EXPECT_EQ(toHex(nonce.rand), "23553cbe9637a89d218ae64dae47bf35");
    EXPECT_EQ(toHex(nonce.autn), "55f328b43577b9b94a9ffac354dfafb3");
    EXPECT_TRUE(nonce.serverData.empty());
    EXPECT_EQ(encodeAkaNonce(nonce), ExampleOne::nonce);
}

TEST(DigestAkaVectors, ExampleOneGivesThePublishedHa1AndResponse) {
    SecureBytes res = secret("a54211d5e3ba50bf");
    auto credentials = answerAkaChallenge(challengeFor<ExampleOne>("AKAv1-MD5", "auth"),
                                          requestFor<ExampleOne>("0a4f113b"),
                                          AkaSuccess{res, secret("00"), secret("00")});
    EXPECT_EQ(credentials.response, "402ab8df9f3a4d63a9f47c2f90e02938");
    EXPECT_EQ(credentials.qop, "auth");
    EXPECT_EQ(credentials.nc, "00000001");
    EXPECT_EQ(credentials.cnonce, "0a4f113b");
    EXPECT_EQ(credentials.algorithmText, "AKAv1-MD5");
    EXPECT_FALSE(credentials.auts);
    // HA1 = MD5(username:realm:RES), checked through the no-qop form: MD5(HA1:nonce:HA2).
    DigestInput input{.username = ExampleOne::username,
                      .realm = ExampleOne::realm,
                      .password = res,
                      .method = "REGISTER",
                      .uri = ExampleOne::uri,
                      .nonce = ExampleOne::nonce};
    auto md5 = [](std::string_view text) {
        unsigned char digest[16];
        unsigned int length = 0;
        EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
        return toHex(ByteView(digest, length));
    };
    std::string expected =
        md5("da00069eb0de6587da7e09ef503c29db:" + std::string(ExampleOne::nonce) + ":" +
            md5("REGISTER:" + std::string(ExampleOne::uri)));
    EXPECT_EQ(digestResponse(input), expected);
}

TEST(DigestAkaVectors, ExampleTwoXorAlgorithmResponseMatchesTheCapture) {
    auto vector = exampleTwoVector();
    auto nonce = decodeAkaNonce(ExampleTwo::nonce);
    EXPECT_EQ(Bytes(nonce.rand.begin(), nonce.rand.end()), vector.rand);
    EXPECT_EQ(Bytes(nonce.autn.begin(), nonce.autn.end()), vector.autn);
    auto credentials = answerAkaChallenge(challengeFor<ExampleTwo>("AKAv1-MD5", "auth"),
                                          requestFor<ExampleTwo>("YD05duxy"), successFrom(vector));
    EXPECT_EQ(credentials.response, "c76c2c281a21c0d6131e667d61a6bdf5");
}

TEST(DigestAkaVectors, Rfc2617ExampleResponse) {
    std::string_view password = "Circle Of Life";
    DigestInput input{
        .username = "Mufasa",
        .realm = "testrealm@host.com",
        .password = ByteView(reinterpret_cast<const uint8_t*>(password.data()), password.size()),
        .method = "GET",
        .uri = "/dir/index.html",
        .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        .qop = "auth",
        .nc = "00000001",
        .cnonce = "0a4f113b"};
    EXPECT_EQ(digestResponse(input), "6629fae49393a05397450978507c4ef1");
}

TEST(DigestAkaPassword, AkaV1UsesRawResBytesIncludingZeros) {
    SecureBytes res = secret("12003400");
    EXPECT_EQ(akaPassword(DigestAlgorithm::AkaV1Md5, {res, {}, {}}), res);
    auto challenge = challengeFor<ExampleTwo>("AKAv1-MD5", "");
    auto credentials =
        answerAkaChallenge(challenge, requestFor<ExampleTwo>(""), AkaSuccess{res, {}, {}});
    EXPECT_EQ(credentials.response, "25ec6cec0af6f600e7738923ebb2e4bb");
    EXPECT_FALSE(credentials.qop);
    EXPECT_FALSE(credentials.cnonce);
}

TEST(DigestAkaPassword, AkaV2IsBase64OfHmacMd5OverResIkCk) {
    AkaSuccess result = successFrom(exampleTwoVector());
    SecureBytes password = akaPassword(DigestAlgorithm::AkaV2Md5, result);
    EXPECT_EQ(std::string(password.begin(), password.end()), "DOVwUE0LMPBJcNEmx7XECw==");
    auto credentials = answerAkaChallenge(challengeFor<ExampleTwo>("AKAv2-MD5", "auth"),
                                          requestFor<ExampleTwo>("YD05duxy"), result);
    EXPECT_EQ(credentials.response, "5ba539e6a93dd3755e896dcef8209d19");
    EXPECT_EQ(credentials.algorithmText, "AKAv2-MD5");
}

TEST(DigestAkaAnswer, SyncFailureSendsAutsAndAResponseOverAnEmptyPassword) {
    Bytes auts = *fromHex("000102030405060708090a0b0c0d");
    auto credentials = answerAkaChallenge(challengeFor<ExampleTwo>("AKAv1-MD5", ""),
                                          requestFor<ExampleTwo>(""), AkaSyncFailure{auts});
    EXPECT_EQ(credentials.auts, "AAECAwQFBgcICQoLDA0=");
    EXPECT_EQ(credentials.response, "a9c268f3c5b281cf5cc6adf06b31335c");
    EXPECT_NE(formatAuthorization(credentials).find("auts=\"AAECAwQFBgcICQoLDA0=\""),
              std::string::npos);
}

TEST(DigestAkaAnswer, MacFailureSendsAnEmptyResponseAndNoAuts) {
    auto challenge = challengeFor<ExampleTwo>("AKAv1-MD5", "auth");
    challenge.opaque = "keep-me";
    auto credentials = answerAkaChallenge(challenge, requestFor<ExampleTwo>("c"), AkaMacFailure{});
    EXPECT_TRUE(credentials.response.empty());
    EXPECT_FALSE(credentials.auts);
    EXPECT_FALSE(credentials.qop);
    EXPECT_EQ(credentials.opaque, "keep-me");
    EXPECT_EQ(credentials.nonce, ExampleTwo::nonce);
    EXPECT_NE(formatAuthorization(credentials).find("response=\"\""), std::string::npos);
}

TEST(DigestAkaAnswer, AuthIntHashesTheBodyWhenPreferredOrTheOnlyChoice) {
    AkaSuccess result = successFrom(exampleTwoVector());
    auto request = requestFor<ExampleTwo>("YD05duxy");
    request.body = "<xml/>";
    request.nonceCount = 2;
    request.preferAuthInt = true;
    auto both =
        answerAkaChallenge(challengeFor<ExampleTwo>("AKAv1-MD5", "auth,auth-int"), request, result);
    EXPECT_EQ(both.qop, "auth-int");
    EXPECT_EQ(both.nc, "00000002");
    EXPECT_EQ(both.response, "ad2e82b131c8898348a9a5262f0f7abd");
    request.preferAuthInt = false;
    auto only =
        answerAkaChallenge(challengeFor<ExampleTwo>("AKAv1-MD5", "auth-int"), request, result);
    EXPECT_EQ(only.response, both.response);
    auto authPreferred =
        answerAkaChallenge(challengeFor<ExampleTwo>("AKAv1-MD5", "auth-int,auth"), request, result);
    EXPECT_EQ(authPreferred.qop, "auth");
}

TEST(DigestAkaAnswer, MakesACnonceWhenNoneIsGiven) {
    auto challenge = challengeFor<ExampleTwo>("AKAv1-MD5", "auth");
    auto first = answerAkaChallenge(challenge, requestFor<ExampleTwo>(""),
                                    AkaSuccess{secret("00112233"), {}, {}});
    auto second = answerAkaChallenge(challenge, requestFor<ExampleTwo>(""),
                                     AkaSuccess{secret("00112233"), {}, {}});
    ASSERT_TRUE(first.cnonce);
    EXPECT_EQ(first.cnonce->size(), 16u);
    EXPECT_NE(first.cnonce, second.cnonce);
    EXPECT_NE(first.response, second.response);
}

TEST(DigestAkaAnswer, RefusesMd5AndUnknownAlgorithmsForAka) {
    for (std::string_view algorithm : {"MD5", "SHA-256", "AKAv1-MD5-sess"}) {
        try {
            answerAkaChallenge(challengeFor<ExampleTwo>(algorithm, ""), requestFor<ExampleTwo>(""),
                               AkaMacFailure{});
            FAIL() << algorithm;
        } catch (const DigestError& error) {
            EXPECT_EQ(error.code(), DigestErrc::NotAka) << algorithm;
        }
    }
    auto noAlgorithm = parseWwwAuthenticate("Digest realm=\"r\", nonce=\"n\"");
    EXPECT_THROW(answerAkaChallenge(noAlgorithm, requestFor<ExampleTwo>(""), AkaMacFailure{}),
                 DigestError);
}

TEST(DigestAkaAnswer, RefusesBadCardResultsAndUnusableQop) {
    auto challenge = challengeFor<ExampleTwo>("AKAv1-MD5", "");
    auto codeOf = [&](const DigestChallenge& c, const DigestRequest& request,
                      const AkaResult& result) {
        try {
            answerAkaChallenge(c, request, result);
        } catch (const DigestError& error) {
            return error.code();
        }
        return DigestErrc::NotDigest;
    };
    auto request = requestFor<ExampleTwo>("");
    EXPECT_EQ(codeOf(challenge, request, AkaSuccess{secret("001122"), {}, {}}),
              DigestErrc::InvalidArgument);
    EXPECT_EQ(codeOf(challenge, request, AkaSyncFailure{Bytes(13, 0)}),
              DigestErrc::InvalidArgument);
    EXPECT_EQ(codeOf(challengeFor<ExampleTwo>("AKAv2-MD5", ""), request,
                     AkaSuccess{secret("00112233"), secret("00"), secret("00")}),
              DigestErrc::InvalidArgument);
    EXPECT_EQ(codeOf(challengeFor<ExampleTwo>("AKAv1-MD5", "auth-conf"), request,
                     AkaSuccess{secret("00112233"), {}, {}}),
              DigestErrc::NoUsableQop);
    request.username = "evil\r\nVia: x";
    EXPECT_EQ(codeOf(challenge, request, AkaMacFailure{}), DigestErrc::InvalidArgument);
}

TEST(DigestAkaNonce, NamesBadNoncesWithThePlace) {
    auto failure = [](std::string_view nonce) {
        try {
            decodeAkaNonce(nonce);
        } catch (const DigestError& error) {
            EXPECT_EQ(error.code(), DigestErrc::BadNonce) << nonce;
            return error.position();
        }
        ADD_FAILURE() << "accepted " << nonce;
        return size_t{0};
    };
    EXPECT_EQ(failure("AAAA*AAA"), 4u);
    EXPECT_EQ(failure("AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBg=="), 44u);  // 31 bytes
    EXPECT_EQ(failure(""), 0u);
    EXPECT_EQ(failure("AA=A"), 3u);
    EXPECT_EQ(failure("AAAAA"), 5u);
    // Missing padding is accepted; server data after AUTN is kept.
    auto withData = decodeAkaNonce("AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgf/7g");
    EXPECT_EQ(encodeAkaNonce(withData), "AAAAAAAAAAAAAAAAAAAAAAMEBQYHCAAAAAECAwQFBgf/7g==");
    EXPECT_EQ(toHex(withData.serverData), "ffee");
}

}  // namespace
}  // namespace imsaka::sip
