#include "imsaka/cardio/uicc.h"

#include <gtest/gtest.h>

#include "imsaka/cardio/error.h"
#include "imsaka/testing/card_errors.h"
#include "scripted_transport.h"

namespace imsaka::cardio {
namespace {

using imsaka::testing::errorOf;
using testing::hex;
using testing::ScriptedTransport;

std::string byteHex(size_t value) {
    return toHex(Bytes{static_cast<uint8_t>(value)});
}
std::string tlv(const std::string& tag, const std::string& value) {
    return tag + byteHex(value.size() / 2) + value;
}
std::string text(const std::string& s) {
    return toHex(Bytes(s.begin(), s.end()));
}

const std::string kIsimAid = "a0000000871004ff49ff0289000000ff";
const std::string kUsimAid = "a0000000871002ff49ff0589000000ff";
const std::string kRand = "23553cbe9637a89d218ae64dae47bf35";
const std::string kAutn = "55f328b43577b9b94a9ffac354dfafb3";
const std::string kCk = "b40ba9a3c58b2a05bbf0d987b21bf8cb";
const std::string kIk = "f769bcd751044604127672711c6d3441";

std::string efFcp(const std::string& descriptor, const std::string& fid) {
    return tlv("62", tlv("82", descriptor) + tlv("83", fid)) + "9000";
}
std::string recordFile(const std::string& fid, size_t length, size_t count) {
    return efFcp("422100" + byteHex(length) + byteHex(count), fid);
}
std::string binaryFile(const std::string& fid, size_t size) {
    return tlv("62", tlv("82", "4121") + tlv("83", fid) + tlv("80", "00" + byteHex(size))) + "9000";
}
std::string padded(const std::string& value, size_t bytes) {
    return value + std::string(bytes * 2 - value.size(), 'f');
}

// The dialogue every open starts with: MF, EF_DIR and its records (T=1 style answers).
void expectDir(ScriptedTransport& card, const std::vector<std::string>& aids) {
    card.expect("00a40004023f0000", tlv("62", tlv("82", "7821") + tlv("83", "3f00")) + "9000");
    card.expect("00a40004022f0000", recordFile("2f00", 0x20, aids.size() + 1));
    for (size_t i = 0; i < aids.size(); ++i)
        card.expect("00b2" + byteHex(i + 1) + "0420",
                    padded(tlv("61", tlv("4f", aids[i])), 0x20) + "9000");
    card.expect("00b2" + byteHex(aids.size() + 1) + "0420", padded("", 0x20) + "9000");
}

std::string adfFcp(const std::string& aid, bool pinEnabled) {
    return tlv("62", tlv("82", "7821") + tlv("84", aid) +
                         tlv("c6", tlv("90", pinEnabled ? "80" : "00") + tlv("83", "01"))) +
           "9000";
}

void openUsimWithoutLogicalChannels(ScriptedTransport& card, UiccSession& session) {
    expectDir(card, {kUsimAid});
    card.expect("0070000001", "6881");
    card.expect("00a4040410" + kUsimAid + "00", adfFcp(kUsimAid, false));
    session.open();
}

TEST(UiccSession, PrefersTheIsimOnALogicalChannel) {
    ScriptedTransport card;
    expectDir(card, {kUsimAid, kIsimAid});
    card.expect("0070000001", "019000");
    card.expect("01a4040410" + kIsimAid + "00", adfFcp(kIsimAid, false));
    UiccSession session(card, {});
    session.open();
    EXPECT_EQ(session.application().type, AppType::Isim);
    EXPECT_EQ(session.channel(), 1);
    EXPECT_EQ(session.applications().size(), 2u);
    EXPECT_TRUE(card.done());

    card.expect("00708001", "9000");
    session.close();
    EXPECT_TRUE(card.done());
}

TEST(UiccSession, FallsBackToTheUsimAndToTheBasicChannel) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openUsimWithoutLogicalChannels(card, session);
    EXPECT_EQ(session.application().type, AppType::Usim);
    EXPECT_TRUE(session.onBasicChannel());
    session.close();  // nothing to close on the basic channel
    EXPECT_TRUE(card.done());
}

TEST(UiccSession, ReportsACardWithoutIsimOrUsim) {
    ScriptedTransport card;
    expectDir(card, {"a000000063504b43532d3135"});
    UiccSession session(card, {});
    try {
        session.open();
        FAIL();
    } catch (const CardError& e) {
        EXPECT_EQ(e.code(), CardErrc::NoApplication);
    }
}

void openIsim(ScriptedTransport& card, UiccSession& session, bool pinEnabled = false) {
    expectDir(card, {kIsimAid});
    card.expect("0070000001", "029000");
    card.expect("02a4040410" + kIsimAid + "00", adfFcp(kIsimAid, pinEnabled));
    session.open();
}

// An ISIM guarded by the universal PIN: PIN 01 disabled, PIN 11 enabled and marked for use.
void openIsimWithUniversalPin(ScriptedTransport& card, UiccSession& session) {
    expectDir(card, {kIsimAid});
    card.expect("0070000001", "029000");
    card.expect("02a4040410" + kIsimAid + "00",
                tlv("62", tlv("82", "7821") + tlv("84", kIsimAid) +
                              tlv("c6", tlv("90", "40") + tlv("83", "01") + tlv("95", "08") +
                                            tlv("83", "11"))) +
                    "9000");
    session.open();
}

TEST(UiccSession, ClosesItsLogicalChannelWhenTheApplicationCannotBeSelected) {
    ScriptedTransport card;
    expectDir(card, {kIsimAid});
    card.expect("0070000001", "039000");
    card.expect("03a4040410" + kIsimAid + "00", "6a82");
    card.expect("00708003", "9000");
    UiccSession session(card, {});
    EXPECT_EQ(errorOf([&] { session.open(); }), CardErrc::FileNotFound);
    EXPECT_TRUE(session.onBasicChannel());
    EXPECT_TRUE(card.done());
}

TEST(UiccSession, AuthenticatesWithOneCommandAndReturnsResCkIk) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openIsim(card, session);
    uint64_t before = session.exchanges();
    card.expect(
        "0288008122"
        "10" +
            kRand + "10" + kAutn + "00",
        "db08a54211d5e3ba50bf10" + kCk + "10" + kIk + "9000");
    auto result = session.authenticate(hex(kRand), hex(kAutn));
    EXPECT_EQ(result.kind, AuthResult::Kind::Success);
    EXPECT_EQ(toHex(result.res), "a54211d5e3ba50bf");
    EXPECT_EQ(session.exchanges() - before, 1u);
}

