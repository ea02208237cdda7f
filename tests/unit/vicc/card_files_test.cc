// Selecting and reading every file, and the errors around it (T=1 card).
#include "card_fixture.h"

namespace imsaka::vicc::test {
namespace {

std::string padded(const std::string& hexValue, size_t bytes) {
    std::string out = hexValue;
    while (out.size() < bytes * 2) out += "ff";
    return out;
}

std::string tlv80(const std::string& text) {
    return "80" + toHex(Bytes{static_cast<uint8_t>(text.size())}) + textHex(text);
}

class Files : public CardTest {
  protected:
    void SetUp() override { insert(); }
};

TEST_F(Files, EfDirListsIsimThenUsim) {
    EXPECT_EQ(tx("00a4000c022f00"), "9000");
    EXPECT_EQ(tx("00b2010420"),
              padded("61184f10" + kIsimAid + "5004" + textHex("ISIM"), 32) + "9000");
    EXPECT_EQ(tx("00b2020420"),
              padded("61184f10" + kUsimAid + "5004" + textHex("USIM"), 32) + "9000");
    EXPECT_EQ(tx("00b2030420"), "6a83");
}

TEST_F(Files, TruncatedDirFaultCutsEveryEfDirTemplateShortAndNothingElse) {
    insert({}, Fault::TruncatedDir);
    EXPECT_EQ(tx("00a4000c022f00"), "9000");
    EXPECT_EQ(tx("00b2010420"),
              padded("617f4f10" + kIsimAid + "5004" + textHex("ISIM"), 32) + "9000");
    EXPECT_EQ(tx("00b2020420").substr(0, 4), "617f");
    EXPECT_EQ(tx("00a4040c10" + kUsimAid), "9000");  // other files read as ever
    EXPECT_EQ(tx("00a4000c026f07"), "9000");
    EXPECT_EQ(tx("00b0000009"),
              "080910100000000010"
              "9000");
}

TEST_F(Files, EfDirWithoutIsimListsOnlyTheUsim) {
    insert({{"applications", "usim"}, {"impi", "-"}, {"impu", "-"}, {"domain", "-"}});
    EXPECT_EQ(tx("00a4000c022f00"), "9000");
    EXPECT_EQ(tx("00b2010420"),
              padded("61184f10" + kUsimAid + "5004" + textHex("USIM"), 32) + "9000");
    EXPECT_EQ(tx("00b2020420"), "6a83");
    EXPECT_EQ(tx("00a4040c07a0000000871004"), "6a82");
}

TEST_F(Files, EfDirFcpGivesRecordLengthAndCount) {
    EXPECT_EQ(tx("00a40004022f00"),
              "621282054221002002"
              "83022f00"
              "8a0105"
              "80020040"
              "9000");
}

TEST_F(Files, TransparentEfFcpGivesItsSize) {
    tx("00a4040c10" + kIsimAid);
    EXPECT_EQ(tx("00a40004026f02"),
              "620f"
              "82024121"
              "83026f02"
              "8a0105"
              "80020033"
              "9000");
    tx("00a4040c10" + kUsimAid);
    EXPECT_EQ(tx("00a40004026f07"),
              "620f"
              "82024121"
              "83026f07"
              "8a0105"
              "80020009"
              "9000");
}

TEST_F(Files, IccidIsSwappedBcd) {
    EXPECT_EQ(tx("00a4000c022fe2"), "9000");
    EXPECT_EQ(tx("00b000000a"),
              "980001010000000000f1"
              "9000");
}

TEST_F(Files, SelectByFullAidGivesFcpWithAidAndPinStatus) {
    std::string response = tx("00a4040410" + kIsimAid + "00");
    EXPECT_EQ(sw(response), "9000");
    std::string fcp = data(response);
    EXPECT_EQ(fcp.substr(0, 4), "62" + toHex(Bytes{static_cast<uint8_t>(fcp.size() / 2 - 2)}));
    EXPECT_NE(fcp.find("82027821"), std::string::npos);
    EXPECT_NE(fcp.find("83027fff"), std::string::npos);
    EXPECT_NE(fcp.find("8410" + kIsimAid), std::string::npos);
    EXPECT_NE(fcp.find("c606900100830101"), std::string::npos);
}

TEST_F(Files, SelectByPartialAidPicksTheMatchingApplication) {
    EXPECT_NE(tx("00a4040407a0000000871002").find("8410" + kUsimAid), std::string::npos);
    EXPECT_NE(tx("00a4040407a0000000871004").find("8410" + kIsimAid), std::string::npos);
    EXPECT_EQ(tx("00a4040407a0000000871009"), "6a82");
}

TEST_F(Files, IsimFilesHoldTheProfileIdentities) {
    ASSERT_EQ(tx("00a4040c10" + kIsimAid), "9000");
    EXPECT_EQ(tx("00a4000c026f02"), "9000");
    std::string impi = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    EXPECT_EQ(tx("00b0000000"), padded(tlv80(impi), impi.size() + 2) + "9000");
    EXPECT_EQ(tx("00a4000c026f03"), "9000");
    std::string domain = "ims.mnc001.mcc001.3gppnetwork.org";
    EXPECT_EQ(tx("00b0000000"), padded(tlv80(domain), 35) + "9000");
    EXPECT_EQ(tx("00a4000c026f04"), "9000");
    std::string impu1 = "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    std::string record1 = tx("00b2010400");
    EXPECT_EQ(record1, padded(tlv80(impu1), impu1.size() + 2) + "9000");
    size_t length = data(record1).size() / 2;
    EXPECT_EQ(tx("00b2020400"), padded(tlv80("tel:+15550000001"), length) + "9000");
    EXPECT_EQ(tx("00b2030400"), "6a83");
    EXPECT_EQ(tx("00a4000c026f09"), "9000");
    std::string pcscf = "pcscf.ims.mnc001.mcc001.3gppnetwork.org";
    std::string value = "00" + textHex(pcscf);
    EXPECT_EQ(tx("00b2010400"),
              padded("80" + toHex(Bytes{static_cast<uint8_t>(pcscf.size() + 1)}) + value,
                     pcscf.size() + 3) +
                  "9000");
    EXPECT_EQ(tx("00a4000c026f07"), "9000");
    EXPECT_EQ(tx("00b0000002"), "01009000");
    EXPECT_EQ(tx("00a4000c026fad"), "9000");
    EXPECT_EQ(tx("00b0000003"), "0000009000");
}

TEST_F(Files, PcscfAddressesFollowTheChosenEncoding) {
    struct Case {
        const char* encoding;
        const char* address;
        const char* record;
    } cases[] = {
        {"binary", "ipv4:192.0.2.10", "800501c000020a"},
        {"filler", "ipv4:192.0.2.10", "80060100c000020a"},
        {"text", "ipv4:192.0.2.10",
         "800b01"
         "3139322e302e322e3130"},
        {"binary", "ipv6:2001:db8::1", "80110220010db8000000000000000000000001"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.encoding) + " " + c.address);
        insert({{"pcscf_address_encoding", c.encoding}, {"pcscf", c.address}});
        tx("00a4040c10" + kIsimAid);
        EXPECT_EQ(tx("00a4000c026f09"), "9000");
        EXPECT_EQ(tx("00b2010420"), padded(c.record, 32) + "9000");
    }
}

TEST_F(Files, UsimImsiAndAdFollowTs31102) {
    ASSERT_EQ(tx("00a4040c10" + kUsimAid), "9000");
    EXPECT_EQ(tx("00a4000c026f07"), "9000");
    EXPECT_EQ(tx("00b0000009"),
              "080910100000000010"
              "9000");
    EXPECT_EQ(tx("00a4000c026fad"), "9000");
    EXPECT_EQ(tx("00b0000004"),
              "00000002"
              "9000");
    insert({{"imsi", "31041012345678"}, {"mnc_length", "3"}});
    tx("00a4040c10" + kUsimAid);
    tx("00a4000c026f07");
    EXPECT_EQ(tx("00b0000009"),
              "0831011410325476f8"
              "9000");
    tx("00a4000c026fad");
    EXPECT_EQ(tx("00b0000004"),
              "00000003"
              "9000");
}

TEST_F(Files, SelectByPathFromMf) {
    EXPECT_NE(tx("00a40804022f00").find("83022f00"), std::string::npos);
    EXPECT_EQ(tx("00a408040400007fff"), "6a82");
    EXPECT_EQ(tx("00a408040220ff"), "6a82");
    EXPECT_EQ(tx("00a4080c047fff6f02"), "6a82");  // no current application yet
    tx("00a4040c10" + kIsimAid);
    EXPECT_EQ(tx("00a4080c047fff6f02"), "9000");
    EXPECT_EQ(tx("00b0000002"), "80319000");
    EXPECT_EQ(tx("00a4080c063f007fff6f04"), "9000");
    EXPECT_EQ(tx("00a4080c022f00"), "9000");
}

TEST_F(Files, SelectMfAndCurrentAdfByFid) {
    tx("00a4040c10" + kUsimAid);
    EXPECT_NE(tx("00a40004023f00").find("83023f00"), std::string::npos);
    EXPECT_EQ(tx("00a4000c026f07"), "6a82");  // the MF has no 6F07
    EXPECT_NE(tx("00a40004027fff").find("8410" + kUsimAid), std::string::npos);
    EXPECT_EQ(tx("00a4000c026f07"), "9000");
    EXPECT_EQ(tx("00a4000c022f00"), "9000");  // EF_DIR stays reachable
}

TEST_F(Files, SelectWithoutResponseDataAndBadParameters) {
    EXPECT_EQ(tx("00a4000c022f00"), "9000");
    EXPECT_EQ(tx("00a40000022f00"), "6a86");
    EXPECT_EQ(tx("00a4020c022f00"), "6a86");
    EXPECT_EQ(tx("00a4000c032f0000"), "6700");
    EXPECT_EQ(tx("00a4000c021234"), "6a82");
    EXPECT_EQ(tx("00a4000c"), "6700");
}

TEST_F(Files, ReadErrors) {
    EXPECT_EQ(tx("00b0000001"), "6986");
    EXPECT_EQ(tx("00b2010420"), "6986");
    tx("00a4000c022f00");
    EXPECT_EQ(tx("00b0000001"), "6981");
    EXPECT_EQ(tx("00b2000420"), "6a86");
    EXPECT_EQ(tx("00b2010220"), "6a86");
    tx("00a4000c022fe2");
    EXPECT_EQ(tx("00b2010420"), "6981");
    EXPECT_EQ(tx("00b0000a01"), "6b00");
    EXPECT_EQ(tx("00b0000804"), "6c02");
    EXPECT_EQ(tx("00b0000802"), "00f19000");
    EXPECT_EQ(tx("00b0000001"), "989000");
}

TEST_F(Files, UnknownInstructionClassAndMalformedApdus) {
    EXPECT_EQ(tx("00ca000000"), "6d00");
    EXPECT_EQ(tx("80a4000c022f00"), "6e00");
    EXPECT_EQ(tx("0ca4000c022f00"), "6e00");
    EXPECT_EQ(tx("00a4"), "6700");
    EXPECT_EQ(tx("00a4000c052f00"), "6700");
}

TEST_F(Files, NothingAnswersWhilePoweredOff) {
    card->powerOff();
    EXPECT_FALSE(card->powered());
    EXPECT_EQ(tx("00a4000c022f00"), "6985");
    card->powerOn();
    EXPECT_EQ(tx("00a4000c022f00"), "9000");
}

}  // namespace
}  // namespace imsaka::vicc::test
