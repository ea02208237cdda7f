// cardio through the real PC/SC stack: pcscd, the vpcd reader driver, and imsaka-vicc.
// Runs inside tests/integration/pcsc-sandbox.sh (a private pcscd with two readers).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>

#include "imsaka/cardio/card.h"
#include "imsaka/cardio/error.h"
#include "imsaka/cardio/pcsc.h"
#include "imsaka/milenage/milenage.h"
#include "imsaka/testing/card_errors.h"
#include "virtual_card.h"

namespace imsaka::cardio {
namespace {

using imsaka::testing::errorOf;

using testing::CardProfile;
using testing::VirtualCard;

constexpr int kFirstPort = 35963, kSecondPort = 35964;

// The network side: vectors for SQN = SEQ || IND (5-bit IND), as an HSS would make them.
struct Network {
    milenage::Milenage algorithm{*fromHex(testing::kK), *fromHex(testing::kOpc)};
    milenage::AuthVector vector(uint64_t seq, uint64_t ind = 0) {
        Bytes amf{0x80, 0x00};
        return milenage::generateVector(algorithm, milenage::sqnFromInt(seq << 5 | ind), amf);
    }
    void expectAccepted(Card& card, uint64_t seq);
};

void expectSuccess(const AuthResult& result, const milenage::AuthVector& vector) {
    ASSERT_EQ(result.kind, AuthResult::Kind::Success);
    EXPECT_EQ(toHex(result.res), toHex(vector.xres));
    EXPECT_EQ(toHex(result.ck), toHex(vector.ck));
    EXPECT_EQ(toHex(result.ik), toHex(vector.ik));
}

void Network::expectAccepted(Card& card, uint64_t seq) {
    auto challenge = vector(seq);
    expectSuccess(card.authenticate(challenge.rand, challenge.autn), challenge);
}

CardOptions optionsFor(const VirtualCard& card) {
    return {.reader = card.reader(), .session = {}};
}

TEST(CardThroughPcsc, IsimCardGivesEveryIdentity) {
    VirtualCard virtualCard(CardProfile{}, kFirstPort);
    Card card(optionsFor(virtualCard));
    CardInfo info = card.info();
    EXPECT_EQ(info.selected.type, AppType::Isim);
    EXPECT_EQ(info.applications.size(), 2u);
    EXPECT_TRUE(info.logicalChannel);
    ASSERT_TRUE(info.identities);
    const Identities& ids = *info.identities;
    EXPECT_EQ(ids.source, AppType::Isim);
    EXPECT_EQ(ids.impi, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    EXPECT_EQ(ids.impus, CardProfile{}.impus);
    EXPECT_EQ(ids.homeDomain, "ims.mnc001.mcc001.3gppnetwork.org");
    ASSERT_EQ(ids.pcscfs.size(), 3u);
    EXPECT_EQ(ids.pcscfs[0].address, "pcscf.ims.mnc001.mcc001.3gppnetwork.org");
    EXPECT_EQ(ids.pcscfs[1].kind, PcscfAddress::Kind::Ipv4);
    EXPECT_EQ(ids.pcscfs[1].address, "192.0.2.10");
    EXPECT_EQ(ids.pcscfs[2].address, "2001:db8::10");
}

TEST(CardThroughPcsc, PcscfAddressesReadInEveryEncoding) {
    for (std::string encoding : {"text", "filler"}) {
        CardProfile profile;
        profile.pcscfEncoding = encoding;
        VirtualCard virtualCard(profile, kFirstPort);
        Card card(optionsFor(virtualCard));
        auto ids = card.identities();
        ASSERT_EQ(ids.pcscfs.size(), 3u) << encoding;
        EXPECT_EQ(ids.pcscfs[1].address, "192.0.2.10") << encoding;
        EXPECT_EQ(ids.pcscfs[2].address, "2001:db8::10") << encoding;
    }
}

TEST(CardThroughPcsc, UsimOnlyCardGivesDerivedIdentities) {
    CardProfile profile;
    profile.isim = false;
    profile.imsi = "310150123456789";
    profile.mncLength = 3;
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    auto info = card.info();
    EXPECT_EQ(info.selected.type, AppType::Usim);
    ASSERT_TRUE(info.identities);
    EXPECT_EQ(info.identities->imsi, "310150123456789");
    EXPECT_EQ(info.identities->impi, "310150123456789@ims.mnc150.mcc310.3gppnetwork.org");
    EXPECT_EQ(info.identities->impus.at(0),
              "sip:310150123456789@ims.mnc150.mcc310.3gppnetwork.org");
}

TEST(CardThroughPcsc, AuthenticationMatchesAnIndependentMilenage) {
    VirtualCard virtualCard(CardProfile{}, kFirstPort);
    Card card(optionsFor(virtualCard));
    Network network;
    for (uint64_t seq = 1; seq <= 3; ++seq) {
        auto vector = network.vector(seq);
        expectSuccess(card.authenticate(vector.rand, vector.autn), vector);
    }
}

TEST(CardThroughPcsc, StaleSqnGivesAutsThatDecodesToTheCardsSqn) {
    CardProfile profile;
    profile.sqn = 40 << 5;
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    Network network;
    network.expectAccepted(card, 41);

    auto stale = network.vector(41);  // replayed SEQ in the same IND slot
    auto result = card.authenticate(stale.rand, stale.autn);
    ASSERT_EQ(result.kind, AuthResult::Kind::SyncFailure);
    auto decoded = milenage::decodeAuts(network.algorithm, stale.rand, result.auts);
    EXPECT_TRUE(decoded.macValid);
    EXPECT_EQ(milenage::sqnToInt(decoded.sqnMs), uint64_t{41} << 5);
}

TEST(CardThroughPcsc, MacFailureIsNamedAndChangesNothing) {
    VirtualCard virtualCard(CardProfile{}, kFirstPort);
    Card card(optionsFor(virtualCard));
    Network network;
    auto vector = network.vector(5);
    Bytes forged = vector.autn;
    forged.back() ^= 0x01;
    EXPECT_EQ(errorOf([&] { card.authenticate(vector.rand, forged); }), CardErrc::MacFailure);
    // The SQN of the refused challenge was not consumed: the genuine one still works.
    expectSuccess(card.authenticate(vector.rand, vector.autn), vector);
}

TEST(CardThroughPcsc, PinLockedCardWorksOnlyAfterVerifyPin) {
    CardProfile profile;
    profile.pinEnabled = true;
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    auto info = card.info();
    EXPECT_TRUE(info.pin.enabled);
    EXPECT_FALSE(info.pin.verified);
    EXPECT_EQ(info.pin.retriesLeft, 3);
    EXPECT_FALSE(info.identities);

    Network network;
    auto vector = network.vector(1);
    EXPECT_EQ(errorOf([&] { card.authenticate(vector.rand, vector.autn); }), CardErrc::PinRequired);
    EXPECT_EQ(errorOf([&] { card.verifyPin("4321"); }), CardErrc::WrongPin);
    EXPECT_EQ(card.pinStatus().retriesLeft, 2);

    auto status = card.verifyPin("1234");
    EXPECT_TRUE(status.verified);
    expectSuccess(card.authenticate(vector.rand, vector.autn), vector);
    EXPECT_TRUE(card.info().identities);
}

TEST(CardThroughPcsc, BlockedPinIsReportedAsBlockedAndThePukUnblocksIt) {
    CardProfile profile;
    profile.pinEnabled = true;
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    EXPECT_EQ(card.pinStatus().pukRetriesLeft, 10);
    EXPECT_EQ(errorOf([&] { card.unblockPin("12345678", "4321"); }), CardErrc::PinNotBlocked);
    for (int i = 0; i < 3; ++i)
        EXPECT_NE(errorOf([&] { card.verifyPin("0000"); }), CardErrc::InvalidArgument);
    EXPECT_TRUE(card.pinStatus().blocked);
    EXPECT_EQ(errorOf([&] { card.verifyPin("1234"); }), CardErrc::PinBlocked);

    EXPECT_EQ(errorOf([&] { card.unblockPin("87654321", "4321"); }), CardErrc::WrongPuk);
    EXPECT_EQ(card.pinStatus().pukRetriesLeft, 9);
    auto status = card.unblockPin("12345678", "4321");
    EXPECT_TRUE(status.verified);
    EXPECT_EQ(status.pukRetriesLeft, 10);
    EXPECT_TRUE(card.info().identities);
}

TEST(CardThroughPcsc, APinThatIsNotNeededIsNeverSent) {
    CardProfile profile;  // PIN disabled
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(errorOf([&] { card.verifyPin("0000"); }), CardErrc::PinNotRequired);
    auto status = card.pinStatus();
    EXPECT_FALSE(status.blocked);
    EXPECT_FALSE(status.retriesLeft.has_value());  // 9000: nothing to count
}

TEST(CardThroughPcsc, TheUniversalPinGuardsTheApplicationWhenTheCardSaysSo) {
    CardProfile profile;
    profile.pinEnabled = true;
    profile.universalPin = true;
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    auto info = card.info();
    EXPECT_EQ(info.pin.keyReference, 0x11);
    EXPECT_FALSE(info.pin.verified);
    EXPECT_EQ(info.pin.retriesLeft, 3);
    EXPECT_FALSE(info.identities);
    EXPECT_EQ(errorOf([&] { card.verifyPin("0000"); }), CardErrc::WrongPin);
    EXPECT_TRUE(card.verifyPin("1234").verified);
    EXPECT_TRUE(card.info().identities);
}

// The minimum exchanges per authentication once the application is selected.
uint64_t exchangesPerAuthentication(const std::string& protocol) {
    CardProfile profile;
    profile.protocol = protocol;
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    Network network;
    network.expectAccepted(card, 1);
    uint64_t before = card.exchanges();
    network.expectAccepted(card, 2);
    return card.exchanges() - before;
}

TEST(CardThroughPcsc, T1CardAuthenticatesInOneExchange) {
    EXPECT_EQ(exchangesPerAuthentication("t1"), 1u);
}

TEST(CardThroughPcsc, T0CardAuthenticatesWithGetResponse) {
    EXPECT_EQ(exchangesPerAuthentication("t0"), 2u);
}

TEST(CardThroughPcsc, T0CardReportsItsProtocolAndIdentities) {
    CardProfile profile;
    profile.protocol = "t0";
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    auto info = card.info();
    EXPECT_EQ(info.protocol, 0);
    ASSERT_TRUE(info.identities);
    EXPECT_EQ(info.identities->impus.size(), 2u);
}

TEST(CardThroughPcsc, CardPulledDuringASessionAndReinsertedWorksAgain) {
    VirtualCard virtualCard(CardProfile{}, kFirstPort);
    Card card(optionsFor(virtualCard));
    Network network;
    network.expectAccepted(card, 1);

    virtualCard.pull();
    auto during = network.vector(2);
    CardErrc pulled = errorOf([&] { card.authenticate(during.rand, during.autn); });
    EXPECT_TRUE(pulled == CardErrc::CardRemoved || pulled == CardErrc::NoCard) << toString(pulled);
    EXPECT_EQ(errorOf([&] { card.identities(); }), CardErrc::NoCard);

    virtualCard.insert();
    network.expectAccepted(card, 3);
}

TEST(CardThroughPcsc, ResetByAnotherPartyIsRecoveredTransparently) {
    VirtualCard virtualCard(CardProfile{}, kFirstPort);
    Card card(optionsFor(virtualCard));
    Network network;
    network.expectAccepted(card, 1);
    {
        PcscContext context;
        DWORD protocol = 0;
        SCARDHANDLE handle = 0;
        ASSERT_EQ(SCardConnect(context.handle(), virtualCard.reader().c_str(), SCARD_SHARE_SHARED,
                               SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &handle, &protocol),
                  SCARD_S_SUCCESS);
        ASSERT_EQ(SCardReconnect(handle, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                                 SCARD_RESET_CARD, &protocol),
                  SCARD_S_SUCCESS);
        SCardDisconnect(handle, SCARD_LEAVE_CARD);
    }
    network.expectAccepted(card, 2);
}

TEST(CardThroughPcsc, TwoCardsInTwoReadersAreKeptApart) {
    CardProfile second;
    second.isim = false;
    second.imsi = "001010000000002";
    VirtualCard firstCard(CardProfile{}, kFirstPort);
    VirtualCard secondCard(second, kSecondPort);
    Card a(optionsFor(firstCard)), b(optionsFor(secondCard));
    EXPECT_EQ(a.identities().source, AppType::Isim);
    EXPECT_EQ(b.identities().imsi, "001010000000002");
    Network network;
    auto va = network.vector(1), vb = network.vector(1);
    expectSuccess(a.authenticate(va.rand, va.autn), va);
    expectSuccess(b.authenticate(vb.rand, vb.autn), vb);
}

// T=0: every authentication is two APDUs that must stay together; T=1: one APDU, and the
// identity reads between them are multi-APDU sequences. Each Card has a logical channel of
// its own, except on a card without them, where every sequence shares the basic channel
// and only the PC/SC transaction keeps another Card's SELECT out of it.
class ParallelAuthentications : public ::testing::TestWithParam<std::string> {};

TEST_P(ParallelAuthentications, NeverInterleave) {
    CardProfile profile;
    std::string param = GetParam();
    profile.protocol = param.substr(0, 2);
    profile.logicalChannels = param.find("basic") == std::string::npos;
    VirtualCard virtualCard(profile, kFirstPort);
    constexpr int kThreads = 4, kRounds = 8;
    std::atomic<int> successes{0};
    std::mutex errorsMutex;
    std::vector<std::string> errors;  // an exception escaping a thread would abort the binary
    std::vector<std::thread> threads;
    Card shared(optionsFor(virtualCard));
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                // Half the threads share one Card, half have their own connection.
                std::unique_ptr<Card> own;
                if (t % 2) own = std::make_unique<Card>(optionsFor(virtualCard));
                Card& card = own ? *own : shared;
                Network network;
                for (uint64_t seq = 1; seq <= kRounds; ++seq) {
                    auto vector = network.vector(seq, static_cast<uint64_t>(t));  // own IND slot
                    auto result = card.authenticate(vector.rand, vector.autn);
                    if (result.kind == AuthResult::Kind::Success &&
                        toHex(result.res) == toHex(vector.xres))
                        ++successes;
                    if (card.identities().impus.size() == 2) ++successes;
                }
            } catch (const std::exception& error) {
                std::lock_guard lock(errorsMutex);
                errors.push_back(error.what());
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(errors, std::vector<std::string>{});
    EXPECT_EQ(successes.load(), 2 * kThreads * kRounds);
}

INSTANTIATE_TEST_SUITE_P(CardThroughPcsc, ParallelAuthentications,
                         ::testing::Values("t0", "t1", "t0_basic_channel", "t1_basic_channel"));

TEST(CardThroughPcsc, CardWithoutLogicalChannelsUsesTheBasicChannel) {
    CardProfile profile;
    profile.logicalChannels = false;
    VirtualCard virtualCard(profile, kFirstPort);
    Card card(optionsFor(virtualCard));
    EXPECT_FALSE(card.info().logicalChannel);
    Network network;
    network.expectAccepted(card, 1);
}

TEST(CardThroughPcsc, GarbledAuthenticateAnswersAreNamedErrors) {
    const std::pair<std::string, CardErrc> faults[] = {
        {"garbage-auth", CardErrc::MalformedResponse},
        {"truncated-auth", CardErrc::MalformedResponse},
        {"unknown-sw", CardErrc::UnexpectedStatus},
    };
    for (const auto& [fault, expected] : faults) {
        VirtualCard virtualCard(CardProfile{}, kFirstPort, {"--fault", fault});
        Card card(optionsFor(virtualCard));
        Network network;
        auto vector = network.vector(1);
        EXPECT_EQ(errorOf([&] { card.authenticate(vector.rand, vector.autn); }), expected) << fault;
        // The card stays usable for what it still answers properly.
        EXPECT_EQ(card.identities().source, AppType::Isim) << fault;
    }
}

TEST(CardThroughPcsc, UnreadableEfDirIsANamedErrorOnEveryAttempt) {
    VirtualCard virtualCard(CardProfile{}, kFirstPort, {"--fault", "truncated-dir"});
    Card card(optionsFor(virtualCard));
    // Each call tries to open the card again rather than going on without an application.
    for (int attempt = 0; attempt < 3; ++attempt)
        EXPECT_EQ(errorOf([&] { card.identities(); }), CardErrc::MalformedResponse) << attempt;
}

TEST(CardThroughPcsc, WrongLengthRandOrAutnIsRefused) {
    VirtualCard virtualCard(CardProfile{}, kFirstPort);
    Card card(optionsFor(virtualCard));
    Bytes rand(15, 0), autn(16, 0);
    EXPECT_EQ(errorOf([&] { card.authenticate(rand, autn); }), CardErrc::InvalidArgument);
    EXPECT_EQ(card.exchanges(), 0u);  // refused before touching the card
}

TEST(CardThroughPcsc, MissingReaderAndEmptyReaderAreNamed) {
    Card missing({.reader = "No Such Reader", .session = {}});
    EXPECT_EQ(errorOf([&] { missing.identities(); }), CardErrc::ReaderNotFound);
    Card empty({.reader = testing::readerForPort(kSecondPort), .session = {}});
    EXPECT_EQ(errorOf([&] { empty.identities(); }), CardErrc::NoCard);
}

TEST(VirtualCardFixture, ACardThatFailsToStartLeavesNoProcessBehind) {
    // imsaka-vicc refuses the argument and exits: the fixture must still reap it.
    EXPECT_THROW(VirtualCard(CardProfile{}, kFirstPort, {"--fault", "no-such-fault"}),
                 std::runtime_error);
    errno = 0;
    EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "a child process was left behind";
    EXPECT_EQ(errno, ECHILD);
}

TEST(ReaderMonitor, ReportsReadersThenCardsComingAndGoing) {
    ReaderMonitor monitor;
    auto initial = monitor.wait(std::chrono::milliseconds(0));
    int readers = 0;
    for (const auto& event : initial) readers += event.kind == ReaderEvent::Kind::ReaderAdded;
    EXPECT_EQ(readers, 2);

    auto waitFor = [&](ReaderEvent::Kind kind) {
        for (int i = 0; i < 20; ++i)
            for (const auto& event : monitor.wait(std::chrono::milliseconds(500)))
                if (event.kind == kind) return event;
        ADD_FAILURE() << "no " << toString(kind);
        return ReaderEvent{kind, {}, {}};
    };
    VirtualCard virtualCard(CardProfile{}, kFirstPort);
    auto inserted = waitFor(ReaderEvent::Kind::CardInserted);
    EXPECT_EQ(inserted.reader, virtualCard.reader());
    EXPECT_FALSE(inserted.atr.empty());
    virtualCard.pull();
    EXPECT_EQ(waitFor(ReaderEvent::Kind::CardRemoved).reader, virtualCard.reader());
}

}  // namespace
}  // namespace imsaka::cardio