TEST(UiccSession, MapsAuthenticateStatusWordsToNamedErrors) {
    const std::pair<std::string, CardErrc> cases[] = {
        {"9862", CardErrc::MacFailure},       {"9864", CardErrc::ContextNotSupported},
        {"6982", CardErrc::PinRequired},      {"6985", CardErrc::NoApplication},
        {"6f42", CardErrc::UnexpectedStatus},
    };
    for (const auto& [sw, code] : cases) {
        ScriptedTransport card;
        UiccSession session(card, {});
        openIsim(card, session);
        card.expect(
            "0288008122"
            "10" +
                kRand + "10" + kAutn + "00",
            sw);
        try {
            session.authenticate(hex(kRand), hex(kAutn));
            ADD_FAILURE() << sw;
        } catch (const CardError& e) {
            EXPECT_EQ(e.code(), code) << sw;
            EXPECT_EQ(e.where(), "AUTHENTICATE");
        }
    }
}

TEST(UiccSession, RefusesWrongLengthRandOrAutnWithoutTouchingTheCard) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openIsim(card, session);
    int sent = card.sent();
    Bytes shortRand(15, 0), autn(16, 0), longAutn(17, 0);
    EXPECT_THROW(session.authenticate(shortRand, autn), CardError);
    EXPECT_THROW(session.authenticate(autn, longAutn), CardError);
    EXPECT_EQ(card.sent(), sent);
}

