// RFC 3261 18.1.1 as TS 24.229 4.2A applies it: a REGISTER larger than 1300 bytes goes over
// TCP (the SA selectors cover both), whatever the registration's transport.
#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

// Identities and addresses of realistic length, six mechanisms, the feature tags of MMTel
// and SMS and an access network: a protected REGISTER well above 1300 bytes.
RegistrationConfig largeConfig() {
    auto config = testConfig("2a01:598:a1b2:c3d4:1234:5678:9abc:def0");
    config.pcscfs = {{"2a01:598:ffff:1::10", 5060}};
    config.impi = "262011234567890@ims.mnc001.mcc262.3gppnetwork.org";
    config.impu = "sip:+4915112345678@ims.mnc001.mcc262.3gppnetwork.org";
    config.homeDomain = "ims.mnc001.mcc262.3gppnetwork.org";
    config.encryption = {sip::EncryptionAlgorithm::Null, sip::EncryptionAlgorithm::DesEde3Cbc,
                         sip::EncryptionAlgorithm::AesCbc};
    config.featureTags = {"+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"",
                          "+g.3gpp.smsip"};
    config.extraHeaders = {
        {"P-Access-Network-Info", "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=2620100010000001A"},
        {"User-Agent", "imsaka-test/1.0"}};
    return config;
}

size_t textSize(const OutgoingRegister& request) {
    size_t size = std::string("REGISTER " + request.requestUri + " SIP/2.0\r\n").size();
    for (const auto& [name, value] : request.headers) size += name.size() + 2 + value.size() + 2;
    return size;
}

TEST(Transport, RequestSizeIsTheTextPlusWhatTheApplicationAdds) {
    RegistrationEngine engine(testConfig());
    OutgoingRegister request = startInitial(engine, at(0));
    EXPECT_EQ(requestSize(request), textSize(request) + kApplicationAllowance);
}

TEST(Transport, SmallRegistersStayOnUdp) {
    RegistrationEngine engine(testConfig());
    Network network;
    OutgoingRegister initial = startInitial(engine, at(0));
    EXPECT_EQ(initial.transport, Transport::Udp);
    auto vector = network.nextVector();
    engine.response(at(0), network.challenge(initial, vector));
    OutgoingRegister protectedRegister = answerWithSuccess(engine, at(0), vector);
    EXPECT_LE(requestSize(protectedRegister), 1300u);
    EXPECT_EQ(protectedRegister.transport, Transport::Udp);
    EXPECT_EQ(header(protectedRegister, "Via"), "SIP/2.0/UDP 10.0.0.2:6101");
}

TEST(Transport, ARegisterOver1300BytesGoesOverTcpWithItsVia) {
    RegistrationEngine engine(largeConfig());
    Network network;
    OutgoingRegister initial = startInitial(engine, at(0));
    auto vector = network.nextVector();
    engine.response(at(0), network.challenge(initial, vector));
    OutgoingRegister protectedRegister = answerWithSuccess(engine, at(0), vector);
    ASSERT_GT(requestSize(protectedRegister), 1300u);
    EXPECT_EQ(protectedRegister.transport, Transport::Tcp);
    EXPECT_TRUE(protectedRegister.protectedBySa);
    // RFC 3261 18.1.1: "the value in the top Via MUST be changed".
    EXPECT_EQ(header(protectedRegister, "Via"),
              "SIP/2.0/TCP [2a01:598:a1b2:c3d4:1234:5678:9abc:def0]:6101");
    // The unprotected REGISTER is judged on its own size.
    EXPECT_EQ(initial.transport, requestSize(initial) > 1300 ? Transport::Tcp : Transport::Udp);
    EXPECT_EQ(header(initial, "Via").substr(0, 12),
              requestSize(initial) > 1300 ? "SIP/2.0/TCP " : "SIP/2.0/UDP ");

    // The registration itself stays on UDP: a smaller REGISTER goes over UDP again.
    engine.response(at(0), network.ok(protectedRegister, 3600));
    RegistrationUpdate smaller;
    smaller.featureTags = std::vector<std::string>{};
    smaller.extraHeaders = std::vector<std::pair<std::string, std::string>>{};
    EXPECT_TRUE(has<action::ReserveSecurity>(engine.update(at(10), smaller)));
    OutgoingRegister refresh = sent(engine.securityReserved(at(10), kOfferBKeepingServerPort));
    EXPECT_EQ(refresh.transport, requestSize(refresh) > 1300 ? Transport::Tcp : Transport::Udp);
}

TEST(Transport, TheLimitIsConfigurable) {
    auto config = largeConfig();
    config.maxUdpSize = 4000;
    RegistrationEngine engine(config);
    Network network;
    OutgoingRegister initial = startInitial(engine, at(0));
    auto vector = network.nextVector();
    engine.response(at(0), network.challenge(initial, vector));
    EXPECT_EQ(answerWithSuccess(engine, at(0), vector).transport, Transport::Udp);
}

TEST(Transport, ATcpRegistrationStaysOnTcp) {
    auto config = testConfig();
    config.transport = Transport::Tcp;
    RegistrationEngine engine(config);
    EXPECT_EQ(startInitial(engine, at(0)).transport, Transport::Tcp);
}

}  // namespace
}  // namespace imsaka::daemon::test
