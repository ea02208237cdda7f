#include <gtest/gtest.h>
#include <imsaka/milenage/milenage.h>

#include "test_sets.h"

namespace imsaka::milenage {
namespace {

class NetworkSide : public ::testing::Test {
  protected:
    // TS 35.208 test set 1 keys, read from the vector file.
    NetworkSide() {
        auto sets = test::readTestSets(IMSAKA_MILENAGE_VECTORS);
        milenage = std::make_unique<Milenage>(sets.at(0).at("K"), sets.at(0).at("OPc"));
    }
    std::unique_ptr<Milenage> milenage;
    Bytes amf{0x80, 0x00};
};

TEST_F(NetworkSide, VectorWithoutRandDrawsAFreshRandEachTime) {
    Bytes sqn = sqnFromInt(0x20);
    AuthVector first = generateVector(*milenage, sqn, amf);
    AuthVector second = generateVector(*milenage, sqn, amf);
    EXPECT_EQ(first.rand.size(), kRandLength);
    EXPECT_NE(first.rand, second.rand);
    EXPECT_EQ(first.autn.size(), kAutnLength);
    EXPECT_EQ(first.xres.size(), 8u);
}

TEST_F(NetworkSide, AutnCarriesConcealedSqnAmfAndMac) {
    Bytes sqn = sqnFromInt(0x123456789a);
    AuthVector vector = generateVector(*milenage, sqn, amf);
    Bytes concealed(vector.autn.begin(), vector.autn.begin() + 6);
    for (size_t i = 0; i < 6; ++i) concealed[i] ^= vector.ak[i];
    EXPECT_EQ(concealed, sqn);
    EXPECT_EQ(Bytes(vector.autn.begin() + 6, vector.autn.begin() + 8), amf);
    SecureBytes mac = milenage->f1(vector.rand, sqn, amf);
    EXPECT_EQ(Bytes(vector.autn.begin() + 8, vector.autn.end()), Bytes(mac.begin(), mac.end()));
}

TEST_F(NetworkSide, AutsRoundTripGivesSqnMsAndValidMac) {
    AuthVector vector = generateVector(*milenage, sqnFromInt(0x40), amf);
    Bytes sqnMs = sqnFromInt(0x0000deadbe01);
    Bytes auts = buildAuts(*milenage, vector.rand, sqnMs);
    ASSERT_EQ(auts.size(), kAutsLength);
    AutsResult result = decodeAuts(*milenage, vector.rand, auts);
    EXPECT_EQ(result.sqnMs, sqnMs);
    EXPECT_TRUE(result.macValid);
}

TEST_F(NetworkSide, AutsWithAFlippedBitHasInvalidMac) {
    Bytes rand(16, 0x5a);
    Bytes auts = buildAuts(*milenage, rand, sqnFromInt(7));
    for (size_t byte : {size_t{0}, size_t{13}}) {
        Bytes damaged = auts;
        damaged[byte] ^= 0x01;
        EXPECT_FALSE(decodeAuts(*milenage, rand, damaged).macValid) << "byte " << byte;
    }
    EXPECT_FALSE(decodeAuts(*milenage, Bytes(16, 0x5b), auts).macValid);
}

TEST_F(NetworkSide, RejectsBadLengths) {
    EXPECT_THROW(generateVector(*milenage, Bytes(5), amf), MilenageError);
    EXPECT_THROW(generateVector(*milenage, Bytes(6), Bytes(1)), MilenageError);
    EXPECT_THROW(generateVector(*milenage, Bytes(6), amf, ByteView(Bytes(15))), MilenageError);
    EXPECT_THROW(decodeAuts(*milenage, Bytes(16), Bytes(13)), MilenageError);
    EXPECT_THROW(decodeAuts(*milenage, Bytes(8), Bytes(14)), MilenageError);
}

TEST(Sqn, ConvertsBetweenBytesAndIntegers) {
    EXPECT_EQ(sqnToInt(Bytes{0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07}), 0xff9bb4d0b607u);
    EXPECT_EQ(sqnFromInt(0xff9bb4d0b607u), (Bytes{0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07}));
    EXPECT_THROW(sqnToInt(Bytes(7)), MilenageError);
}

}  // namespace
}  // namespace imsaka::milenage
