#include "imsaka/ipsec/keys.h"

#include <gtest/gtest.h>

#include "imsaka/ipsec/error.h"

namespace imsaka::ipsec {
namespace {

const Bytes kIk = *fromHex("000102030405060708090a0b0c0d0e0f");
const Bytes kCk = *fromHex("f0e0d0c0b0a090807060504030201000");

std::string hexOf(const SecureBytes& key) {
    return toHex(ByteView(key.data(), key.size()));
}

TEST(IntegrityKey, HmacMd5TakesIkAsIs) {
    EXPECT_EQ(hexOf(integrityKey(Integrity::HmacMd5_96, kIk)), "000102030405060708090a0b0c0d0e0f");
}

TEST(IntegrityKey, HmacSha1AppendsThirtyTwoZeroBits) {
    EXPECT_EQ(hexOf(integrityKey(Integrity::HmacSha1_96, kIk)),
              "000102030405060708090a0b0c0d0e0f00000000");
}

TEST(EncryptionKey, AesCbcTakesCkAsIs) {
    EXPECT_EQ(hexOf(encryptionKey(Encryption::AesCbc, kCk)), "f0e0d0c0b0a090807060504030201000");
}

TEST(EncryptionKey, DesEde3CbcIsCk1Ck2Ck1) {
    EXPECT_EQ(hexOf(encryptionKey(Encryption::DesEde3Cbc, kCk)),
              "f0e0d0c0b0a09080"
              "7060504030201000"
              "f0e0d0c0b0a09080");
}

TEST(EncryptionKey, NullHasNoKey) {
    EXPECT_TRUE(encryptionKey(Encryption::Null, kCk).empty());
}

TEST(Keys, AllSixPairsGiveTheKeyLengthsTheKernelExpects) {
    for (auto integrity : {Integrity::HmacMd5_96, Integrity::HmacSha1_96}) {
        for (auto encryption : {Encryption::Null, Encryption::AesCbc, Encryption::DesEde3Cbc}) {
            SCOPED_TRACE(std::string(secAgreeName(integrity)) + "/" +
                         std::string(secAgreeName(encryption)));
            EXPECT_EQ(integrityKey(integrity, kIk).size(),
                      integrity == Integrity::HmacMd5_96 ? 16u : 20u);
            size_t expected = encryption == Encryption::Null     ? 0
                              : encryption == Encryption::AesCbc ? 16
                                                                 : 24;
            EXPECT_EQ(encryptionKey(encryption, kCk).size(), expected);
        }
    }
}

TEST(Keys, RejectsKeysThatAreNotSixteenBytes) {
    Bytes shortKey(15, 1);
    try {
        integrityKey(Integrity::HmacMd5_96, shortKey);
        FAIL() << "a 15-byte IK was accepted";
    } catch (const XfrmError& error) {
        EXPECT_EQ(error.code(), XfrmErrorCode::InvalidArgument);
        EXPECT_NE(std::string(error.what()).find("IK"), std::string::npos);
    }
    EXPECT_THROW(encryptionKey(Encryption::Null, Bytes(17, 1)), XfrmError);
}

TEST(SecAgreeNames, RoundTripAndMapToKernelNames) {
    EXPECT_EQ(integrityFromSecAgree("hmac-md5-96"), Integrity::HmacMd5_96);
    EXPECT_EQ(integrityFromSecAgree("hmac-sha-1-96"), Integrity::HmacSha1_96);
    EXPECT_FALSE(integrityFromSecAgree("hmac-sha-256"));
    EXPECT_EQ(encryptionFromSecAgree(""), Encryption::Null);
    EXPECT_EQ(encryptionFromSecAgree("null"), Encryption::Null);
    EXPECT_EQ(encryptionFromSecAgree("aes-cbc"), Encryption::AesCbc);
    EXPECT_EQ(encryptionFromSecAgree("des-ede3-cbc"), Encryption::DesEde3Cbc);
    EXPECT_FALSE(encryptionFromSecAgree("aes-gcm"));
    EXPECT_EQ(kernelName(Integrity::HmacSha1_96), "hmac(sha1)");
    EXPECT_EQ(kernelName(Encryption::DesEde3Cbc), "cbc(des3_ede)");
    EXPECT_EQ(kernelName(Encryption::Null), "ecb(cipher_null)");
}

}  // namespace
}  // namespace imsaka::ipsec
