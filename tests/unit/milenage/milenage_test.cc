#include <gtest/gtest.h>
#include <imsaka/milenage/milenage.h>

#include "test_sets.h"

namespace imsaka::milenage {
namespace {

Bytes plain(const SecureBytes& bytes) {
    return Bytes(bytes.begin(), bytes.end());
}

class Ts35208 : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        sets = new std::vector<test::TestSet>(test::readTestSets(IMSAKA_MILENAGE_VECTORS));
    }
    static void TearDownTestSuite() { delete sets; }
    static std::vector<test::TestSet>* sets;
};
std::vector<test::TestSet>* Ts35208::sets = nullptr;

TEST_F(Ts35208, FileHoldsSixSets) {
    ASSERT_EQ(sets->size(), 6u);
}

TEST_F(Ts35208, OpcFromOpMatchesEverySet) {
    for (const auto& set : *sets) {
        SCOPED_TRACE(set.name);
        EXPECT_EQ(plain(computeOpc(set.at("K"), set.at("OP"))), set.at("OPc"));
    }
}

TEST_F(Ts35208, FunctionsMatchEverySet) {
    for (const auto& set : *sets) {
        SCOPED_TRACE(set.name);
        Milenage milenage(set.at("K"), set.at("OPc"));
        const Bytes& rand = set.at("RAND");
        EXPECT_EQ(plain(milenage.f1(rand, set.at("SQN"), set.at("AMF"))), set.at("f1(MAC-A)"));
        EXPECT_EQ(plain(milenage.f1star(rand, set.at("SQN"), set.at("AMF"))), set.at("f1*(MAC-S)"));
        ResponseKeys keys = milenage.f2345(rand);
        EXPECT_EQ(plain(keys.res), set.at("f2(RES)"));
        EXPECT_EQ(plain(keys.ck), set.at("f3(CK)"));
        EXPECT_EQ(plain(keys.ik), set.at("f4(IK)"));
        EXPECT_EQ(plain(keys.ak), set.at("f5(AK)"));
        EXPECT_EQ(plain(milenage.f5star(rand)), set.at("f5*(AK*)"));
    }
}

TEST_F(Ts35208, GeneratedVectorMatchesEverySet) {
    for (const auto& set : *sets) {
        SCOPED_TRACE(set.name);
        Milenage milenage(set.at("K"), set.at("OPc"));
        AuthVector vector =
            generateVector(milenage, set.at("SQN"), set.at("AMF"), ByteView(set.at("RAND")));
        EXPECT_EQ(vector.rand, set.at("RAND"));
        EXPECT_EQ(vector.autn, set.at("AUTN(derived)"));
        EXPECT_EQ(plain(vector.xres), set.at("f2(RES)"));
        EXPECT_EQ(plain(vector.ck), set.at("f3(CK)"));
        EXPECT_EQ(plain(vector.ik), set.at("f4(IK)"));
        EXPECT_EQ(plain(vector.ak), set.at("f5(AK)"));
    }
}

TEST(Milenage, RejectsKeysOfTheWrongLength) {
    Bytes shortKey(15), key(16);
    EXPECT_THROW(Milenage(shortKey, key), MilenageError);
    EXPECT_THROW(Milenage(key, shortKey), MilenageError);
    EXPECT_THROW(computeOpc(key, shortKey), MilenageError);
}

TEST(Milenage, RejectsInputsOfTheWrongLength) {
    Bytes key(16);
    Milenage milenage(key, key);
    Bytes rand(16), sqn(6), amf(2);
    try {
        milenage.f1(Bytes(15), sqn, amf);
        FAIL() << "short RAND accepted";
    } catch (const MilenageError& error) {
        EXPECT_EQ(error.code(), MilenageError::Code::BadLength);
        EXPECT_NE(std::string(error.what()).find("RAND"), std::string::npos);
    }
    EXPECT_THROW(milenage.f1(rand, Bytes(5), amf), MilenageError);
    EXPECT_THROW(milenage.f1star(rand, sqn, Bytes(3)), MilenageError);
    EXPECT_THROW(milenage.f2345(Bytes(17)), MilenageError);
    EXPECT_THROW(milenage.f5star(Bytes{}), MilenageError);
}

}  // namespace
}  // namespace imsaka::milenage
