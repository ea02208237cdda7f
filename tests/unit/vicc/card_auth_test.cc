// AUTHENTICATE: results checked against the network-side Milenage, SQN handling
// after TS 33.102 Annex C, and the fault modes.
#include "card_fixture.h"

namespace imsaka::vicc::test {
namespace {

using milenage::AuthVector;

class Authenticate : public CardTest {
  protected:
    void select(const std::string& aid) { ASSERT_EQ(tx("00a4040c10" + aid), "9000"); }

    // The AUTS from a DC answer, checked and decoded by the network side.
    milenage::AutsResult decodeSyncFailure(const AuthVector& vector, const std::string& response) {
        EXPECT_EQ(sw(response), "9000");
        EXPECT_EQ(response.substr(0, 4), "dc0e");
        Bytes auts = *fromHex(response.substr(4, 28));
        return milenage::decodeAuts(*algorithm(), vector.rand, auts);
    }
};

std::string lv(const SecureBytes& value) {
    return toHex(Bytes{static_cast<uint8_t>(value.size())}) + toHex(value);
}

TEST_F(Authenticate, IsimAnswersResCkIkFromMilenage) {
    insert();
    select(kIsimAid);
    AuthVector vector = vectorFor(0x20);
    EXPECT_EQ(tx(authApdu(vector)),
              "db" + lv(vector.xres) + lv(vector.ck) + lv(vector.ik) + "9000");
    EXPECT_EQ(card->highestAcceptedSqn(), 0x20u);
}

TEST_F(Authenticate, UsimAddsKcFromC3) {
    insert();
    select(kUsimAid);
    AuthVector vector = vectorFor(0x20);
    SecureBytes kc(8);
    for (size_t i = 0; i < 8; ++i) {
        kc[i] = vector.ck[i] ^ vector.ck[i + 8] ^ vector.ik[i] ^ vector.ik[i + 8];
    }
    EXPECT_EQ(tx(authApdu(vector)),
              "db" + lv(vector.xres) + lv(vector.ck) + lv(vector.ik) + lv(kc) + "9000");
}

TEST_F(Authenticate, AnyAmfIsAccepted) {
    insert();
    select(kIsimAid);
    AuthVector vector =
        milenage::generateVector(*algorithm(), milenage::sqnFromInt(0x40), Bytes{0x12, 0x34});
    EXPECT_EQ(tx(authApdu(vector)).substr(0, 4), "db08");
}

TEST_F(Authenticate, MacFailureAnswers9862AndLeavesSqnStateUnchanged) {
    insert();
    select(kIsimAid);
    AuthVector vector = vectorFor(0x20);
    AuthVector damaged = vector;
    damaged.autn[15] ^= 0x01;
    EXPECT_EQ(tx(authApdu(damaged)), "9862");
    EXPECT_EQ(card->highestAcceptedSqn(), 0u);
    // A damaged SQN also fails the MAC, even one that would be far too new.
    damaged = vector;
    damaged.autn[0] ^= 0x80;
    EXPECT_EQ(tx(authApdu(damaged)), "9862");
    EXPECT_EQ(card->highestAcceptedSqn(), 0u);
    EXPECT_EQ(tx(authApdu(vector)).substr(0, 4), "db08");
}

TEST_F(Authenticate, StaleSqnGivesAutsThatDecodesToSqnMsWithValidMacS) {
    insert();
    select(kIsimAid);
    AuthVector first = vectorFor(0x40);
    ASSERT_EQ(tx(authApdu(first)).substr(0, 4), "db08");
    AuthVector replay = vectorFor(0x40);
    milenage::AutsResult result = decodeSyncFailure(replay, tx(authApdu(replay)));
    EXPECT_EQ(milenage::sqnToInt(result.sqnMs), 0x40u);
    EXPECT_TRUE(result.macValid);
    EXPECT_EQ(card->highestAcceptedSqn(), 0x40u);
}

TEST_F(Authenticate, InitialSqnFromTheProfileCountsAsAccepted) {
    insert({{"sqn", "000000000100"}});
    select(kUsimAid);
    AuthVector stale = vectorFor(0x100);
    milenage::AutsResult result = decodeSyncFailure(stale, tx(authApdu(stale)));
    EXPECT_EQ(milenage::sqnToInt(result.sqnMs), 0x100u);
    EXPECT_TRUE(result.macValid);
    EXPECT_EQ(tx(authApdu(vectorFor(0x120))).substr(0, 4), "db08");
}

TEST_F(Authenticate, OlderSeqInAnotherIndSlotIsAccepted) {
    insert();
    select(kIsimAid);
    auto sqn = [](uint64_t seq, uint64_t ind) { return seq << 5 | ind; };
    ASSERT_EQ(tx(authApdu(vectorFor(sqn(10, 1)))).substr(0, 4), "db08");
    EXPECT_EQ(tx(authApdu(vectorFor(sqn(5, 2)))).substr(0, 4), "db08");
    EXPECT_EQ(card->highestAcceptedSqn(), sqn(10, 1));
    AuthVector sameSlot = vectorFor(sqn(5, 1));
    milenage::AutsResult result = decodeSyncFailure(sameSlot, tx(authApdu(sameSlot)));
    EXPECT_EQ(milenage::sqnToInt(result.sqnMs), sqn(10, 1));
    EXPECT_EQ(tx(authApdu(vectorFor(sqn(6, 2)))).substr(0, 4), "db08");
    EXPECT_EQ(tx(authApdu(vectorFor(sqn(6, 2)))).substr(0, 4), "dc0e");
}

TEST_F(Authenticate, SqnBeyondTheDeltaLimitGivesAuts) {
    insert({{"delta", "16"}});
    select(kIsimAid);
    AuthVector tooFar = vectorFor(17 << 5);
    milenage::AutsResult result = decodeSyncFailure(tooFar, tx(authApdu(tooFar)));
    EXPECT_EQ(milenage::sqnToInt(result.sqnMs), 0u);
    EXPECT_TRUE(result.macValid);
    EXPECT_EQ(tx(authApdu(vectorFor(16 << 5))).substr(0, 4), "db08");
    EXPECT_EQ(tx(authApdu(vectorFor(32 << 5))).substr(0, 4), "db08");
    EXPECT_EQ(tx(authApdu(vectorFor(49 << 5))).substr(0, 4), "dc0e");
}

TEST_F(Authenticate, SqnStateSurvivesPowerCycles) {
    insert();
    select(kIsimAid);
    ASSERT_EQ(tx(authApdu(vectorFor(0x60))).substr(0, 4), "db08");
    card->powerOff();
    card->powerOn();
    select(kIsimAid);
    EXPECT_EQ(tx(authApdu(vectorFor(0x60))).substr(0, 4), "dc0e");
}

TEST_F(Authenticate, MalformedCommandsAreRefused) {
    insert();
    AuthVector vector = vectorFor(0x20);
    std::string apdu = authApdu(vector);
    EXPECT_EQ(tx(apdu), "6985");  // no application selected
    select(kIsimAid);
    EXPECT_EQ(tx("00880080" + apdu.substr(8)), "9864");
    EXPECT_EQ(tx("00880181" + apdu.substr(8)), "6a86");
    EXPECT_EQ(tx("0088008121" + apdu.substr(10, 66)), "6700");
    EXPECT_EQ(tx("008800812210" + std::string(64, '0') + "00"), "6700");  // no AUTN tag
    EXPECT_EQ(tx("0088008100"), "6700");
    select(kUsimAid);
    EXPECT_EQ(tx("00880080" + apdu.substr(8)), "9864");
    EXPECT_EQ(card->highestAcceptedSqn(), 0u);
}

TEST_F(Authenticate, XorAlgorithmGivesSixteenByteRes) {
    insert({{"algorithm", "xor"}, {"k", "000102030405060708090a0b0c0d0e0f"}});
    select(kIsimAid);
    milenage::XorTestAlgorithm xorAlgorithm(*fromHex("000102030405060708090a0b0c0d0e0f"));
    AuthVector vector = milenage::generateVector(xorAlgorithm, milenage::sqnFromInt(0x20),
                                                 Bytes{0, 0}, ByteView(Bytes(16, 0)));
    EXPECT_EQ(tx(authApdu(vector)),
              "db" + lv(vector.xres) + lv(vector.ck) + lv(vector.ik) + "9000");
    EXPECT_EQ(vector.xres.size(), 16u);
}

TEST_F(Authenticate, UnknownSwFaultAnswers6F42AndChangesNothing) {
    insert({}, Fault::UnknownSw);
    select(kIsimAid);
    EXPECT_EQ(tx(authApdu(vectorFor(0x20))), "6f42");
    EXPECT_EQ(card->highestAcceptedSqn(), 0u);
}

TEST_F(Authenticate, GarbageFaultAnswersRandomBytesWith9000) {
    insert({}, Fault::GarbageAuth);
    select(kIsimAid);
    std::string first = tx(authApdu(vectorFor(0x20)));
    std::string second = tx(authApdu(vectorFor(0x20)));
    EXPECT_EQ(sw(first), "9000");
    EXPECT_NE(first.substr(0, 2), "db");
    EXPECT_NE(first.substr(0, 2), "dc");
    EXPECT_NE(first, second);
    EXPECT_EQ(card->highestAcceptedSqn(), 0u);
}

TEST_F(Authenticate, TruncatedFaultAnswersADbTlvThatEndsInsideCk) {
    insert({}, Fault::TruncatedAuth);
    select(kIsimAid);
    std::string response = tx(authApdu(vectorFor(0x20)));
    EXPECT_EQ(sw(response), "9000");
    std::string body = data(response);
    EXPECT_EQ(body.substr(0, 4), "db08");
    EXPECT_EQ(body.substr(20, 2), "10");
    EXPECT_LT(body.size() / 2, 2u + 8u + 1u + 16u);
    EXPECT_EQ(card->highestAcceptedSqn(), 0u);
}

TEST(ParseFault, KnowsEveryKind) {
    EXPECT_EQ(parseFault("garbage-auth"), Fault::GarbageAuth);
    EXPECT_EQ(parseFault("truncated-auth"), Fault::TruncatedAuth);
    EXPECT_EQ(parseFault("unknown-sw"), Fault::UnknownSw);
    EXPECT_EQ(parseFault("truncated-dir"), Fault::TruncatedDir);
    EXPECT_EQ(parseFault("none"), Fault::None);
    EXPECT_FALSE(parseFault("bogus").has_value());
}

}  // namespace
}  // namespace imsaka::vicc::test