TEST(UiccSession, ReadsEveryIsimIdentity) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openIsim(card, session);
    std::string impi = tlv("80", text("001010000000001@ims.mnc001.mcc001.3gppnetwork.org"));
    std::string domain = tlv("80", text("ims.mnc001.mcc001.3gppnetwork.org"));
    card.expect("02a40004026f0200", binaryFile("6f02", 64))
        .expect("02b0000040", padded(impi, 64) + "9000");
    card.expect("02a40004026f0300", binaryFile("6f03", 64))
        .expect("02b0000040", padded(domain, 64) + "9000");
    card.expect("02a40004026f0400", recordFile("6f04", 0x30, 3));
    card.expect("02b2010430",
                padded(tlv("80", text("sip:001010000000001@ims.example.org")), 0x30) + "9000");
    card.expect("02b2020430", padded(tlv("80", text("tel:+15550000001")), 0x30) + "9000");
    card.expect("02b2030430", padded("", 0x30) + "9000");
    card.expect("02a40004026f0900", recordFile("6f09", 0x20, 2));
    card.expect("02b2010420", padded(tlv("80", "00" + text("pcscf.example.org")), 0x20) + "9000");
    card.expect("02b2020420", padded(tlv("80", "01c0000201"), 0x20) + "9000");
    auto ids = session.readIdentities();
    EXPECT_EQ(ids.impi, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    EXPECT_EQ(ids.homeDomain, "ims.mnc001.mcc001.3gppnetwork.org");
    ASSERT_EQ(ids.impus.size(), 2u);
    EXPECT_EQ(ids.impus[1], "tel:+15550000001");
    ASSERT_EQ(ids.pcscfs.size(), 2u);
    EXPECT_EQ(ids.pcscfs[1].address, "192.0.2.1");
    EXPECT_TRUE(card.done());
}

TEST(UiccSession, DerivesIdentitiesFromAUsimAlone) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openUsimWithoutLogicalChannels(card, session);
    card.expect("00a40004026f0700", binaryFile("6f07", 9))
        .expect("00b0000009", "0809101000000000109000");
    card.expect("00a40004026fad00", binaryFile("6fad", 4)).expect("00b0000004", "000000039000");
    auto ids = session.readIdentities();
    EXPECT_EQ(ids.imsi, "001010000000001");
    EXPECT_EQ(ids.homeDomain, "ims.mnc010.mcc001.3gppnetwork.org");  // 3-digit MNC from EF_AD
}

TEST(UiccSession, ReportsPinAndPukStateAndVerifies) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openIsim(card, session, true);
    card.expect("02200001", "63c3").expect("022c0001", "63ca");
    auto status = session.pinStatus();
    EXPECT_EQ(status.keyReference, 0x01);
    EXPECT_TRUE(status.enabled);
    EXPECT_FALSE(status.verified);
    EXPECT_EQ(status.retriesLeft, 3);
    EXPECT_EQ(status.pukRetriesLeft, 10);

    card.expect("02200001", "63c3").expect("022000010831323335ffffffff", "63c2");
    try {
        session.verifyPin("1235");
        FAIL();
    } catch (const CardError& e) {
        EXPECT_EQ(e.code(), CardErrc::WrongPin);
        EXPECT_EQ(e.statusWord(), 0x63C2);
    }
    card.expect("02200001", "63c2")
        .expect("022000010831323334ffffffff", "9000")
        .expect("02200001", "9000")
        .expect("022c0001", "6d00");  // a card that does not report its PUK counter
    auto verified = session.verifyPin("1234");
    EXPECT_TRUE(verified.verified);
    EXPECT_FALSE(verified.pukRetriesLeft);

    card.expect("02200001", "6983").expect("022c0001", "63ca");
    EXPECT_TRUE(session.pinStatus().blocked);
    EXPECT_EQ(errorOf([&] { session.verifyPin("12a4"); }), CardErrc::InvalidArgument);
    EXPECT_TRUE(card.done());
}

