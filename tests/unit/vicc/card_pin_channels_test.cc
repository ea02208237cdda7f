// The PIN (VERIFY and what it guards, UNBLOCK PIN with the PUK, the universal PIN) and
// logical channels (MANAGE CHANNEL).
#include "card_fixture.h"

namespace imsaka::vicc::test {
namespace {

const std::string kVerify1234 = "002000010831323334ffffffff";
const std::string kVerify9999 = "002000010839393939ffffffff";

class Pin : public CardTest {};

TEST_F(Pin, DisabledPinNeedsNoVerification) {
    insert();
    EXPECT_EQ(tx("00200001"), "9000");
    EXPECT_NE(tx("00a4040410" + kIsimAid).find("c606900100830101"), std::string::npos);
    EXPECT_EQ(tx("00a4000c026f02"), "9000");
    EXPECT_EQ(sw(tx("00b0000000")), "9000");
}

TEST_F(Pin, EnabledPinGuardsApplicationFilesAndAuthenticateUntilVerified) {
    insert({{"pin.enabled", "yes"}});
    EXPECT_EQ(tx("00200001"), "63c3");
    EXPECT_NE(tx("00a4040410" + kIsimAid).find("c606900180830101"), std::string::npos);
    EXPECT_EQ(tx("00a4000c026f02"), "9000");
    EXPECT_EQ(tx("00b0000000"), "6982");
    EXPECT_EQ(tx("00a4000c026f04"), "9000");
    EXPECT_EQ(tx("00b2010400"), "6982");
    EXPECT_EQ(tx(authApdu(vectorFor(0x20))), "6982");
    EXPECT_EQ(tx("00a4000c022f00"), "9000");
    EXPECT_EQ(sw(tx("00b2010400")), "9000");  // EF_DIR stays readable

    EXPECT_EQ(tx(kVerify1234), "9000");
    EXPECT_EQ(tx("00200001"), "9000");
    EXPECT_EQ(tx("00a4000c026f02"), "9000");
    EXPECT_EQ(sw(tx("00b0000000")), "9000");
    EXPECT_EQ(tx(authApdu(vectorFor(0x20))).substr(0, 4), "db08");
}

TEST_F(Pin, VerificationIsLostAtResetAndPowerOff) {
    insert({{"pin.enabled", "yes"}});
    ASSERT_EQ(tx(kVerify1234), "9000");
    card->reset();
    EXPECT_EQ(tx("00200001"), "63c3");
    ASSERT_EQ(tx(kVerify1234), "9000");
    card->powerOff();
    card->powerOn();
    EXPECT_EQ(tx("00200001"), "63c3");
}

TEST_F(Pin, WrongPinCountsDownAndBlocksAcrossPowerCycles) {
    insert({{"pin.enabled", "yes"}});
    EXPECT_EQ(tx(kVerify9999), "63c2");
    EXPECT_EQ(tx(kVerify9999), "63c1");
    card->powerOff();
    card->powerOn();
    EXPECT_EQ(tx("00200001"), "63c1");
    EXPECT_EQ(tx(kVerify9999), "6983");
    EXPECT_EQ(card->pinRetriesLeft(), 0);
    EXPECT_EQ(tx(kVerify1234), "6983");
    EXPECT_EQ(tx("00200001"), "6983");
}

TEST_F(Pin, CorrectPinRestoresTheCounter) {
    insert({{"pin.enabled", "yes"}, {"pin.value", "87654321"}, {"pin.retries", "5"}});
    EXPECT_EQ(tx(kVerify1234), "63c4");
    EXPECT_EQ(tx("0020000109383736353433323130"), "6700");
    EXPECT_EQ(tx("00200001083837363534333231"), "9000");
    EXPECT_EQ(card->pinRetriesLeft(), 5);
}

TEST_F(Pin, BadReferenceOrLength) {
    insert({{"pin.enabled", "yes"}});
    EXPECT_EQ(tx("00200081"), "6a88");
    EXPECT_EQ(tx("00200011"), "6a88");
    EXPECT_EQ(tx("00200101"), "6a86");
    EXPECT_EQ(tx("0020000104313233"), "6700");
    EXPECT_EQ(card->pinRetriesLeft(), 3);
}

// "0020002C 10 <PUK> <new PIN padded>"
std::string unblock(const std::string& puk, const std::string& pin, const std::string& p2 = "01") {
    std::string block = textHex(pin);
    while (block.size() < 16) block += "ff";
    return "002c00" + p2 + "10" + textHex(puk) + block;
}

TEST_F(Pin, ThePukUnblocksTheBlockedPinWithANewOne) {
    insert({{"pin.enabled", "yes"}});
    EXPECT_EQ(tx("002c0001"), "63ca");  // PUK tries left
    for (int i = 0; i < 3; ++i) tx(kVerify9999);
    EXPECT_EQ(tx("00200001"), "6983");
    EXPECT_EQ(tx(unblock("12345678", "4321")), "9000");
    EXPECT_EQ(card->pinRetriesLeft(), 3);
    EXPECT_EQ(tx("00200001"), "9000");  // verified by the unblocking
    ASSERT_EQ(tx("00a4040c10" + kIsimAid), "9000");
    EXPECT_EQ(tx("00a4000c026f02"), "9000");
    EXPECT_EQ(sw(tx("00b0000000")), "9000");
    card->reset();
    EXPECT_EQ(tx(kVerify1234), "63c2");
    EXPECT_EQ(tx("002000010834333231ffffffff"), "9000");
}

TEST_F(Pin, AWrongPukCountsDownAndBlocksTheCardForGood) {
    insert({{"pin.enabled", "yes"}, {"pin.puk_retries", "2"}});
    EXPECT_EQ(tx("002c0001"), "63c2");
    EXPECT_EQ(tx(unblock("87654321", "4321")), "63c1");
    card->powerOff();
    card->powerOn();
    EXPECT_EQ(tx("002c0001"), "63c1");
    EXPECT_EQ(tx(unblock("87654321", "4321")), "6983");
    EXPECT_EQ(card->pukRetriesLeft(), 0);
    EXPECT_EQ(tx(unblock("12345678", "4321")), "6983");
    EXPECT_EQ(tx("002c0001"), "6983");
}

TEST_F(Pin, UnblockChecksItsArguments) {
    insert({{"pin.enabled", "yes"}});
    EXPECT_EQ(tx(unblock("12345678", "12")), "6a80");          // a new PIN of two digits
    EXPECT_EQ(tx(unblock("12345678", "12a4")), "6a80");        // not digits
    EXPECT_EQ(tx(unblock("12345678", "4321", "11")), "6a88");  // no universal PIN here
    EXPECT_EQ(tx("002c000108" + textHex("12345678")), "6700");
    EXPECT_EQ(tx("002c0101"), "6a86");
    EXPECT_EQ(card->pukRetriesLeft(), 10);
}

TEST_F(Pin, AUniversalPinCardVerifiesWithKeyReference11) {
    insert({{"pin.enabled", "yes"}, {"pin.kind", "universal"}});
    // PIN 01 listed, disabled; the universal PIN enabled and marked for use (95 01 08).
    EXPECT_NE(tx("00a4040410" + kIsimAid).find("c60c900140830101950108830111"), std::string::npos);
    EXPECT_EQ(tx("00200001"), "9000");   // PIN 01 is disabled ...
    EXPECT_EQ(tx(kVerify1234), "6984");  // ... and cannot be verified
    EXPECT_EQ(tx("00200011"), "63c3");
    EXPECT_EQ(tx("00a4000c026f02"), "9000");
    EXPECT_EQ(tx("00b0000000"), "6982");
    EXPECT_EQ(tx("002000110831323334ffffffff"), "9000");
    EXPECT_EQ(sw(tx("00b0000000")), "9000");
    EXPECT_EQ(tx("002c0011"), "63ca");
    EXPECT_EQ(tx("002c0001"), "6a88");
}

class Channels : public CardTest {};

TEST_F(Channels, EachChannelHasItsOwnApplicationAndFile) {
    insert();
    EXPECT_EQ(tx("0070000001"), "019000");
    EXPECT_EQ(tx("00a4040c10" + kIsimAid), "9000");
    EXPECT_EQ(tx("01a4040c10" + kUsimAid), "9000");
    EXPECT_EQ(tx("00a4000c026f07"), "9000");
    EXPECT_EQ(tx("01a4000c026f07"), "9000");
    EXPECT_EQ(tx("00b0000002"), "01009000");  // ISIM IST
    EXPECT_EQ(tx("01b0000009"),
              "080910100000000010"
              "9000");  // USIM IMSI
    EXPECT_EQ(tx(authApdu(vectorFor(0x20), 0x01)).substr(0, 4), "db08");
}

TEST_F(Channels, ClosedChannelIsRefused) {
    insert();
    ASSERT_EQ(tx("0070000001"), "019000");
    EXPECT_EQ(tx("0070000001"), "029000");
    EXPECT_EQ(tx("0070800100"), "9000");
    EXPECT_EQ(tx("01a4000c022f00"), "6881");
    EXPECT_EQ(tx("0070800100"), "6a86");
    EXPECT_EQ(tx("0070000001"), "019000");  // the lowest free number again
    EXPECT_EQ(tx("00708002"), "9000");
    EXPECT_EQ(tx("02a4000c022f00"), "6881");
    EXPECT_EQ(tx("0070800000"), "6a86");
}

TEST_F(Channels, ChannelsFourToNineteenUseTheFurtherInterindustryClass) {
    insert();
    for (int expected = 1; expected <= 19; ++expected) {
        EXPECT_EQ(tx("0070000001"), toHex(Bytes{static_cast<uint8_t>(expected)}) + "9000");
    }
    EXPECT_EQ(tx("0070000001"), "6a81");
    EXPECT_EQ(tx("40a4040c10" + kIsimAid), "9000");  // channel 4
    EXPECT_EQ(tx("4fa4040c10" + kUsimAid), "9000");  // channel 19
    EXPECT_EQ(tx("4fa4000c026f07"), "9000");
    EXPECT_EQ(sw(tx("4fb0000009")), "9000");
    EXPECT_EQ(tx("03a4000c022f00"), "9000");
}

TEST_F(Channels, ChannelOpenedFromAnotherChannelStartsWhereThatOneIs) {
    insert();
    ASSERT_EQ(tx("0070000001"), "019000");
    ASSERT_EQ(tx("01a4040c10" + kUsimAid), "9000");
    ASSERT_EQ(tx("0170000001"), "029000");
    EXPECT_EQ(tx("02a4000c026fad"), "9000");  // the USIM is current on channel 2 too
    EXPECT_EQ(tx("0070000001"), "039000");
    EXPECT_EQ(tx("03a4000c026fad"), "6a82");  // opened from channel 0: at the MF
}

TEST_F(Channels, PowerCycleClosesEveryChannel) {
    insert();
    ASSERT_EQ(tx("0070000001"), "019000");
    card->reset();
    EXPECT_EQ(tx("01a4000c022f00"), "6881");
}

TEST_F(Channels, CardWithoutLogicalChannelsRefusesManageChannel) {
    insert({{"logical_channels", "no"}});
    EXPECT_EQ(tx("0070000001"), "6881");
    EXPECT_EQ(tx("01a4000c022f00"), "6881");
    EXPECT_EQ(tx("00a4000c022f00"), "9000");
}

}  // namespace
}  // namespace imsaka::vicc::test
