// What the application adds to its REGISTERs: Contact feature tags (24.229 5.1.1.2.1 c)) and
// extra headers (P-Access-Network-Info, 5.1.1.2.1 h); User-Agent), kept on every REGISTER,
// changed later, and a changed feature-tag set registered again (5.1.1.4.1).
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

using ::testing::ElementsAre;

const std::string kMmtel = "+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"";
const std::string kSms = "+g.3gpp.smsip";
const std::string kPani = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=2620100010000001A";

RegistrationConfig withCapabilities() {
    auto config = testConfig();
    config.featureTags = {kMmtel, kSms};
    config.extraHeaders = {{"User-Agent", "imsaka-test/1"}, {"P-Access-Network-Info", kPani}};
    return config;
}

std::string contactOf(const OutgoingRegister& request) {
    std::string contact = header(request, "Contact");
    return contact.substr(0, contact.find(";expires="));
}

std::string messageOf(const std::function<void()>& call) {
    try {
        call();
    } catch (const EngineError& error) {
        return error.what();
    }
    return "";
}

TEST(Capabilities, FeatureTagsAndHeadersGoOnEveryRegisterAndPaniOnlyOverSas) {
    RegistrationEngine engine(withCapabilities());
    Network network;
    OutgoingRegister initial = startInitial(engine, at(0));
    const std::string expected = "<sip:10.0.0.2:6101>;+sip.instance=\"" + std::string(kInstance) +
                                 "\";" + kMmtel + ";" + kSms;
    EXPECT_EQ(contactOf(initial), expected);
    EXPECT_EQ(header(initial, "User-Agent"), "imsaka-test/1");
    // 24.229 5.1.1.2.1 h): P-Access-Network-Info only once a security association exists.
    EXPECT_TRUE(headers(initial, "P-Access-Network-Info").empty());

    auto vector = network.nextVector();
    engine.response(at(0), network.challenge(initial, vector));
    OutgoingRegister protectedRegister = answerWithSuccess(engine, at(0), vector);
    EXPECT_EQ(contactOf(protectedRegister), expected);
    EXPECT_EQ(header(protectedRegister, "User-Agent"), "imsaka-test/1");
    EXPECT_EQ(header(protectedRegister, "P-Access-Network-Info"), kPani);

    engine.response(at(1), network.ok(protectedRegister, 3600));
    engine.registerNow(at(1800));
    OutgoingRegister refresh = sent(engine.securityReserved(at(1800), kOfferBKeepingServerPort));
    EXPECT_EQ(contactOf(refresh), expected);
    EXPECT_EQ(header(refresh, "P-Access-Network-Info"), kPani);
    engine.response(at(1800), network.ok(refresh, 3600));

    engine.deregister(at(1900));
    // 24.229 5.1.1.6: the de-REGISTER makes an offer of its own (new SPIs and client port).
    OutgoingRegister deregister = sent(engine.securityReserved(at(1900), {6300, 6101, 5555, 6666}));
    EXPECT_EQ(contactOf(deregister), expected);
    EXPECT_EQ(header(deregister, "P-Access-Network-Info"), kPani);
}

TEST(Capabilities, HeadersTheEngineWritesAreRefusedByName) {
    for (const char* name : {"Contact", "m", "via", "Call-ID", "CSeq", "Expires", "Authorization",
                             "Security-Client", "security-verify", "Require", "Proxy-Require",
                             "Supported", "k", "Max-Forwards", "Content-Length", "l"}) {
        auto config = testConfig();
        config.extraHeaders = {{"User-Agent", "x"}, {name, "1"}};
        std::string message = messageOf([&] { RegistrationEngine engine(config); });
        EXPECT_NE(message.find(name), std::string::npos) << name << ": " << message;
        EXPECT_EQ(errorOf([&] { RegistrationEngine engine(config); }), EngineErrc::InvalidConfig);
    }
}

TEST(Capabilities, MalformedHeadersAndFeatureTagsAreRefused) {
    std::vector<std::pair<std::string, std::string>> badHeaders = {
        {"", "x"}, {"User Agent", "x"}, {"User-Agent", "a\r\nVia: SIP/2.0/UDP evil"}, {"X:Y", "x"}};
    for (const auto& bad : badHeaders) {
        auto config = testConfig();
        config.extraHeaders = {bad};
        EXPECT_EQ(errorOf([&] { RegistrationEngine engine(config); }), EngineErrc::InvalidConfig)
            << bad.first;
    }
    for (const char* bad :
         {"+sip.instance=\"<urn:uuid:1>\"", "reg-id=2", "expires=5", "", "+g.3gpp.smsip;+x",
          "+a=\"unterminated", "+a b", "+a=\"x\r\n\"", "+g.3gpp.smsip"}) {
        auto config = testConfig();
        config.featureTags = {"+g.3gpp.smsip", bad};  // the last one doubles a tag
        EXPECT_EQ(errorOf([&] { RegistrationEngine engine(config); }), EngineErrc::InvalidConfig)
            << bad;
    }
    auto config = testConfig();
    config.featureTags = {"+g.3gpp.icsi-ref=\"a,b\"", "video", "+u.tag=\"#<3\"", "+t=token"};
    EXPECT_NO_THROW(RegistrationEngine engine(config));
}

