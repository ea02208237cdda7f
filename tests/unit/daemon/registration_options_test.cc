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
    EXPECT_FALSE(parsed.pcscfs);
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
    ASSERT_TRUE(parsed.pcscfs);
    ASSERT_EQ(parsed.pcscfs->size(), 1u);
    EXPECT_EQ(parsed.pcscfs->front().address, "2001:db8::10");
    EXPECT_FALSE(parsed.pcscfs->front().port);
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

// An ordered list of P-CSCFs to fail over along (24.229 5.1.1.2.1), each an IP literal with
// an optional port ("[v6]:port" for IPv6); entries without one use pcscf_port.
TEST(RegistrationOptions, PcscfMayBeAnOrderedListWithPorts) {
    auto parsed = parseRegistrationOptions(
        {{"pcscf", sdbus::Variant(std::vector<std::string>{
                       "192.0.2.10", "192.0.2.11:5070", "[2001:db8::10]:5080", "2001:db8::11"})}});
    ASSERT_TRUE(parsed.pcscfs);
    ASSERT_EQ(parsed.pcscfs->size(), 4u);
    EXPECT_EQ((*parsed.pcscfs)[0].address, "192.0.2.10");
    EXPECT_FALSE((*parsed.pcscfs)[0].port);
    EXPECT_EQ((*parsed.pcscfs)[1].address, "192.0.2.11");
    EXPECT_EQ((*parsed.pcscfs)[1].port, 5070);
    EXPECT_EQ((*parsed.pcscfs)[2].address, "2001:db8::10");
    EXPECT_EQ((*parsed.pcscfs)[2].port, 5080);
    EXPECT_EQ((*parsed.pcscfs)[3].address, "2001:db8::11");
    EXPECT_FALSE((*parsed.pcscfs)[3].port);
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

TEST(RegistrationOptions, PcscfIsAnAddressOrAHostName) {
    for (const char* pcscf :
         {"192.0.2.1", "2001:db8::1", "pcscf.ims.mnc001.mcc001.3gppnetwork.org"}) {
        auto parsed = parseRegistrationOptions({{"pcscf", sdbus::Variant(std::string(pcscf))}});
        ASSERT_TRUE(parsed.pcscfs);
        ASSERT_EQ(parsed.pcscfs->size(), 1u);
        EXPECT_EQ(parsed.pcscfs->front().address, pcscf);
    }
    auto named = parseRegistrationOptions(
        {{"pcscf", sdbus::Variant(std::string("pcscf.example.net:5070"))}});
    EXPECT_EQ(named.pcscfs->front().address, "pcscf.example.net");
    EXPECT_EQ(named.pcscfs->front().port, 5070);
}

TEST(RegistrationOptions, BadOptionsAreInvalidArgumentsNamingTheKey) {
    struct Case {
        const char* key;
        sdbus::Variant value;
    };
    std::vector<Case> cases;
    cases.push_back({"pcsfc", sdbus::Variant(std::string("192.0.2.1"))});
    cases.push_back({"pcscf", sdbus::Variant(std::string("pcscf..example.org"))});
    cases.push_back({"pcscf", sdbus::Variant(std::string("pcscf_1.example.org"))});
    cases.push_back({"pcscf", sdbus::Variant(std::string("192.0.2.1:0"))});
    cases.push_back({"pcscf", sdbus::Variant(std::string("pcscf.example.net:99999"))});
    cases.push_back({"pcscf", sdbus::Variant(uint32_t{1})});
    cases.push_back({"pcscf", sdbus::Variant(std::vector<std::string>{})});
    cases.push_back({"pcscf", sdbus::Variant(std::vector<std::string>{"192.0.2.1", "x..example"})});
    cases.push_back({"pcscf", sdbus::Variant(std::string("192.0.2.1:0"))});
    cases.push_back({"pcscf", sdbus::Variant(std::string("192.0.2.1:99999"))});
    cases.push_back({"pcscf", sdbus::Variant(std::string("[2001:db8::1]:"))});
    cases.push_back({"pcscf", sdbus::Variant(std::string("2001:db8::1:5060x"))});
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
