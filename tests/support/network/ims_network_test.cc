// The test network's own checks: its challenges are answerable by the subscriber's keys,
// and it tells a right answer from each kind of wrong one.
#include "imsaka/testing/ims_network.h"

#include <gtest/gtest.h>

namespace imsaka::testing {
namespace {

const std::string kUri = "sip:ims.mnc001.mcc001.3gppnetwork.org";
const std::string kImpi = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";

SipHeaders unprotectedRegister(
    sip::IntegrityAlgorithm integrity = sip::IntegrityAlgorithm::HmacSha1_96) {
    sip::SecurityCapabilities ours;
    ours.integrity = {integrity};
    ours.spiC = 1111;
    ours.spiS = 2222;
    ours.portC = 5100;
    ours.portS = 5101;
    auto offer = sip::buildSecurityClient(ours);
    return {{"Via", "SIP/2.0/UDP 10.46.0.1:5060"},
            {"From", "<sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=a1"},
            {"To", "<sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>"},
            {"Call-ID", "c1"},
            {"CSeq", "1 REGISTER"},
            {"Contact", "<sip:10.46.0.1:5060>;+sip.instance=\"<urn:uuid:1>\""},
            {"Security-Client", sip::formatSecurityHeader(offer)}};
}

// The REGISTER that answers a challenge, as the UE would build it from the card's answer.
SipHeaders answer(const Challenge& challenge, const sip::AkaResult& result) {
    auto digest = sip::parseWwwAuthenticate(*headerValue(challenge.headers, "WWW-Authenticate"));
    sip::DigestRequest request;
    request.username = kImpi;
    request.uri = kUri;
    request.cnonce = "c0ffee";
    auto credentials = sip::answerAkaChallenge(digest, request, result);
    return {{"Authorization", sip::formatAuthorization(credentials)},
            {"Security-Client", challenge.securityClient},
            {"Security-Verify", challenge.securityServer}};
}

sip::AkaSuccess cardAnswer(const Challenge& challenge) {
    milenage::Milenage card(*fromHex(ImsNetworkOptions{}.k), *fromHex(ImsNetworkOptions{}.opc));
    auto keys = card.f2345(challenge.vector.rand);
    return {keys.res, keys.ck, keys.ik};
}

TEST(ImsNetwork, ChallengeCarriesAVectorForTheNextSqnAndTheNetworksSecurityServer) {
    ImsNetwork network({.sqn = 64, .spiC = 7001, .spiS = 7002, .portC = 6200, .portS = 6201});
    const auto& challenge = network.challenge(unprotectedRegister());
    EXPECT_EQ(challenge.sqn, 64u);
    EXPECT_EQ(network.nextSqn(), 96u);
    auto digest = sip::parseWwwAuthenticate(*headerValue(challenge.headers, "www-authenticate"));
    EXPECT_EQ(digest.algorithm, sip::DigestAlgorithm::AkaV1Md5);
    auto nonce = sip::decodeAkaNonce(digest.nonce);
    EXPECT_EQ(Bytes(nonce.rand.begin(), nonce.rand.end()), challenge.vector.rand);
    EXPECT_EQ(Bytes(nonce.autn.begin(), nonce.autn.end()), challenge.vector.autn);
    auto server = sip::ipsecParameters(
        sip::parseSecurityHeader(*headerValue(challenge.headers, "Security-Server")).at(0));
    EXPECT_EQ(server.spiC, 7001u);
    EXPECT_EQ(server.spiS, 7002u);
    EXPECT_EQ(server.portC, 6200);
    EXPECT_EQ(server.portS, 6201);
    EXPECT_EQ(challenge.ue.spiC, 1111u);
    EXPECT_EQ(challenge.ue.portS, 5101);
    EXPECT_EQ(headerValue(challenge.headers, "i"), "c1");
    EXPECT_NE(headerValue(challenge.headers, "To")->find(";tag="), std::string::npos);
}

TEST(ImsNetwork, AcceptsTheSubscribersAnswerOnly) {
    ImsNetwork network;
    const auto& challenge = network.challenge(unprotectedRegister());
    auto good = network.checkAuthorization(answer(challenge, cardAnswer(challenge)), kUri);
    EXPECT_EQ(good.kind, AuthorizationKind::Valid);
    EXPECT_EQ(good.credentials.response, good.expectedResponse);
    EXPECT_TRUE(good.securityVerifyMatches);
    EXPECT_TRUE(good.securityClientMatches);

    auto wrongRes = cardAnswer(challenge);
    wrongRes.res[0] ^= 1;
    EXPECT_EQ(network.checkAuthorization(answer(challenge, wrongRes), kUri).kind,
              AuthorizationKind::WrongResponse);
    EXPECT_EQ(network.checkAuthorization(answer(challenge, sip::AkaMacFailure{}), kUri).kind,
              AuthorizationKind::MacFailure);
    EXPECT_THROW(network.checkAuthorization(answer(challenge, cardAnswer(challenge)), "sip:other"),
                 ImsNetworkError);
}

TEST(ImsNetwork, ReadsSqnMsFromAuts) {
    ImsNetwork network;
    const auto& challenge = network.challenge(unprotectedRegister());
    milenage::Milenage card(*fromHex(ImsNetworkOptions{}.k), *fromHex(ImsNetworkOptions{}.opc));
    auto auts = milenage::buildAuts(card, challenge.vector.rand, milenage::sqnFromInt(0x4000));
    auto check = network.checkAuthorization(answer(challenge, sip::AkaSyncFailure{auts}), kUri);
    EXPECT_EQ(check.kind, AuthorizationKind::SyncFailure);
    EXPECT_EQ(check.sqnMs, 0x4000u);
    network.resynchronise(*check.sqnMs);
    EXPECT_EQ(network.nextSqn(), 0x4020u);
}

TEST(ImsNetwork, RefusesAnOfferWithoutItsAlgorithms) {
    ImsNetwork network;
    EXPECT_THROW(network.challenge(unprotectedRegister(sip::IntegrityAlgorithm::HmacMd5_96)),
                 ImsNetworkError);
    EXPECT_THROW(network.lastChallenge(), ImsNetworkError);
}

TEST(ImsNetwork, OkCarriesContactExpiresAndTheRegistrationsUris) {
    ImsNetwork network;
    auto request = unprotectedRegister();
    request.emplace_back("Contact", "<sip:10.46.0.3:5060>;expires=600000;reg-id=2");
    auto ok = network.ok(request, 3600, {"sip:a@example.org", "tel:+1555"}, {"sip:scscf;lr"});
    EXPECT_EQ(headerValues(ok, "m"),
              (std::vector<std::string>{*headerValue(request, "Contact") + ";expires=3600",
                                        "<sip:10.46.0.3:5060>;reg-id=2;expires=3600"}));
    EXPECT_EQ(headerValues(ok, "P-Associated-URI"),
              (std::vector<std::string>{"<sip:a@example.org>", "<tel:+1555>"}));
    EXPECT_EQ(headerValue(ok, "Service-Route"), "<sip:scscf;lr>");
    EXPECT_EQ(headerValue(ok, "CSeq"), "1 REGISTER");
}

}  // namespace
}  // namespace imsaka::testing
