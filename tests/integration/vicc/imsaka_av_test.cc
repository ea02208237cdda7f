// imsaka-av run as a program: its figures agree with the Milenage library for the
// profile's keys, and its exit status tells results and mistakes apart.
#include <gtest/gtest.h>
#include <imsaka/milenage/milenage.h>
#include <imsaka/vicc/profile.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace imsaka::vicc::test {
namespace {

struct Outcome {
    int status = -1;
    std::string output;
};

Outcome imsakaAv(const std::string& arguments) {
    std::string command = std::string(IMSAKA_AV_BINARY) + " " + arguments + " 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed");
    Outcome run;
    char chunk[512];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, pipe)) > 0) run.output.append(chunk, got);
    int status = pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

const std::string kProfileArgument = "--profile " IMSAKA_VICC_PROFILES "/default.ini";
const std::string kRand = "23553cbe9637a89d218ae64dae47bf35";

class ImsakaAv : public ::testing::Test {
  protected:
    Profile profile = loadProfile(IMSAKA_VICC_PROFILES "/default.ini");
    milenage::Milenage algorithm{profile.k, profile.opc};
};

TEST_F(ImsakaAv, PrintsTheVectorTheLibraryComputes) {
    Outcome run = imsakaAv(kProfileArgument + " --sqn ff9bb4d0b607 --amf b9b9 --rand " + kRand);
    ASSERT_EQ(run.status, 0);
    milenage::AuthVector vector = milenage::generateVector(
        algorithm, *fromHex("ff9bb4d0b607"), *fromHex("b9b9"), ByteView(*fromHex(kRand)));
    EXPECT_EQ(run.output, "RAND " + kRand + "\nAUTN " + toHex(vector.autn) + "\nXRES " +
                              toHex(vector.xres) + "\nCK " + toHex(vector.ck) + "\nIK " +
                              toHex(vector.ik) + "\nAK " + toHex(vector.ak) + "\n");
}

TEST_F(ImsakaAv, JsonUsesTheProfileAmfAndAFreshRand) {
    Outcome first = imsakaAv(kProfileArgument + " --sqn 000000000020 --json");
    Outcome second = imsakaAv(kProfileArgument + " --sqn 000000000020 --json");
    ASSERT_EQ(first.status, 0);
    nlohmann::json json = nlohmann::json::parse(first.output);
    auto other = nlohmann::json::parse(second.output);
    EXPECT_NE(json["rand"], other["rand"]);
    Bytes rand = *fromHex(json["rand"].get<std::string>());
    milenage::AuthVector vector = milenage::generateVector(algorithm, milenage::sqnFromInt(0x20),
                                                           profile.amf, ByteView(rand));
    EXPECT_EQ(json["autn"], toHex(vector.autn));
    EXPECT_EQ(json["xres"], toHex(vector.xres));
    EXPECT_EQ(json["ck"], toHex(vector.ck));
    EXPECT_EQ(json["ik"], toHex(vector.ik));
    EXPECT_EQ(json["autn"].get<std::string>().substr(12, 4), "8000");
}

TEST_F(ImsakaAv, DecodesAValidAuts) {
    Bytes auts = milenage::buildAuts(algorithm, *fromHex(kRand), milenage::sqnFromInt(0x40));
    Outcome run = imsakaAv(kProfileArgument + " --rand " + kRand + " --auts " + toHex(auts));
    EXPECT_EQ(run.status, 0);
    EXPECT_EQ(run.output, "SQN_MS 000000000040\nMAC-S valid\n");
    Outcome jsonRun =
        imsakaAv(kProfileArgument + " --rand " + kRand + " --auts " + toHex(auts) + " --json");
    EXPECT_EQ(jsonRun.status, 0);
    EXPECT_EQ(nlohmann::json::parse(jsonRun.output),
              nlohmann::json::parse(R"({"sqn_ms":"000000000040","mac_s_valid":true})"));
}

TEST_F(ImsakaAv, InvalidMacSExitsWithOne) {
    Bytes auts = milenage::buildAuts(algorithm, *fromHex(kRand), milenage::sqnFromInt(0x40));
    auts.back() ^= 0x01;
    Outcome run =
        imsakaAv(kProfileArgument + " --rand " + kRand + " --auts " + toHex(auts) + " --json");
    EXPECT_EQ(run.status, 1);
    EXPECT_EQ(nlohmann::json::parse(run.output)["mac_s_valid"], false);
}

TEST_F(ImsakaAv, BadArgumentsExitWithTwo) {
    for (const std::string& arguments :
         {kProfileArgument, kProfileArgument + " --sqn 0102",
          kProfileArgument + " --sqn 0000000000zz",
          kProfileArgument + " --sqn 000000000001 --amf 800",
          kProfileArgument + " --sqn 000000000001 --rand 00",
          kProfileArgument + " --auts 0000000000000000000000000000",
          kProfileArgument + " --rand " + kRand + " --auts 00",
          kProfileArgument + " --sqn 000000000001 --colour blue", std::string("--sqn 000000000001"),
          std::string("--profile /nonexistent.ini --sqn 000000000001")}) {
        Outcome run = imsakaAv(arguments);
        EXPECT_EQ(run.status, 2) << arguments;
        EXPECT_EQ(run.output, "") << arguments;
    }
}

}  // namespace
}  // namespace imsaka::vicc::test
