// The ATR and the T=0 / T=1 rules for returning data.
#include "card_fixture.h"

namespace imsaka::vicc::test {
namespace {

class Framing : public CardTest {};

TEST_F(Framing, T1AtrOffersOnlyT1AndHasAValidCheckByte) {
    insert({{"protocol", "t1"}});
    Bytes atr = card->atr();
    ASSERT_GE(atr.size(), 4u);
    EXPECT_EQ(atr[0], 0x3B);
    EXPECT_EQ(atr[1] & 0xF0, 0x80);  // only TD1 follows
    EXPECT_EQ(atr[2], 0x01);         // TD1: T=1, nothing more
    EXPECT_EQ(atr.size(), 3u + (atr[1] & 0x0F) + 1u);
    uint8_t check = 0;
    for (size_t i = 1; i < atr.size(); ++i) check ^= atr[i];
    EXPECT_EQ(check, 0);
    EXPECT_EQ(card->powerOn(), atr);
    EXPECT_EQ(card->reset(), atr);
}

TEST_F(Framing, T0AtrHasNoInterfaceBytesAndNoCheckByte) {
    insert({{"protocol", "t0"}});
    Bytes atr = card->atr();
    ASSERT_GE(atr.size(), 2u);
    EXPECT_EQ(atr[0], 0x3B);
    EXPECT_EQ(atr[1] & 0xF0, 0x00);
    EXPECT_EQ(atr.size(), 2u + (atr[1] & 0x0F));
}

TEST_F(Framing, T1ReturnsSelectDataDirectly) {
    insert({{"protocol", "t1"}});
    std::string response = tx("00a40004022f00");
    EXPECT_EQ(sw(response), "9000");
    EXPECT_EQ(response.substr(0, 2), "62");
    EXPECT_EQ(tx("00c0000012"), "6985");  // nothing waits for GET RESPONSE
}

TEST_F(Framing, T0SelectAnswers61xxAndGetResponseDeliversTheFcp) {
    insert({{"protocol", "t0"}});
    EXPECT_EQ(tx("00a40004022f00"), "6114");
    EXPECT_EQ(tx("00c0000014"),
              "621282054221002002"
              "83022f00"
              "8a0105"
              "80020040"
              "9000");
    EXPECT_EQ(tx("00c0000014"), "6985");  // delivered once
}

TEST_F(Framing, T0GetResponseInPiecesAndWithTooLargeLe) {
    insert({{"protocol", "t0"}});
    ASSERT_EQ(tx("00a40004022f00"), "6114");
    EXPECT_EQ(tx("00c0000020"), "6c14");
    EXPECT_EQ(tx("00c0000004"), "621282056110");
    EXPECT_EQ(tx("00c0000010"),
              "4221002002"
              "83022f00"
              "8a0105"
              "80020040"
              "9000");
}

TEST_F(Framing, T0GetResponseMustFollowOnTheSameChannel) {
    insert({{"protocol", "t0"}});
    ASSERT_EQ(tx("00a40004022f00"), "6114");
    EXPECT_EQ(tx("00a4000c022f00"), "9000");  // another command drops the waiting data
    EXPECT_EQ(tx("00c0000014"), "6985");
    ASSERT_EQ(tx("00a40004022f00"), "6114");
    EXPECT_EQ(tx("0070000001"), "019000");  // MANAGE CHANNEL is case 2: data comes directly
    EXPECT_EQ(tx("00c0000014"), "6985");
    ASSERT_EQ(tx("01a40004022f00"), "6114");
    EXPECT_EQ(tx("00c0000014"), "6985");
    EXPECT_EQ(sw(tx("01c0000014")), "9000");
}

TEST_F(Framing, T0ReadRecordWithWrongLeAnswers6CxxThenSucceedsWithTheRightOne) {
    insert({{"protocol", "t0"}});
    tx("00a4000c022f00");
    EXPECT_EQ(tx("00b2010400"), "6c20");
    EXPECT_EQ(tx("00b2010410"), "6c20");
    EXPECT_EQ(sw(tx("00b2010420")), "9000");
    tx("00a4000c022fe2");
    EXPECT_EQ(tx("00b0000000"), "6c0a");
    EXPECT_EQ(data(tx("00b000000a")), "980001010000000000f1");
}

TEST_F(Framing, T1ReadRecordWithLe00ReturnsTheRecordAndWrongLeAnswers6Cxx) {
    insert({{"protocol", "t1"}});
    tx("00a4000c022f00");
    EXPECT_EQ(data(tx("00b2010400")).size(), 64u);
    EXPECT_EQ(tx("00b2010410"), "6c20");
    EXPECT_EQ(tx("00b2010430"), "6c20");
}

TEST_F(Framing, T0AuthenticateAnswers61xxAndGetResponseGivesTheResult) {
    insert({{"protocol", "t0"}});
    tx("00a4040c10" + kIsimAid);
    EXPECT_EQ(tx(authApdu(vectorFor(0x20))), "612c");
    std::string result = tx("00c000002c");
    EXPECT_EQ(sw(result), "9000");
    EXPECT_EQ(result.substr(0, 4), "db08");
}

}  // namespace
}  // namespace imsaka::vicc::test