class RegisteredWithCapabilities : public ::testing::Test {
  protected:
    void SetUp() override { first_ = registerFully(engine_, network_, at(0), 3600); }

    RegistrationEngine engine_{withCapabilities()};
    Network network_;
    OutgoingRegister first_;
};

// 24.229 5.1.1.4.1: the UE re-registers "when the UE needs to modify the ICSI values that
// the UE intends to use in a g.3gpp.icsi-ref media feature tag".
TEST_F(RegisteredWithCapabilities, ChangedFeatureTagsRegisterAgainAtOnce) {
    RegistrationUpdate update;
    update.featureTags = std::vector<std::string>{kMmtel};
    EXPECT_THAT(describe(engine_.update(at(10), update)),
                ElementsAre("StateChanged(reregistering)", "ReserveSecurity(6101)"));
    OutgoingRegister refresh = sent(engine_.securityReserved(at(10), kOfferBKeepingServerPort));
    EXPECT_EQ(contactOf(refresh),
              "<sip:10.0.0.2:6101>;+sip.instance=\"" + std::string(kInstance) + "\";" + kMmtel);
    EXPECT_TRUE(refresh.protectedBySa);
}

TEST_F(RegisteredWithCapabilities, TheSameTagsInAnotherOrderChangeNothing) {
    RegistrationUpdate update;
    update.featureTags = std::vector<std::string>{kSms, kMmtel};
    EXPECT_TRUE(engine_.update(at(10), update).empty());
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

// P-Access-Network-Info changes with the access; it needs no registration of its own.
TEST_F(RegisteredWithCapabilities, NewHeadersGoOnTheNextRegisterWithoutOne) {
    RegistrationUpdate update;
    update.extraHeaders = std::vector<std::pair<std::string, std::string>>{
        {"P-Access-Network-Info", "IEEE-802.11; i-wlan-node-id=ffeeddccbbaa"}};
    EXPECT_TRUE(engine_.update(at(10), update).empty());
    engine_.registerNow(at(1800));
    OutgoingRegister refresh = sent(engine_.securityReserved(at(1800), kOfferBKeepingServerPort));
    EXPECT_EQ(header(refresh, "P-Access-Network-Info"), "IEEE-802.11; i-wlan-node-id=ffeeddccbbaa");
    EXPECT_TRUE(headers(refresh, "User-Agent").empty());
    // The feature tags were not part of this update: they stay.
    EXPECT_NE(contactOf(refresh).find(kSms), std::string::npos);
}

TEST_F(RegisteredWithCapabilities, ATagChangeDuringARefreshRegistersAgainAfterIt) {
    engine_.registerNow(at(1800));
    OutgoingRegister refresh = sent(engine_.securityReserved(at(1800), kOfferBKeepingServerPort));
    RegistrationUpdate update;
    update.featureTags = std::vector<std::string>{kMmtel};
    EXPECT_TRUE(engine_.update(at(1801), update).empty());
    Actions actions = engine_.response(at(1802), network_.ok(refresh, 3600));
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
    EXPECT_EQ(one<action::RefreshDue>(actions).reason, RefreshReason::Capabilities);
    // The REGISTER that follows carries the new set.
    engine_.registerNow(at(1803));
    OutgoingRegister next = sent(engine_.securityReserved(at(1803), kOfferBKeepingServerPort));
    EXPECT_EQ(contactOf(next).find(kSms), std::string::npos);
    EXPECT_TRUE(engine_.response(at(1804), network_.ok(next, 3600)).size() > 0);
}

TEST_F(RegisteredWithCapabilities, ARefusedUpdateChangesNothing) {
    RegistrationUpdate update;
    update.featureTags = std::vector<std::string>{"+g.3gpp.smsip"};
    update.extraHeaders = std::vector<std::pair<std::string, std::string>>{{"Contact", "<x>"}};
    EXPECT_EQ(errorOf([&] { engine_.update(at(10), update); }), EngineErrc::InvalidConfig);
    EXPECT_EQ(engine_.config().featureTags, (std::vector<std::string>{kMmtel, kSms}));
    EXPECT_EQ(engine_.config().extraHeaders.size(), 2u);
    EXPECT_EQ(engine_.state(), RegistrationState::Registered);
}

TEST(Capabilities, UpdateBeforeRegisteringOnlyChangesWhatTheFirstRegisterCarries) {
    RegistrationEngine engine(testConfig());
    RegistrationUpdate update;
    update.featureTags = std::vector<std::string>{kSms};
    EXPECT_TRUE(engine.update(at(0), update).empty());
    OutgoingRegister initial = startInitial(engine, at(0));
    EXPECT_NE(contactOf(initial).find(kSms), std::string::npos);
}

}  // namespace
}  // namespace imsaka::daemon::test