TEST(UiccSession, SendsNoPinWhenTheCardDoesNotAskForOne) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openIsim(card, session, true);
    // Verified already: a PIN sent now would only count down.
    card.expect("02200001", "9000");
    EXPECT_EQ(errorOf([&] { session.verifyPin("0000"); }), CardErrc::PinNotRequired);
    card.expect("02200001", "6983");
    EXPECT_EQ(errorOf([&] { session.verifyPin("1234"); }), CardErrc::PinBlocked);
    card.expect("02200001", "63c0");  // some cards say blocked this way
    EXPECT_EQ(errorOf([&] { session.verifyPin("1234"); }), CardErrc::PinBlocked);
    EXPECT_TRUE(card.done());

    ScriptedTransport disabledCard;
    UiccSession disabled(disabledCard, {});
    openIsim(disabledCard, disabled, false);
    disabledCard.expect("02200001", "9000");
    try {
        disabled.verifyPin("0000");
        FAIL();
    } catch (const CardError& e) {
        EXPECT_EQ(e.code(), CardErrc::PinNotRequired);
        EXPECT_NE(std::string(e.what()).find("disabled"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(disabledCard.done());
}

TEST(UiccSession, UnblocksABlockedPinWithThePuk) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openIsim(card, session, true);
    std::string data =
        "3132333435363738"
        "34333231ffffffff";  // PUK, new PIN 4321
    card.expect("02200001", "6983").expect("022c0001", "63ca").expect("022c000110" + data, "63c9");
    EXPECT_EQ(errorOf([&] { session.unblockPin("12345678", "4321"); }), CardErrc::WrongPuk);
    card.expect("02200001", "6983")
        .expect("022c0001", "63c9")
        .expect("022c000110" + data, "9000")
        .expect("02200001", "9000")
        .expect("022c0001", "63ca");
    auto status = session.unblockPin("12345678", "4321");
    EXPECT_TRUE(status.verified);
    EXPECT_EQ(status.pukRetriesLeft, 10);

    // Not blocked: no PUK try is spent.
    card.expect("02200001", "63c3");
    EXPECT_EQ(errorOf([&] { session.unblockPin("12345678", "4321"); }), CardErrc::PinNotBlocked);
    // No PUK tries left: nothing is sent.
    card.expect("02200001", "6983").expect("022c0001", "6983");
    EXPECT_EQ(errorOf([&] { session.unblockPin("12345678", "4321"); }), CardErrc::PukBlocked);
    EXPECT_EQ(errorOf([&] { session.unblockPin("1234567", "4321"); }), CardErrc::InvalidArgument);
    EXPECT_EQ(errorOf([&] { session.unblockPin("12345678", "123"); }), CardErrc::InvalidArgument);
    EXPECT_TRUE(card.done());
}

TEST(UiccSession, UsesTheUniversalPinWhenTheApplicationDoes) {
    ScriptedTransport card;
    UiccSession session(card, {});
    openIsimWithUniversalPin(card, session);
    card.expect("02200011", "63c3").expect("022c0011", "63ca");
    auto status = session.pinStatus();
    EXPECT_EQ(status.keyReference, 0x11);
    EXPECT_TRUE(status.enabled);
    EXPECT_EQ(status.retriesLeft, 3);
    card.expect("02200011", "63c3")
        .expect("022000110831323334ffffffff", "9000")
        .expect("02200011", "9000")
        .expect("022c0011", "63ca");
    EXPECT_TRUE(session.verifyPin("1234").verified);
    EXPECT_TRUE(card.done());
}

TEST(Channels, ClassBytesFollowIso7816) {
    EXPECT_EQ(classForChannel(0), 0x00);
    EXPECT_EQ(classForChannel(3), 0x03);
    EXPECT_EQ(classForChannel(4), 0x40);
    EXPECT_EQ(classForChannel(19), 0x4F);
}

}  // namespace
}  // namespace imsaka::cardio
