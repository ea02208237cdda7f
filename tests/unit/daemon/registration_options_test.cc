#include "registration_options.h"

#include <gtest/gtest.h>

#include "imsaka/daemon/errors.h"

namespace imsaka::daemon {
namespace {

using Options = std::map<std::string, sdbus::Variant>;

DaemonError errorOf(const Options& options) {
    try {
        parseRegistrationOptions(options);
    } catch (const DaemonError& e) {
        return e;
    }
    ADD_FAILURE() << "no error";
    return DaemonError(DaemonErrc::Failed, "");
}

TEST(RegistrationOptions, NoOptionsLeaveEverythingToTheDefaults) {
    auto parsed = parseRegistrationOptions({});
    EXPECT_FALSE(parsed.card);
    EXPECT_FALSE(parsed.pcscf);
    EXPECT_FALSE(parsed.transport);
}

TEST(RegistrationOptions, EveryOptionIsRead) {
    auto parsed = parseRegistrationOptions({
        {"card", sdbus::Variant(sdbus::ObjectPath("/org/imsaka/card/1"))},
        {"impu", sdbus::Variant(std::string("tel:+15550000001"))},
        {"pcscf", sdbus::Variant(std::string("2001:db8::10"))},
        {"pcscf_port", sdbus::Variant(uint16_t{5062})},
        {"local_address", sdbus::Variant(std::string("2001:db8::1"))},
        {"transport", sdbus::Variant(std::string("tcp"))},
        {"reg_id", sdbus::Variant(uint32_t{2})},
        {"expires", sdbus::Variant(uint32_t{3600})},
        {"integrity", sdbus::Variant(std::vector<std::string>{"hmac-md5-96"})},
        {"encryption", sdbus::Variant(std::vector<std::string>{"aes-cbc", "null"})},
    });
    EXPECT_EQ(parsed.card, "/org/imsaka/card/1");
    EXPECT_EQ(parsed.impu, "tel:+15550000001");
    EXPECT_EQ(parsed.pcscf, "2001:db8::10");
    EXPECT_EQ(parsed.pcscfPort, 5062);
    EXPECT_EQ(parsed.localAddress, "2001:db8::1");
    EXPECT_EQ(parsed.transport, Transport::Tcp);
    EXPECT_EQ(parsed.regId, 2u);
    EXPECT_EQ(parsed.expires, 3600u);
    ASSERT_TRUE(parsed.integrity);
    EXPECT_EQ(parsed.integrity->front(), sip::IntegrityAlgorithm::HmacMd5_96);
    ASSERT_TRUE(parsed.encryption);
    EXPECT_EQ(parsed.encryption->size(), 2u);
}

using HeaderList = std::vector<sdbus::Struct<std::string, std::string>>;

TEST(RegistrationOptions, FeatureTagsAndHeadersAreRead) {
    auto parsed = parseRegistrationOptions({
        {"feature_tags", sdbus::Variant(std::vector<std::string>{"+g.3gpp.smsip"})},
        {"headers", sdbus::Variant(HeaderList{{"User-Agent", "dialer/2"},
                                              {"P-Access-Network-Info", "3GPP-E-UTRAN-FDD"}})},
    });
    EXPECT_EQ(parsed.featureTags, (std::vector<std::string>{"+g.3gpp.smsip"}));
    ASSERT_TRUE(parsed.extraHeaders);
    ASSERT_EQ(parsed.extraHeaders->size(), 2u);
    EXPECT_EQ(parsed.extraHeaders->at(1).first, "P-Access-Network-Info");
    EXPECT_EQ(parsed.extraHeaders->at(1).second, "3GPP-E-UTRAN-FDD");
}

TEST(RegistrationOptions, AnUpdateTakesFeatureTagsAndHeadersOnly) {
    auto update = parseRegistrationUpdate(
        {{"headers", sdbus::Variant(HeaderList{{"P-Access-Network-Info", "IEEE-802.11"}})}});
    EXPECT_FALSE(update.featureTags);
    ASSERT_TRUE(update.extraHeaders);
    EXPECT_EQ(update.extraHeaders->at(0).second, "IEEE-802.11");
    for (const Options& bad :
         {Options{{"expires", sdbus::Variant(uint32_t{60})}},
          Options{{"feature_tags", sdbus::Variant(std::string("+g.3gpp.smsip"))}},
          Options{{"headers", sdbus::Variant(std::vector<std::string>{"User-Agent: x"})}}}) {
        try {
            parseRegistrationUpdate(bad);
            ADD_FAILURE() << "no error for " << bad.begin()->first;
        } catch (const DaemonError& e) {
            EXPECT_EQ(e.code(), DaemonErrc::InvalidArguments);
            EXPECT_NE(std::string(e.what()).find(bad.begin()->first), std::string::npos)
                << e.what();
        }
    }
}

TEST(RegistrationOptions, CardMayBeAReaderName) {
    auto parsed =
        parseRegistrationOptions({{"card", sdbus::Variant(std::string("Virtual PCD 00 00"))}});
    EXPECT_EQ(parsed.card, "Virtual PCD 00 00");
}

TEST(RegistrationOptions, BadOptionsAreInvalidArgumentsNamingTheKey) {
    struct Case {
        const char* key;
        sdbus::Variant value;
    };
    std::vector<Case> cases;
    cases.push_back({"pcsfc", sdbus::Variant(std::string("192.0.2.1"))});
    cases.push_back({"pcscf", sdbus::Variant(std::string("pcscf.example.org"))});
    cases.push_back({"pcscf", sdbus::Variant(uint32_t{1})});
    cases.push_back({"pcscf_port", sdbus::Variant(uint32_t{5060})});
    cases.push_back({"pcscf_port", sdbus::Variant(uint16_t{0})});
    cases.push_back({"local_address", sdbus::Variant(std::string("192.0.2.300"))});
    cases.push_back({"transport", sdbus::Variant(std::string("sctp"))});
    cases.push_back({"reg_id", sdbus::Variant(uint32_t{0})});
    cases.push_back({"expires", sdbus::Variant(uint32_t{0})});
    cases.push_back({"impu", sdbus::Variant(std::string("alice@example.org"))});
    cases.push_back({"integrity", sdbus::Variant(std::vector<std::string>{"hmac-sha-256"})});
    cases.push_back({"encryption", sdbus::Variant(std::vector<std::string>{})});
    for (const auto& [key, value] : cases) {
        auto error = errorOf({{key, value}});
        EXPECT_EQ(error.code(), DaemonErrc::InvalidArguments) << key;
        EXPECT_NE(std::string(error.what()).find(std::string("option ") + key), std::string::npos)
            << error.what();
    }
}

}  // namespace
}  // namespace imsaka::daemon
