// imsaka-av: the network side for a card profile. Builds an authentication vector
// (RAND, AUTN, XRES, CK, IK, AK) or decodes an AUTS. A lab tool: printing these
// values is its purpose. Exit status: 0 ok, 1 AUTS with an invalid MAC-S, 2 bad
// arguments or profile.
#include <imsaka/milenage/milenage.h>
#include <imsaka/vicc/profile.h>

// GCC 12 reports a null dereference inside CLI11's string helpers once they are
// inlined at -O2 (a false positive in the library, not in this file).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
#include <iostream>
#include <nlohmann/json.hpp>

#include "imsaka/version.h"

namespace {

using imsaka::Bytes;
using imsaka::toHex;
namespace milenage = imsaka::milenage;
namespace vicc = imsaka::vicc;

struct BadArgument : std::runtime_error {
    using std::runtime_error::runtime_error;
};

Bytes hexArgument(const std::string& name, const std::string& text, size_t length) {
    std::optional<Bytes> bytes = imsaka::fromHex(text);
    if (!bytes || bytes->size() != length) {
        throw BadArgument(name + " must be " + std::to_string(length * 2) + " hex digits");
    }
    return *bytes;
}

std::unique_ptr<milenage::AkaAlgorithm> algorithmFor(const vicc::Profile& profile) {
    if (profile.algorithm == vicc::AlgorithmKind::Xor) {
        return std::make_unique<milenage::XorTestAlgorithm>(profile.k);
    }
    return std::make_unique<milenage::Milenage>(profile.k, profile.opc);
}

void print(const std::vector<std::pair<std::string, std::string>>& fields, bool json) {
    if (json) {
        nlohmann::ordered_json out;
        for (const auto& [name, value] : fields) out[name] = value;
        std::cout << out.dump() << "\n";
        return;
    }
    for (const auto& [name, value] : fields) std::cout << name << " " << value << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    std::string profilePath, sqnHex, amfHex, randHex, autsHex;
    bool json = false;
    CLI::App app{"imsaka-av: authentication vectors and AUTS decoding for a card profile"};
    app.set_version_flag("--version", std::string("imsaka-av ") + imsaka::kVersion);
    app.add_option("--profile", profilePath, "card profile (INI)")->required();
    app.add_option("--sqn", sqnHex, "SQN, 12 hex digits: build a vector");
    app.add_option("--amf", amfHex, "AMF, 4 hex digits (default: the profile's)");
    app.add_option("--rand", randHex, "RAND, 32 hex digits (default: random)");
    app.add_option("--auts", autsHex, "AUTS, 28 hex digits: decode it for --rand");
    app.add_flag("--json", json, "print one JSON object");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? 0 : 2;
    }
    try {
        vicc::Profile profile = vicc::loadProfile(profilePath);
        auto algorithm = algorithmFor(profile);
        if (!autsHex.empty()) {
            if (randHex.empty()) throw BadArgument("--auts needs --rand");
            if (!sqnHex.empty() || !amfHex.empty())
                throw BadArgument("--auts takes no --sqn or --amf");
            Bytes rand = hexArgument("--rand", randHex, milenage::kRandLength);
            Bytes auts = hexArgument("--auts", autsHex, milenage::kAutsLength);
            milenage::AutsResult result = milenage::decodeAuts(*algorithm, rand, auts);
            if (json) {
                nlohmann::ordered_json out{{"sqn_ms", toHex(result.sqnMs)},
                                           {"mac_s_valid", result.macValid}};
                std::cout << out.dump() << "\n";
            } else {
                print({{"SQN_MS", toHex(result.sqnMs)},
                       {"MAC-S", result.macValid ? "valid" : "invalid"}},
                      false);
            }
            return result.macValid ? 0 : 1;
        }
        if (sqnHex.empty()) throw BadArgument("give --sqn to build a vector, or --rand and --auts");
        Bytes sqn = hexArgument("--sqn", sqnHex, milenage::kSqnLength);
        Bytes amf =
            amfHex.empty() ? profile.amf : hexArgument("--amf", amfHex, milenage::kAmfLength);
        std::optional<Bytes> rand;
        if (!randHex.empty()) rand = hexArgument("--rand", randHex, milenage::kRandLength);
        milenage::AuthVector vector = milenage::generateVector(
            *algorithm, sqn, amf, rand ? std::optional<imsaka::ByteView>(*rand) : std::nullopt);
        if (json) {
            print({{"rand", toHex(vector.rand)},
                   {"autn", toHex(vector.autn)},
                   {"xres", toHex(vector.xres)},
                   {"ck", toHex(vector.ck)},
                   {"ik", toHex(vector.ik)},
                   {"ak", toHex(vector.ak)}},
                  true);
        } else {
            print({{"RAND", toHex(vector.rand)},
                   {"AUTN", toHex(vector.autn)},
                   {"XRES", toHex(vector.xres)},
                   {"CK", toHex(vector.ck)},
                   {"IK", toHex(vector.ik)},
                   {"AK", toHex(vector.ak)}},
                  false);
        }
        return 0;
    } catch (const BadArgument& error) {
        std::cerr << "imsaka-av: " << error.what() << "\n";
        return 2;
    } catch (const vicc::ProfileError& error) {
        std::cerr << "imsaka-av: " << error.what() << "\n";
        return 2;
    }
}
