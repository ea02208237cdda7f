// imsaka-card as a user runs it: through pcscd to the virtual card, JSON out, exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "imsaka/milenage/milenage.h"
#include "virtual_card.h"

namespace imsaka {
namespace {

using testing::CardProfile;
using testing::VirtualCard;

struct ToolRun {
    int exitCode = -1;
    nlohmann::json output;
};

// `input` (digits only here) becomes one line on the tool's standard input.
ToolRun runTool(const std::string& arguments, const std::string& input = {}) {
    std::string command = std::string(IMSAKA_CARD_PATH) + " --json " + arguments;
    if (!input.empty()) command = "echo " + input + " | " + command;
    FILE* pipe = popen(command.c_str(), "r");
    std::string text;
    char buffer[512];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
    int status = pclose(pipe);
    ToolRun run;
    run.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.output = nlohmann::json::parse(text, nullptr, false);
    return run;
}

std::string quoted(const std::string& reader) {
    return "--reader '" + reader + "'";
}

milenage::AuthVector vectorFor(uint64_t seq) {
    milenage::Milenage algorithm(*fromHex(testing::kK), *fromHex(testing::kOpc));
    Bytes amf{0x80, 0x00};
    return milenage::generateVector(algorithm, milenage::sqnFromInt(seq << 5), amf);
}

TEST(ImsakaCardTool, ListsBothReadersAndTheCard) {
    VirtualCard card(CardProfile{}, 35963);
    ToolRun run = runTool("readers");
    ASSERT_EQ(run.exitCode, 0);
    ASSERT_EQ(run.output["readers"].size(), 2u);
    EXPECT_EQ(run.output["readers"][0]["card"], true);
    EXPECT_EQ(run.output["readers"][1]["card"], false);
}

TEST(ImsakaCardTool, InfoShowsIdentitiesAndPinState) {
    VirtualCard card(CardProfile{}, 35963);
    ToolRun run = runTool(quoted(card.reader()) + " info");
    ASSERT_EQ(run.exitCode, 0);
    EXPECT_EQ(run.output["selected"], "isim");
    EXPECT_EQ(run.output["identities"]["impi"], CardProfile{}.impi);
    EXPECT_EQ(run.output["identities"]["pcscfs"].size(), 3u);
    EXPECT_EQ(run.output["pin"]["enabled"], false);
}

TEST(ImsakaCardTool, ExitStatusTellsSuccessSyncFailureAndMacFailureApart) {
    VirtualCard card(CardProfile{}, 35963);
    auto vector = vectorFor(1);
    std::string args = quoted(card.reader()) + " auth " + toHex(vector.rand) + " ";
    ToolRun ok = runTool(args + toHex(vector.autn));
    ASSERT_EQ(ok.exitCode, 0);
    EXPECT_EQ(ok.output["res"], toHex(vector.xres));

    ToolRun sync = runTool(args + toHex(vector.autn));  // the same SQN again is stale
    EXPECT_EQ(sync.exitCode, 3);
    EXPECT_EQ(sync.output["result"], "sync-failure");
    EXPECT_EQ(sync.output["auts"].get<std::string>().size(), 28u);

    Bytes forged = vectorFor(2).autn;
    forged[10] ^= 0xff;
    ToolRun mac = runTool(args + toHex(forged));
    EXPECT_EQ(mac.exitCode, 4);
    EXPECT_EQ(mac.output["error"], "mac-failure");
}

TEST(ImsakaCardTool, VerifyPinReadsStandardInputAndTellsAWrongPinApart) {
    CardProfile profile;
    profile.pinEnabled = true;
    VirtualCard card(profile, 35963);
    ToolRun wrong = runTool(quoted(card.reader()) + " verify-pin", "4321");
    EXPECT_EQ(wrong.exitCode, 6);
    EXPECT_EQ(wrong.output["error"], "wrong-pin");
    ToolRun right = runTool(quoted(card.reader()) + " verify-pin", "1234");
    ASSERT_EQ(right.exitCode, 0);
    EXPECT_EQ(right.output["pin"]["verified"], true);
}

TEST(ImsakaCardTool, BadArgumentsAndAnEmptyReaderHaveTheirOwnStatus) {
    VirtualCard card(CardProfile{}, 35963);
    EXPECT_EQ(runTool(quoted(card.reader()) + " auth 0011 2233").exitCode, 2);
    EXPECT_EQ(runTool(quoted(card.reader()) + " auth zz 2233").exitCode, 2);
    ToolRun empty = runTool(quoted(testing::readerForPort(35964)) + " info");
    EXPECT_EQ(empty.exitCode, 5);
    EXPECT_EQ(empty.output["error"], "no-card");
}

}  // namespace
}  // namespace imsaka
