// Card1's PIN and PUK through imsakad: VERIFY reaches the card only when its PIN is needed,
// only root (or the access group, when configured) may try a PIN or a PUK, the retry
// counters are properties, and the universal PIN is verified with its own key reference.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "user_client.h"

namespace imsaka::busclient {
namespace {

constexpr const char* kWrongState = "org.imsaka.Error.WrongState";

pid_t firstCardPid() {
    return std::stoi(sandboxValue("SANDBOX_VICC_PIDS"));
}

// How many VERIFY commands carrying a PIN (13 bytes: header, Lc, 8 PIN bytes) the first
// card answered, from its --verbose log.
size_t verifiesWithAPin() {
    std::ifstream log(sandboxValue("SANDBOX_DIR") + "/vicc-35963.log");
    std::regex verify(R"(apdu [0-4][0-9A-F] 20 00 [0-9A-F]{2} \(13 bytes\))");
    size_t count = 0;
    std::string line;
    while (std::getline(log, line))
        if (std::regex_search(line, verify)) ++count;
    return count;
}

TEST(PinDisabledCard, VerifyPinNeverReachesTheCard) {
    Client root;
    auto card = root.cardOfReader(kFirstReader);
    root.waitForCardState(card, "ready");
    // Three wrong PINs would block the card; none of them may reach it.
    for (int attempt = 0; attempt < 4; ++attempt)
        EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "0000"); }), kWrongState) << attempt;
    auto properties = root.cardProperties(card);
    EXPECT_EQ(text(properties, "State"), "ready");
    EXPECT_EQ(text(properties, "PinState"), "disabled");
    EXPECT_EQ(verifiesWithAPin(), 0u);
}

TEST(PinCard, AVerifiedPinIsNeverSentAgain) {
    Client root;
    auto card = root.cardOfReader(kFirstReader);
    root.waitForCardState(card, "pin-required");
    root.verifyPin(card, "1234");
    EXPECT_EQ(text(root.waitForCardState(card, "ready"), "PinState"), "verified");
    for (int attempt = 0; attempt < 3; ++attempt)
        EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "0000"); }), kWrongState) << attempt;
    EXPECT_EQ(text(root.cardProperties(card), "State"), "ready");
    EXPECT_EQ(verifiesWithAPin(), 1u);

    // A card put back in asks for its PIN again, with every try still left.
    kill(firstCardPid(), SIGUSR1);
    root.waitForCardState(card, "absent");
    kill(firstCardPid(), SIGUSR2);
    auto again = root.waitForCardState(card, "pin-required");
    EXPECT_EQ(number(again, "PinRetries"), 3u);
}

TEST(PinCard, AGroupMemberMayNotTryThePinByDefault) {
    Client root;
    auto card = root.cardOfReader(kFirstReader);
    root.waitForCardState(card, "pin-required");
    UserClient member("imsaka-member");
    EXPECT_EQ(member.ask("verify-pin " + card + " 1234"), "error org.imsaka.Error.NotAllowed");
    EXPECT_EQ(member.ask("unblock-pin " + card + " 12345678 1234"),
              "error org.imsaka.Error.NotAllowed");
    UserClient outsider("imsaka-outsider");
    EXPECT_EQ(outsider.ask("verify-pin " + card + " 1234"),
              "error org.freedesktop.DBus.Error.AccessDenied");
    auto properties = root.cardProperties(card);
    EXPECT_EQ(text(properties, "State"), "pin-required");
    EXPECT_EQ(number(properties, "PinRetries"), 3u);
    EXPECT_EQ(verifiesWithAPin(), 0u);
}

TEST(PinCardGroupAccess, AGroupMemberMayTryThePinWhenConfigured) {
    Client root;
    auto card = root.cardOfReader(kFirstReader);
    root.waitForCardState(card, "pin-required");
    UserClient member("imsaka-member");
    EXPECT_EQ(member.ask("verify-pin " + card + " 0000"), "error org.imsaka.Error.WrongPin");
    EXPECT_EQ(number(root.cardProperties(card), "PinRetries"), 2u);
    EXPECT_EQ(member.ask("verify-pin " + card + " 1234").rfind("ok ", 0), 0u);
    root.waitForCardState(card, "ready");
    UserClient outsider("imsaka-outsider");
    EXPECT_EQ(outsider.ask("verify-pin " + card + " 1234"),
              "error org.freedesktop.DBus.Error.AccessDenied");
}

TEST(PinCard, ThePukUnblocksABlockedPinAndTheCountersFollow) {
    Client root;
    auto card = root.cardOfReader(kFirstReader);
    auto start = root.waitForCardState(card, "pin-required");
    EXPECT_EQ(number(start, "PinRetries"), 3u);
    EXPECT_EQ(number(start, "PukRetries"), 10u);
    // The PUK is for a blocked PIN only.
    EXPECT_EQ(errorNameOf([&] { root.unblockPin(card, "12345678", "4321"); }), kWrongState);

    EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "0000"); }), "org.imsaka.Error.WrongPin");
    EXPECT_EQ(number(root.cardProperties(card), "PinRetries"), 2u);
    EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "0000"); }), "org.imsaka.Error.WrongPin");
    EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "0000"); }), "org.imsaka.Error.PinBlocked");
    auto blocked = root.waitForCardState(card, "pin-blocked");
    EXPECT_EQ(text(blocked, "PinState"), "blocked");
    EXPECT_EQ(number(blocked, "PinRetries"), 0u);
    // A blocked PIN is not tried again.
    EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "1234"); }), "org.imsaka.Error.PinBlocked");

    EXPECT_EQ(errorNameOf([&] { root.unblockPin(card, "1234", "4321"); }),
              "org.imsaka.Error.InvalidArguments");  // a PUK is 8 digits
    EXPECT_EQ(errorNameOf([&] { root.unblockPin(card, "87654321", "4321"); }),
              "org.imsaka.Error.WrongPuk");
    EXPECT_EQ(number(root.cardProperties(card), "PukRetries"), 9u);

    root.unblockPin(card, "12345678", "4321");
    auto ready = root.waitForCardState(card, "ready");
    EXPECT_EQ(text(ready, "PinState"), "verified");
    EXPECT_EQ(number(ready, "PukRetries"), 10u);
    EXPECT_FALSE(text(ready, "Impi").empty());
    EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "4321"); }), kWrongState);

    // The new PIN is the card's PIN from now on.
    kill(firstCardPid(), SIGUSR1);
    root.waitForCardState(card, "absent");
    kill(firstCardPid(), SIGUSR2);
    root.waitForCardState(card, "pin-required");
    EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "1234"); }), "org.imsaka.Error.WrongPin");
    root.verifyPin(card, "4321");
    root.waitForCardState(card, "ready");
}

TEST(UniversalPinCard, TheUniversalPinIsVerifiedWithItsOwnKeyReference) {
    Client root;
    auto card = root.cardOfReader(kFirstReader);
    auto start = root.waitForCardState(card, "pin-required");
    EXPECT_EQ(text(start, "PinKind"), "universal");
    EXPECT_EQ(number(start, "PinRetries"), 3u);
    EXPECT_EQ(errorNameOf([&] { root.verifyPin(card, "0000"); }), "org.imsaka.Error.WrongPin");
    EXPECT_EQ(number(root.cardProperties(card), "PinRetries"), 2u);
    root.verifyPin(card, "1234");
    auto ready = root.waitForCardState(card, "ready");
    EXPECT_EQ(text(ready, "PinState"), "verified");
    EXPECT_FALSE(text(ready, "Impi").empty());
}

}  // namespace
}  // namespace imsaka::busclient
