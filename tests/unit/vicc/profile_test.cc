// Loading profiles: the shipped files, and clear errors for bad ones.
#include <unistd.h>

#include "card_fixture.h"

namespace imsaka::vicc::test {
namespace {

ProfileError loadError(const std::string& text) {
    try {
        parseProfile(text, "bad.ini");
    } catch (const ProfileError& error) {
        return error;
    }
    throw std::runtime_error("profile was accepted:\n" + text);
}

int lineOf(const std::string& text, const std::string& needle) {
    size_t at = text.find(needle);
    if (at == std::string::npos) throw std::runtime_error("no " + needle);
    return 1 +
           static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

TEST(Profile, DefaultProfileDescribesAnIsimAndUsimCard) {
    Profile profile = loadProfile(IMSAKA_VICC_PROFILES "/default.ini");
    EXPECT_EQ(profile.protocol, Protocol::T1);
    EXPECT_TRUE(profile.hasIsim);
    EXPECT_TRUE(profile.logicalChannels);
    EXPECT_EQ(toHex(profile.k), "465b5ce8b199b49faa5f0a2ee238a6bc");
    EXPECT_EQ(toHex(profile.opc), "cd63cb71954a9f4e48a5994e37a02baf");
    EXPECT_EQ(toHex(profile.amf), "8000");
    EXPECT_EQ(profile.sqn, 0u);
    EXPECT_EQ(profile.delta, 268435456u);
    EXPECT_EQ(profile.imsi, "001010000000001");
    EXPECT_EQ(profile.mncLength, 2);
    EXPECT_EQ(profile.impi, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    ASSERT_EQ(profile.impus.size(), 2u);
    EXPECT_EQ(profile.impus[1], "tel:+15550000001");
    EXPECT_EQ(profile.domain, "ims.mnc001.mcc001.3gppnetwork.org");
    ASSERT_EQ(profile.pcscfs.size(), 1u);
    EXPECT_EQ(profile.pcscfs[0].type, PcscfAddress::Type::Fqdn);
    EXPECT_FALSE(profile.pinEnabled);
    EXPECT_EQ(profile.pinKind, PinKind::Application);
    EXPECT_EQ(profile.puk, "12345678");
    EXPECT_EQ(profile.pukRetries, 10);
}

TEST(Profile, UniversalPinProfileUsesTheUniversalPin) {
    Profile profile = loadProfile(IMSAKA_VICC_PROFILES "/universal-pin.ini");
    EXPECT_TRUE(profile.pinEnabled);
    EXPECT_EQ(profile.pinKind, PinKind::Universal);
    EXPECT_EQ(profile.impi, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
}

TEST(Profile, UsimOnlyProfileHasNoIsim) {
    Profile profile = loadProfile(IMSAKA_VICC_PROFILES "/usim-only.ini");
    EXPECT_FALSE(profile.hasIsim);
    EXPECT_EQ(profile.imsi, "001010000000001");
    EXPECT_TRUE(profile.impi.empty());
}

TEST(Profile, OpIsTurnedIntoOpc) {
    Profile profile =
        makeProfile({{"opc", "-"}, {"subscriber.op", "cdc202d5123e20f62b6d676ac72cb318"}});
    EXPECT_EQ(toHex(profile.opc), "cd63cb71954a9f4e48a5994e37a02baf");
}

TEST(Profile, RepeatedImpuAndPcscfMakeMoreRecords) {
    std::string text = profileText({});
    text.replace(text.find("pcscf_address_encoding"), 0,
                 "pcscf = ipv6:2001:db8::5\nimpu = sip:third@example.org\n");
    Profile profile = parseProfile(text, "test.ini");
    EXPECT_EQ(profile.impus.size(), 3u);
    ASSERT_EQ(profile.pcscfs.size(), 2u);
    EXPECT_EQ(profile.pcscfs[1].type, PcscfAddress::Type::Ipv6);
    EXPECT_EQ(profile.pcscfs[1].text, "2001:db8::5");
}

TEST(Profile, UnknownKeyNamesFileLineAndKey) {
    std::string text = profileText({{"card.colour", "blue"}});
    ProfileError error = loadError(text);
    EXPECT_EQ(error.code(), ProfileError::Code::UnknownKey);
    EXPECT_EQ(error.source(), "bad.ini");
    EXPECT_EQ(error.line(), lineOf(text, "colour"));
    EXPECT_EQ(error.key(), "card.colour");
    EXPECT_NE(
        std::string(error.what()).find("bad.ini:" + std::to_string(error.line()) + ": card.colour"),
        std::string::npos);
}

TEST(Profile, BadValuesAreRejectedWithTheirLine) {
    const std::map<std::string, std::string> bad[] = {
        {{"k", "465b5ce8b199b49faa5f0a2ee238a6"}},
        {{"opc", "zz63cb71954a9f4e48a5994e37a02baf"}},
        {{"protocol", "t2"}},
        {{"applications", "isim"}},
        {{"logical_channels", "maybe"}},
        {{"algorithm", "comp128"}},
        {{"amf", "80"}},
        {{"sqn", "1000000000000"}},
        {{"delta", "-1"}},
        {{"imsi", "00101abc"}},
        {{"mnc_length", "4"}},
        {{"pcscf", "ipv4:300.1.1.1"}},
        {{"pcscf", "ipv6:nope"}},
        {{"pcscf", "dns:example.org"}},
        {{"pcscf_address_encoding", "hex"}},
        {{"pin.enabled", "sometimes"}},
        {{"pin.value", "12"}},
        {{"pin.retries", "0"}},
        {{"pin.kind", "global"}},
        {{"pin.puk", "1234567"}},
        {{"pin.puk", "1234567x"}},
        {{"pin.puk_retries", "16"}},
    };
    for (const auto& change : bad) {
        std::string text = profileText(change);
        std::string key = change.begin()->first;
        key = key.substr(key.find('.') + 1);
        SCOPED_TRACE(key + " = " + change.begin()->second);
        ProfileError error = loadError(text);
        EXPECT_EQ(error.code(), ProfileError::Code::BadValue);
        EXPECT_EQ(error.line(), lineOf(text, "\n" + key + " =") + 1);
        EXPECT_NE(error.key().find(key), std::string::npos);
    }
}

TEST(Profile, KeyGivenTwiceIsRejected) {
    std::string text = defaultProfileText() + "\n[usim]\nimsi = 001010000000002\n";
    ProfileError error = loadError(text);
    EXPECT_EQ(error.code(), ProfileError::Code::BadValue);
    EXPECT_EQ(error.key(), "usim.imsi");
}

TEST(Profile, UnknownSectionAndSyntaxErrors) {
    ProfileError section = loadError(defaultProfileText() + "[sim]\nki = 00\n");
    EXPECT_EQ(section.code(), ProfileError::Code::UnknownSection);
    ProfileError syntax = loadError("[card]\nprotocol t1\n");
    EXPECT_EQ(syntax.code(), ProfileError::Code::Syntax);
    EXPECT_EQ(syntax.line(), 2);
}

TEST(Profile, MissingKeysAreNamed) {
    EXPECT_EQ(loadError(profileText({{"k", "-"}})).key(), "subscriber.k");
    EXPECT_EQ(loadError(profileText({{"opc", "-"}})).key(), "subscriber.opc");
    EXPECT_EQ(loadError(profileText({{"imsi", "-"}})).key(), "usim.imsi");
    EXPECT_EQ(loadError(profileText({{"impi", "-"}})).key(), "isim.impi");
    EXPECT_EQ(loadError(profileText({{"domain", "-"}})).code(), ProfileError::Code::Missing);
}

TEST(Profile, OpAndOpcTogetherAreRejected) {
    ProfileError error =
        loadError(profileText({{"subscriber.op", "cdc202d5123e20f62b6d676ac72cb318"}}));
    EXPECT_EQ(error.key(), "subscriber.op");
}

TEST(Profile, MissingFileIsReported) {
    try {
        loadProfile("/nonexistent/card.ini");
        FAIL() << "no error";
    } catch (const ProfileError& error) {
        EXPECT_EQ(error.code(), ProfileError::Code::CannotRead);
        EXPECT_NE(std::string(error.what()).find("/nonexistent/card.ini"), std::string::npos);
    }
}

}  // namespace
}  // namespace imsaka::vicc::test
