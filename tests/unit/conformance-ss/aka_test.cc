// The SS's own Milenage against TS 35.208 test sets 1 to 3, its AUTN and AUTS, and the
// Digest AKAv1 response of shared/vectors/digest-aka-example.txt.
#include "aka.h"

#include <gtest/gtest.h>

namespace imsaka::conformance {
namespace {

Block block(const char* hex) {
    auto bytes = fromHex(hex);
    Block out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

template <size_t N>
std::string hex(const std::array<uint8_t, N>& bytes) {
    return toHex(bytes);
}

struct TestSet {
    const char *k, *rand, *sqn, *amf, *opc, *macA, *macS, *res, *ck, *ik, *ak, *akStar;
};

// TS 35.208 4.3.1 and 4.3.3.
const TestSet kSets[] = {
    {"465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35", "ff9bb4d0b607", "b9b9",
     "cd63cb71954a9f4e48a5994e37a02baf", "4a9ffac354dfafb3", "01cfaf9ec4e871e9", "a54211d5e3ba50bf",
     "b40ba9a3c58b2a05bbf0d987b21bf8cb", "f769bcd751044604127672711c6d3441", "aa689c648370",
     "451e8beca43b"},
    {"fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a", "9d0277595ffc", "725c",
     "1006020f0a478bf6b699f15c062e42b3", "9cabc3e99baf7281", "95814ba2b3044324", "8011c48c0c214ed2",
     "5dbdbb2954e8f3cde665b046179a5098", "59a92d3b476a0443487055cf88b2307b", "33484dc2136b",
     "deacdd848cc6"},
};

TEST(SsMilenage, MatchesTs35208) {
    for (const auto& set : kSets) {
        Milenage milenage(block(set.k), block(set.opc));
        auto sqnBytes = fromHex(set.sqn);
        auto amfBytes = fromHex(set.amf);
        Sqn sqn{};
        Amf amf{};
        std::copy(sqnBytes->begin(), sqnBytes->end(), sqn.begin());
        std::copy(amfBytes->begin(), amfBytes->end(), amf.begin());
        auto out = milenage.compute(block(set.rand), sqn, amf);
        EXPECT_EQ(hex(out.macA), set.macA);
        EXPECT_EQ(hex(out.macS), set.macS);
        EXPECT_EQ(hex(out.res), set.res);
        EXPECT_EQ(hex(out.ck), set.ck);
        EXPECT_EQ(hex(out.ik), set.ik);
        EXPECT_EQ(hex(out.ak), set.ak);
        EXPECT_EQ(hex(out.akStar), set.akStar);
    }
}

TEST(SsAka, VectorCarriesSqnMacAndNonce) {
    HomeNetwork home("465b5ce8b199b49faa5f0a2ee238a6bc", "cd63cb71954a9f4e48a5994e37a02baf");
    Vector v = home.vector(64);
    EXPECT_EQ(v.sqn, 64u);
    EXPECT_EQ(v.xres.size(), 8u);
    auto nonce = fromBase64(v.nonce);
    ASSERT_TRUE(nonce);
    ASSERT_EQ(nonce->size(), 32u);
    EXPECT_TRUE(std::equal(v.rand.begin(), v.rand.end(), nonce->begin()));
    EXPECT_TRUE(std::equal(v.autn.begin(), v.autn.end(), nonce->begin() + 16));
    EXPECT_EQ(v.autn[6], 0x80);  // AMF 8000
    Vector wrong = home.vector(64, ChallengeKind::WrongMac);
    Milenage milenage(block("465b5ce8b199b49faa5f0a2ee238a6bc"),
                      block("cd63cb71954a9f4e48a5994e37a02baf"));
    auto expected = milenage.compute(wrong.rand, sqnFromNumber(64), Amf{0x80, 0x00});
    EXPECT_FALSE(std::equal(expected.macA.begin(), expected.macA.end(), wrong.autn.begin() + 8));
}

TEST(SsAka, ReadsSqnMsFromAValidAutsOnly) {
    const char* k = "465b5ce8b199b49faa5f0a2ee238a6bc";
    const char* opc = "cd63cb71954a9f4e48a5994e37a02baf";
    HomeNetwork home(k, opc);
    Vector challenge = home.vector(0);
    // What a card with SQN_MS = 96 answers: (SQN_MS xor AK*) || MAC-S (AMF 0000).
    Milenage milenage(block(k), block(opc));
    auto f = milenage.compute(challenge.rand, sqnFromNumber(96), Amf{});
    Bytes auts(14);
    auto sqnMs = sqnFromNumber(96);
    for (size_t i = 0; i < 6; ++i) auts[i] = static_cast<uint8_t>(sqnMs[i] ^ f.akStar[i]);
    std::copy(f.macS.begin(), f.macS.end(), auts.begin() + 6);
    EXPECT_EQ(home.sqnFromAuts(challenge, base64(auts)), 96u);
    auts[13] ^= 1;
    EXPECT_FALSE(home.sqnFromAuts(challenge, base64(auts)));
    EXPECT_FALSE(home.sqnFromAuts(challenge, "not base64"));
}

TEST(SsDigest, MatchesTheRfc3310ExampleOfTheVectors) {
    auto res = fromHex("a54211d5e3ba50bf");
    EXPECT_EQ(
        digestResponse("001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
                       "ims.mnc001.mcc001.3gppnetwork.org", *res,
                       "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=", "REGISTER",
                       "sip:ims.mnc001.mcc001.3gppnetwork.org", "auth", "00000001", "0a4f113b"),
        "402ab8df9f3a4d63a9f47c2f90e02938");
}

}  // namespace
}  // namespace imsaka::conformance
