#include "imsaka/common/bytes.h"

#include <gtest/gtest.h>

namespace imsaka {

TEST(Hex, RoundTripsEveryByteValue) {
    Bytes all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
    auto text = toHex(all);
    EXPECT_EQ(text.substr(0, 8), "00010203");
    EXPECT_EQ(fromHex(text), all);
}

TEST(Hex, AcceptsUpperCaseAndSeparatorsBetweenBytes) {
    EXPECT_EQ(fromHex("DE:ad be"), (Bytes{0xde, 0xad, 0xbe}));
}

TEST(Hex, RejectsOddLengthForeignCharactersAndSplitBytes) {
    EXPECT_FALSE(fromHex("abc"));
    EXPECT_FALSE(fromHex("zz"));
    EXPECT_FALSE(fromHex("a b"));
}

TEST(SecureBytes, CopiesHoldTheSameBytes) {
    Bytes plain{1, 2, 3};
    SecureBytes secret = secureCopy(plain);
    EXPECT_TRUE(std::equal(secret.begin(), secret.end(), plain.begin(), plain.end()));
}

}  // namespace imsaka
