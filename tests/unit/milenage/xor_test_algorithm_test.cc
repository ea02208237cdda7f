// Checks both algorithms end to end against the RFC 3310 Digest-AKA examples: the
// RES they produce must give the published digest response.
#include <gtest/gtest.h>
#include <imsaka/milenage/milenage.h>
#include <imsaka/sip/digest.h>
#include <openssl/evp.h>

#include <fstream>
#include <map>
#include <sstream>

#include "test_sets.h"

namespace imsaka::milenage {
namespace {

using Example = std::map<std::string, std::string>;

// The examples are numbered paragraphs of "name = value" lines.
std::vector<Example> readExamples() {
    std::ifstream in(IMSAKA_DIGEST_AKA_EXAMPLE);
    if (!in) throw std::runtime_error("cannot open " IMSAKA_DIGEST_AKA_EXAMPLE);
    std::vector<Example> examples;
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > 1 && std::isdigit(static_cast<unsigned char>(line[0])) &&
            line[1] == '.') {
            examples.emplace_back();
            continue;
        }
        auto equals = line.find(" = ");
        if (examples.empty() || equals == std::string::npos) continue;
        std::istringstream name(line.substr(0, equals)), value(line.substr(equals + 3));
        std::string key, first;
        name >> key;
        value >> first;
        examples.back()[key] = first;
    }
    return examples;
}

std::string md5Hex(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EXPECT_EQ(EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr), 1);
    return toHex(ByteView(digest, length));
}

// RFC 2617 with qop=auth, nc=00000001 and method REGISTER, as the examples use.
std::string digestResponse(const Example& example, const SecureBytes& res) {
    return sip::digestResponse({.username = example.at("username"),
                                .realm = example.at("realm"),
                                .password = res,
                                .method = "REGISTER",
                                .uri = example.at("uri"),
                                .nonce = example.at("nonce"),
                                .qop = "auth",
                                .nc = "00000001",
                                .cnonce = example.at("cnonce")});
}

TEST(DigestAkaExamples, MilenageResGivesThePublishedResponse) {
    auto examples = readExamples();
    ASSERT_EQ(examples.size(), 2u);
    auto sets = test::readTestSets(IMSAKA_MILENAGE_VECTORS);
    Milenage milenage(sets.at(0).at("K"), sets.at(0).at("OPc"));
    auto nonce = sip::decodeAkaNonce(examples[0].at("nonce"));
    AuthVector vector =
        generateVector(milenage, sets.at(0).at("SQN"), sets.at(0).at("AMF"), ByteView(nonce.rand));
    EXPECT_EQ(toHex(vector.autn), examples[0].at("AUTN"));
    EXPECT_EQ(Bytes(nonce.autn.begin(), nonce.autn.end()), vector.autn);
    EXPECT_EQ(md5Hex(examples[0].at("username") + ":" + examples[0].at("realm") + ":" +
                     std::string(vector.xres.begin(), vector.xres.end())),
              examples[0].at("HA1"));
    EXPECT_EQ(digestResponse(examples[0], vector.xres), examples[0].at("response"));
}

TEST(DigestAkaExamples, XorTestAlgorithmGivesThePublishedAutnAndResponse) {
    auto examples = readExamples();
    ASSERT_EQ(examples.size(), 2u);
    XorTestAlgorithm algorithm(*fromHex("000102030405060708090a0b0c0d0e0f"));
    auto nonce = sip::decodeAkaNonce(examples[1].at("nonce"));
    AuthVector vector = generateVector(algorithm, Bytes(6, 0), Bytes(2, 0), ByteView(Bytes(16, 0)));
    EXPECT_EQ(Bytes(nonce.rand.begin(), nonce.rand.end()), vector.rand);
    EXPECT_EQ(Bytes(nonce.autn.begin(), nonce.autn.end()), vector.autn);
    EXPECT_EQ(vector.xres.size(), 16u);
    EXPECT_EQ(digestResponse(examples[1], vector.xres), examples[1].at("response"));
}

TEST(XorTestAlgorithm, KeysAreRotationsOfKXorRand) {
    XorTestAlgorithm algorithm(*fromHex("000102030405060708090a0b0c0d0e0f"));
    ResponseKeys keys = algorithm.f2345(Bytes(16, 0xff));
    EXPECT_EQ(toHex(keys.res), "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0");
    EXPECT_EQ(toHex(keys.ck), "fefdfcfbfaf9f8f7f6f5f4f3f2f1f0ff");
    EXPECT_EQ(toHex(keys.ik), "fdfcfbfaf9f8f7f6f5f4f3f2f1f0fffe");
    EXPECT_EQ(toHex(keys.ak), "fcfbfaf9f8f7");
}

TEST(XorTestAlgorithm, AutsRoundTrip) {
    XorTestAlgorithm algorithm(Bytes(16, 0x11));
    Bytes rand(16, 0x22);
    AutsResult result = decodeAuts(algorithm, rand, buildAuts(algorithm, rand, sqnFromInt(99)));
    EXPECT_EQ(sqnToInt(result.sqnMs), 99u);
    EXPECT_TRUE(result.macValid);
}

}  // namespace
}  // namespace imsaka::milenage
