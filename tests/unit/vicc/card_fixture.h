// Drives a Card with hex APDUs, and builds profiles from the shipped default with
// lines replaced or added.
#pragma once

#include <gtest/gtest.h>
#include <imsaka/milenage/milenage.h>
#include <imsaka/vicc/card.h>
#include <imsaka/vicc/profile.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace imsaka::vicc::test {

inline std::string readFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

inline std::string defaultProfileText() {
    return readFile(IMSAKA_VICC_PROFILES "/default.ini");
}

// Replaces "key = ..." lines of the default profile (the first occurrence; "key"
// may be "section.key" to pick the section), or adds "section.key" lines that are
// not there. A value of "-" deletes the line.
inline std::string profileText(const std::map<std::string, std::string>& changes) {
    std::string text = defaultProfileText();
    for (const auto& [qualified, value] : changes) {
        auto dot = qualified.find('.');
        std::string section = dot == std::string::npos ? "" : qualified.substr(0, dot);
        std::string key = dot == std::string::npos ? qualified : qualified.substr(dot + 1);
        size_t from = section.empty() ? 0 : text.find("[" + section + "]");
        if (from == std::string::npos) throw std::runtime_error("no section " + section);
        size_t line = text.find("\n" + key + " =", from);
        std::string replacement = value == "-" ? "" : key + " = " + value;
        if (line != std::string::npos) {
            size_t end = text.find('\n', line + 1);
            text.replace(line + 1, end - line - 1, replacement);
        } else {
            size_t after = text.find('\n', from);
            text.insert(after + 1, replacement + "\n");
        }
    }
    return text;
}

inline Profile makeProfile(const std::map<std::string, std::string>& changes = {}) {
    return parseProfile(profileText(changes), "test.ini");
}

inline std::string hex(const SecureBytes& bytes) {
    return toHex(bytes);
}

class CardTest : public ::testing::Test {
  protected:
    void insert(const std::map<std::string, std::string>& changes = {}, Fault fault = Fault::None) {
        profile = makeProfile(changes);
        card = std::make_unique<Card>(profile, fault);
        card->powerOn();
    }

    // Sends hex, returns the response in lowercase hex.
    std::string tx(const std::string& apdu) {
        auto bytes = fromHex(apdu);
        if (!bytes) throw std::runtime_error("bad hex in test: " + apdu);
        return hex(card->transmit(*bytes));
    }

    // The status word (last 4 hex digits) and the data before it.
    static std::string sw(const std::string& response) {
        return response.substr(response.size() - 4);
    }
    static std::string data(const std::string& response) {
        return response.substr(0, response.size() - 4);
    }

    std::unique_ptr<milenage::AkaAlgorithm> algorithm() const {
        return std::make_unique<milenage::Milenage>(profile.k, profile.opc);
    }

    // "00880081 22 10 RAND 10 AUTN 00" for a vector with this SQN.
    std::string authApdu(const milenage::AuthVector& vector, uint8_t cla = 0) {
        std::ostringstream apdu;
        apdu << toHex(Bytes{cla}) << "8800812210" << toHex(vector.rand) << "10"
             << toHex(vector.autn) << "00";
        return apdu.str();
    }

    milenage::AuthVector vectorFor(uint64_t sqn) {
        return milenage::generateVector(*algorithm(), milenage::sqnFromInt(sqn), profile.amf);
    }

    Profile profile;
    std::unique_ptr<Card> card;
};

inline const std::string kIsimAid = "a0000000871004ff49ff0289000000ff";
inline const std::string kUsimAid = "a0000000871002ff49ff0589000000ff";

inline std::string textHex(const std::string& text) {
    return toHex(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace imsaka::vicc::test
