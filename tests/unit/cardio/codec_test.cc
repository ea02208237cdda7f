#include "imsaka/cardio/codec.h"

#include <gtest/gtest.h>

#include "imsaka/cardio/error.h"
#include "imsaka/testing/card_errors.h"
#include "scripted_transport.h"

namespace imsaka::cardio {
namespace {

using imsaka::testing::errorOf;

using testing::hex;

// Builds a TLV in hex from a tag and a hex value, so lengths in tests are never by hand.
std::string tlv(const std::string& tag, const std::string& value) {
    return tag + toHex(Bytes{static_cast<uint8_t>(value.size() / 2)}) + value;
}

std::string text(const std::string& s) {
    return toHex(Bytes(s.begin(), s.end()));
}

const std::string kIsimAid = "a0000000871004ff49ff0289000000ff";
const std::string kUsimAid = "a0000000871002ff49ff0589000000ff";

TEST(Tlv, ReadsShortAndLongLengthsAndStopsAtPadding) {
    std::string long81 = "a58181" + std::string(0x81 * 2, 'a');
    auto data = hex("800141" + long81 + "ffff");
    auto tlvs = parseTlvs(data, "test");
    ASSERT_EQ(tlvs.size(), 2u);
    EXPECT_EQ(tlvs[0].tag, 0x80);
    EXPECT_EQ(tlvs[1].value.size(), 0x81u);
}

TEST(Tlv, RejectsValuesRunningPastTheEnd) {
    auto data = hex("8005414243");
    EXPECT_EQ(errorOf([&] { parseTlvs(data, "test"); }), CardErrc::MalformedResponse);
    auto cut = hex("80");
    EXPECT_EQ(errorOf([&] { parseTlvs(cut, "test"); }), CardErrc::MalformedResponse);
    auto longForm = hex("808201");
    EXPECT_EQ(errorOf([&] { parseTlvs(longForm, "test"); }), CardErrc::MalformedResponse);
}

TEST(Fcp, DescribesALinearFixedFile) {
    auto fcp = parseFcp(hex(tlv(
        "62", tlv("82", "4221002004") + tlv("83", "6f04") + tlv("80", "0080") + tlv("8a", "05"))));
    EXPECT_EQ(fcp.structure, FileControl::Structure::LinearFixed);
    EXPECT_EQ(fcp.fileId, 0x6F04);
    EXPECT_EQ(fcp.recordLength, 0x20u);
    EXPECT_EQ(fcp.recordCount, 4u);
    EXPECT_EQ(fcp.fileSize, 0x80u);
}

// The PIN an ADF's FCP names (TS 102 221 9.5.2), from its PIN status template.
std::optional<PinReference> pinOf(const std::string& pinTemplate) {
    return parseFcp(hex(tlv("62", tlv("82", "7821") + tlv("c6", pinTemplate)))).pin;
}

TEST(Fcp, ReadsTheAidAndPin1StateOfAnAdf) {
    std::string pinTemplate = tlv("90", "40") + tlv("83", "81") + tlv("83", "01") + tlv("83", "0a");
    auto fcp =
        parseFcp(hex(tlv("62", tlv("82", "7821") + tlv("84", kIsimAid) + tlv("c6", pinTemplate))));
    EXPECT_EQ(fcp.structure, FileControl::Structure::Dedicated);
    EXPECT_EQ(toHex(fcp.aid), kIsimAid);
    ASSERT_TRUE(fcp.pin);
    EXPECT_EQ(fcp.pin->keyReference, 0x01);
    EXPECT_TRUE(fcp.pin->enabled);  // second key reference, second bit

    auto disabled = pinOf(tlv("90", "00") + tlv("83", "01"));
    ASSERT_TRUE(disabled);
    EXPECT_FALSE(disabled->enabled);
    EXPECT_FALSE(pinOf(tlv("83", "01")));  // no PS_DO: the card says nothing
}

TEST(Fcp, TheUniversalPinStandsInForADisabledApplicationPin) {
    // PIN 01 disabled, the universal PIN enabled and marked for use (usage qualifier 08).
    auto universal = pinOf(tlv("90", "40") + tlv("83", "01") + tlv("95", "08") + tlv("83", "11"));
    ASSERT_TRUE(universal);
    EXPECT_EQ(universal->keyReference, 0x11);
    EXPECT_TRUE(universal->enabled);
    // An enabled application PIN comes first.
    auto application = pinOf(tlv("90", "c0") + tlv("83", "01") + tlv("95", "08") + tlv("83", "11"));
    EXPECT_EQ(application->keyReference, 0x01);
    // "Do not use" (00), or a disabled universal PIN: no PIN is needed.
    auto unused = pinOf(tlv("90", "40") + tlv("83", "01") + tlv("95", "00") + tlv("83", "11"));
    EXPECT_EQ(unused->keyReference, 0x01);
    EXPECT_FALSE(unused->enabled);
    auto off = pinOf(tlv("90", "00") + tlv("83", "01") + tlv("95", "08") + tlv("83", "11"));
    EXPECT_FALSE(off->enabled);
    // A second byte of PS_DO covers the ninth key reference and on; a universal PIN listed
    // without a usage qualifier counts as used.
    std::string many;
    for (const char* reference : {"02", "03", "04", "05", "06", "07", "0a", "0b"})
        many += tlv("83", reference);
    auto none = pinOf(tlv("90", "0000") + many + tlv("83", "11"));
    EXPECT_EQ(none->keyReference, 0x02);  // the application PIN, listed first, disabled
    EXPECT_FALSE(none->enabled);
    auto ninthUniversal = pinOf(tlv("90", "0080") + many + tlv("83", "11"));
    EXPECT_EQ(ninthUniversal->keyReference, 0x11);
    EXPECT_TRUE(ninthUniversal->enabled);
}

TEST(Fcp, TellsABerTlvEfFromADedicatedFile) {
    auto berTlv = parseFcp(hex(tlv("62", tlv("82", "7921") + tlv("83", "6f60"))));
    EXPECT_EQ(berTlv.structure, FileControl::Structure::Unknown);
    auto adf = parseFcp(hex(tlv("62", tlv("82", "3821") + tlv("83", "7fff"))));
    EXPECT_EQ(adf.structure, FileControl::Structure::Dedicated);
}

TEST(Fcp, RejectsDataWithoutATemplate) {
    auto data = hex(tlv("6f", "00"));
    EXPECT_EQ(errorOf([&] { parseFcp(data); }), CardErrc::MalformedResponse);
}

TEST(EfDir, ParsesIsimAndUsimRecordsAndSkipsUnusedOnes) {
    auto isim =
        parseDirRecord(hex(tlv("61", tlv("4f", kIsimAid) + tlv("50", text("ISIM"))) + "ffff"));
    ASSERT_TRUE(isim);
    EXPECT_EQ(isim->type, AppType::Isim);
    EXPECT_EQ(isim->label, "ISIM");
    auto usim = parseDirRecord(hex(tlv("61", tlv("4f", kUsimAid))));
    ASSERT_TRUE(usim);
    EXPECT_EQ(usim->type, AppType::Usim);
    EXPECT_FALSE(parseDirRecord(hex("ffffffffff")));
}

TEST(EfDir, RejectsRecordsWithoutAnAid) {
    auto data = hex(tlv("61", tlv("50", text("X"))));
    EXPECT_EQ(errorOf([&] { parseDirRecord(data); }), CardErrc::MalformedResponse);
    auto shortAid = hex(tlv("61", tlv("4f", "a000")));
    EXPECT_EQ(errorOf([&] { parseDirRecord(shortAid); }), CardErrc::MalformedResponse);
}

TEST(TextFiles, ReadTheNaiAndIgnorePadding) {
    auto impi = parseTextFile(hex(tlv("80", text("user@ims.example.org")) + "ffffff"), "EF_IMPI");
    EXPECT_EQ(impi, "user@ims.example.org");
    EXPECT_FALSE(parseTextFile(hex("ffffffff"), "EF_IMPU record"));
}

TEST(Pcscf, AcceptsEveryAddressFormCardsUse) {
    auto fqdn = parsePcscfRecord(hex(tlv("80", "00" + text("pcscf.example.org")) + "ff"));
    EXPECT_EQ(fqdn->kind, PcscfAddress::Kind::Fqdn);
    EXPECT_EQ(fqdn->address, "pcscf.example.org");
    EXPECT_EQ(parsePcscfRecord(hex(tlv("80", "01c0000201")))->address, "192.0.2.1");
    EXPECT_EQ(parsePcscfRecord(hex(tlv("80", "0100c0000201")))->address, "192.0.2.1");  // filler
    EXPECT_EQ(parsePcscfRecord(hex(tlv("80", "01" + text("192.0.2.1"))))->address, "192.0.2.1");
    auto v6 = parsePcscfRecord(hex(tlv("80", "0220010db8000000000000000000000001")));
    EXPECT_EQ(v6->kind, PcscfAddress::Kind::Ipv6);
    EXPECT_EQ(v6->address, "2001:db8::1");
    EXPECT_EQ(parsePcscfRecord(hex(tlv("80", "02" + text("2001:db8::1"))))->address, "2001:db8::1");
    EXPECT_FALSE(parsePcscfRecord(hex("ffffffff")));
}

TEST(Pcscf, RejectsUnknownTypesAndShortBinaryAddresses) {
    auto unknownType = hex(tlv("80", "07c0000201"));
    EXPECT_EQ(errorOf([&] { parsePcscfRecord(unknownType); }), CardErrc::MalformedResponse);
    auto shortV4 = hex(tlv("80", "01c000"));
    EXPECT_EQ(errorOf([&] { parsePcscfRecord(shortV4); }), CardErrc::MalformedResponse);
}

TEST(Imsi, DecodesSwappedBcdAfterTheParityNibble) {
    EXPECT_EQ(parseImsi(hex("080910100000000010")), "001010000000001");
    EXPECT_EQ(parseImsi(hex("082926540000000010")), "262450000000001");
    auto notBcd = hex("0809101000a0000010");
    EXPECT_EQ(errorOf([&] { parseImsi(notBcd); }), CardErrc::MalformedResponse);
    auto truncated = hex("08091010");
    EXPECT_EQ(errorOf([&] { parseImsi(truncated); }), CardErrc::MalformedResponse);
}

TEST(Imsi, MncLengthComesFromTheFourthByteOfEfAd) {
    EXPECT_EQ(parseMncLength(hex("00000002")), 2);
    EXPECT_EQ(parseMncLength(hex("00000003")), 3);
    EXPECT_FALSE(parseMncLength(hex("000000")));
    EXPECT_FALSE(parseMncLength(hex("0000000f")));
}

TEST(Derivation, FollowsTs23003WithALeadingZeroForTwoDigitMncs) {
    auto ids = deriveIdentitiesFromImsi("001010000000001", 2);
    EXPECT_EQ(ids.impi, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    EXPECT_EQ(ids.impus.at(0), "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    EXPECT_EQ(ids.homeDomain, "ims.mnc001.mcc001.3gppnetwork.org");
    auto three = deriveIdentitiesFromImsi("310150123456789", 3);
    EXPECT_EQ(three.homeDomain, "ims.mnc150.mcc310.3gppnetwork.org");
    EXPECT_EQ(errorOf([] { deriveIdentitiesFromImsi("31015", 3); }), CardErrc::InvalidArgument);
}

const std::string kCk = "b40ba9a3c58b2a05bbf0d987b21bf8cb";
const std::string kIk = "f769bcd751044604127672711c6d3441";

TEST(AuthenticateResponse, ReturnsResCkIkOfAnyAllowedResLength) {
    for (std::string res : {"a54211d5", "a54211d5e3ba50bf", "a54211d5e3ba50bfa54211d5e3ba50bf"}) {
        auto result = parseAuthenticateResponse(hex("db" + tlv("", res) + "10" + kCk + "10" + kIk));
        EXPECT_EQ(result.kind, AuthResult::Kind::Success);
        EXPECT_EQ(toHex(result.res), res);
        EXPECT_EQ(toHex(result.ck), kCk);
        EXPECT_EQ(toHex(result.ik), kIk);
        EXPECT_TRUE(result.kc.empty());
    }
}

TEST(AuthenticateResponse, KeepsKcWhenTheUsimAddsIt) {
    auto result = parseAuthenticateResponse(
        hex("db08a54211d5e3ba50bf10" + kCk + "10" + kIk + "080102030405060708"));
    EXPECT_EQ(toHex(result.kc), "0102030405060708");
}

TEST(AuthenticateResponse, ReturnsAutsOnSyncFailure) {
    auto result = parseAuthenticateResponse(hex("dc0e0102030405060708090a0b0c0d0e"));
    EXPECT_EQ(result.kind, AuthResult::Kind::SyncFailure);
    EXPECT_EQ(toHex(result.auts), "0102030405060708090a0b0c0d0e");
}

TEST(AuthenticateResponse, RejectsTruncatedAndMisSizedFields) {
    for (const std::string& bad : std::vector<std::string>{
             "", "db", "db08a54211d5",
             "db03a54211"
             "10" +
                 kCk + "10" + kIk,
             "db08a54211d5e3ba50bf08b40ba9a3c58b2a0510" + kIk, "dc0d0102030405060708090a0b0c0d",
             "dd00", "db08a54211d5e3ba50bf10" + kCk + "10" + kIk + "0401020304"}) {
        auto data = hex(bad);
        EXPECT_EQ(errorOf([&] { parseAuthenticateResponse(data); }), CardErrc::MalformedResponse)
            << bad;
    }
}

}  // namespace
}  // namespace imsaka::cardio
