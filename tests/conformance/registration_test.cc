// TS 34.229-1 clause 8.1, Initial registration: the generic procedure of Annex C.2 with the
// checks of 8.1.5 and of the default messages A.1.1 to A.1.6, with an ISIM (both integrity
// algorithms, as 8.1.4's NOTE asks, over UDP and TCP, IPv4 and IPv6) and with a USIM alone
// (identities derived from the IMSI, TS 23.003 13; SUBSCRIBE with the default public
// identity, A.1.4 NOTE 2). Each case ends with the deregistration of Annex C.30.
#include "conformance_case.h"

namespace imsaka::conformance {
namespace {

struct Variant {
    Addresses addresses;
    Transport transport;
    const char* integrity;
    const char* encryption;
};

std::string variantName(const ::testing::TestParamInfo<Variant>& info) {
    std::string name = std::string(info.param.addresses.name) + "_" +
                       (info.param.transport == Transport::Udp ? "udp" : "tcp") + "_" +
                       info.param.integrity + "_" + info.param.encryption;
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

void PrintTo(const Variant& variant, std::ostream* out) {
    *out << variant.addresses.name << " " << toString(variant.transport) << " " << variant.integrity
         << "/" << variant.encryption;
}

class Ts34229_8_1_InitialRegistration : public ConformanceCase,
                                        public ::testing::WithParamInterface<Variant> {};

TEST_P(Ts34229_8_1_InitialRegistration, WithIsimEveryMessageAsAnnexAAsksAndDeregisters) {
    const Variant& variant = GetParam();
    CaseSetup setup;
    setup.addresses = variant.addresses;
    setup.transport = variant.transport;
    if (!start(setup)) return;
    run([&] {
        RegisterSteps steps;
        steps.challenge.integrity = variant.integrity;
        steps.challenge.encryption = variant.encryption;
        Registration registration = registerUe(steps);
        // 8.1.3 5): the UE uses the pair the P-CSCF prefers (q=0.9), which is the only one
        // the SS keyed: the protected REGISTER would not have arrived otherwise.
        EXPECT_EQ(registration.set.integrity, variant.integrity);
        EXPECT_EQ(registration.set.encryption, variant.encryption);
        checkWire();
        deregisterUe(registration);
    });
}

INSTANTIATE_TEST_SUITE_P(
    , Ts34229_8_1_InitialRegistration,
    ::testing::Values(Variant{kIpv4, Transport::Udp, "hmac-sha-1-96", "null"},
                      Variant{kIpv4, Transport::Tcp, "hmac-md5-96", "aes-cbc"},
                      Variant{kIpv6, Transport::Udp, "hmac-md5-96", "null"},
                      Variant{kIpv6, Transport::Tcp, "hmac-sha-1-96", "aes-cbc"},
                      Variant{kIpv6Long, Transport::Udp, "hmac-sha-1-96", "aes-cbc"}),
    variantName);

class Ts34229_8_1_InitialRegistrationUsimOnly : public ConformanceCase {};

// A card with a USIM and no ISIM, from a network with a 3-digit MNC: 23.003 13.3 and 13.4
// derive "<IMSI>@ims.mnc310.mcc310.3gppnetwork.org" for the private identity, "sip:" and the
// same for the temporary public identity, "ims.mnc310.mcc310.3gppnetwork.org" for the
// domain. The network does not list the temporary identity in P-Associated-URI (A.1.3
// NOTE 1), so it is barred and the subscription uses the default identity (24.229 5.1.1.3).
TEST_F(Ts34229_8_1_InitialRegistrationUsimOnly, IdentitiesDerivedFromTheImsi) {
    CaseSetup setup;
    setup.ue.card.isim = false;
    setup.ue.card.imsi = "310310987654321";
    setup.ue.card.mncLength = 3;
    if (!start(setup)) return;
    run([&] {
        EXPECT_EQ(identity().impi, "310310987654321@ims.mnc310.mcc310.3gppnetwork.org");
        Registration registration = registerUe();
        checkWire();
        deregisterUe(registration);
    });
}

class Ts34229_10_1_SubscribeServiceUnavailable : public ConformanceCase {};

// 34.229-1 10.1 (24.229 5.1.2.2): 503 with Retry-After to the reg-event SUBSCRIBE; no new
// SUBSCRIBE before that time, then one with another Call-ID, and C.2 from step 9.
TEST_F(Ts34229_10_1_SubscribeServiceUnavailable, SubscribesAgainAfterRetryAfter) {
    if (!start({})) return;
    run([&] {
        RegisterSteps steps;
        steps.subscribe = false;
        Registration registration = registerUe(steps);
        Inbound first = ss().expectRequest("SUBSCRIBE");
        expectOnSet(first, registration.set, "the SUBSCRIBE");
        ss().respond(first, 503, "Service Unavailable", {{"Retry-After", "6"}});
        auto answeredAt = Clock::now();
        Inbound again = ss().expectRequest("SUBSCRIBE", 60s);
        EXPECT_GE(std::chrono::duration<double>(again.at - answeredAt).count(), 6 * 0.95)
            << "10.1.5 step 3: no SUBSCRIBE before Retry-After";
        EXPECT_NE(again.message.first("Call-ID"), first.message.first("Call-ID"))
            << "10.1.4 step 4: another Call-ID";
        Subscription subscription = ss().acceptSubscribe(again);
        Sent notify =
            ss().notify(registration.set, transport(), subscription, "active;expires=600000",
                        reginfo(registration, "active", "registered", std::nullopt));
        Inbound answer = ss().expectResponse(notify);
        expectOnSet(answer, registration.set, "the 200 to the NOTIFY");
        checkWire();
        deregisterUe(registration);
    });
}

}  // namespace
}  // namespace imsaka::conformance
