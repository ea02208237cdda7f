// imsaka-vicc seen through pcsc-lite exactly as a card in a reader: the protocol
// pcscd picks from the ATR, raw APDUs with SCardTransmit, and pull/insert.
#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>
#include <gtest/gtest.h>
#include <imsaka/milenage/milenage.h>
#include <imsaka/vicc/profile.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "vicc_process.h"

namespace imsaka::vicc::test {
namespace {

using namespace std::chrono_literals;

const std::string kIsimAid = "a0000000871004ff49ff0289000000ff";

// The sandbox names two readers and their vpcd ports.
struct Slot {
    std::string reader;
    std::string port;
};

std::vector<Slot> sandboxSlots() {
    const char* readers = std::getenv("IMSAKA_READERS");
    const char* ports = std::getenv("IMSAKA_VPCD_PORTS");
    if (!readers || !ports) return {};
    std::vector<Slot> slots;
    std::istringstream portList(ports);
    std::string names(readers), port;
    size_t start = 0;
    while (portList >> port) {
        size_t bar = names.find('|', start);
        slots.push_back({names.substr(start, bar - start), port});
        start = bar == std::string::npos ? names.size() : bar + 1;
    }
    return slots;
}

class ViccThroughPcsc : public ::testing::Test {
  protected:
    void SetUp() override {
        slots = sandboxSlots();
        ASSERT_GE(slots.size(), 2u) << "run this test under tests/integration/pcsc-sandbox.sh "
                                       "(IMSAKA_READERS and IMSAKA_VPCD_PORTS are not set)";
        ASSERT_EQ(SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &context),
                  SCARD_S_SUCCESS)
            << "no pcscd";
    }

    // The next test may use the same reader: wait until pcscd has seen this card go,
    // or it could talk to the old connection.
    void TearDown() override {
        // LEAVE_CARD: a reset of a card already gone confuses pcscd's view of the reader.
        if (handle) SCardDisconnect(handle, SCARD_LEAVE_CARD);
        vicc.reset();
        if (usedSlot) {
            EXPECT_TRUE(waitForCard(*usedSlot, false)) << "the card stayed in " << usedSlot->reader;
        }
        if (context) SCardReleaseContext(context);
    }

    void start(const Slot& used, std::vector<std::string> extra, const std::string& log = "") {
        usedSlot = &used;
        std::vector<std::string> arguments{IMSAKA_VICC_BINARY, "--profile",
                                           IMSAKA_VICC_PROFILES "/default.ini", "--port",
                                           used.port};
        arguments.insert(arguments.end(), extra.begin(), extra.end());
        vicc = std::make_unique<ViccProcess>(arguments, log);
        ASSERT_TRUE(vicc->waitForLine("imsaka-vicc: inserted", 10s))
            << "imsaka-vicc did not connect";
    }

    // Waits until pcscd reports the card present (or gone).
    bool waitForCard(const Slot& slot, bool present) {
        SCARD_READERSTATE state{};
        state.szReader = slot.reader.c_str();
        state.dwCurrentState = SCARD_STATE_UNAWARE;
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            LONG result = SCardGetStatusChange(context, 500, &state, 1);
            if (result != SCARD_S_SUCCESS && result != SCARD_E_TIMEOUT) return false;
            // Only a reader reported EMPTY counts as absent: in between (a failed
            // reset, a mute card) pcscd has not finished with the old card yet.
            bool isPresent = (state.dwEventState & SCARD_STATE_PRESENT) != 0 &&
                             (state.dwEventState & SCARD_STATE_MUTE) == 0;
            bool isEmpty = (state.dwEventState & SCARD_STATE_EMPTY) != 0;
            if (present ? isPresent : isEmpty) return true;
            state.dwCurrentState = state.dwEventState;
        }
        return false;
    }

    DWORD connect(const Slot& slot) {
        DWORD protocol = 0;
        LONG result = SCardConnect(context, slot.reader.c_str(), SCARD_SHARE_SHARED,
                                   SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &handle, &protocol);
        EXPECT_EQ(result, SCARD_S_SUCCESS) << pcsc_stringify_error(result);
        return protocol;
    }

    std::string transmit(const std::string& apduHex) {
        Bytes apdu = *fromHex(apduHex);
        const SCARD_IO_REQUEST* pci =
            activeProtocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
        uint8_t response[258];
        DWORD length = sizeof response;
        LONG result = SCardTransmit(handle, pci, apdu.data(), static_cast<DWORD>(apdu.size()),
                                    nullptr, response, &length);
        EXPECT_EQ(result, SCARD_S_SUCCESS) << pcsc_stringify_error(result);
        if (result != SCARD_S_SUCCESS) return "";
        return toHex(ByteView(response, length));
    }

    Bytes atr() {
        char name[256];
        DWORD nameLength = sizeof name, state = 0, protocol = 0, atrLength = MAX_ATR_SIZE;
        uint8_t bytes[MAX_ATR_SIZE];
        EXPECT_EQ(SCardStatus(handle, name, &nameLength, &state, &protocol, bytes, &atrLength),
                  SCARD_S_SUCCESS);
        return Bytes(bytes, bytes + atrLength);
    }

    void insertAndConnect(const Slot& slot, std::vector<std::string> extra,
                          const std::string& log = "") {
        start(slot, std::move(extra), log);
        ASSERT_TRUE(waitForCard(slot, true)) << "pcscd did not see the card in " << slot.reader;
        activeProtocol = connect(slot);
    }

    std::string authApdu(const milenage::AuthVector& vector) {
        return "0088008122"
               "10" +
               toHex(vector.rand) + "10" + toHex(vector.autn) + "00";
    }

    milenage::AuthVector vectorFor(uint64_t sqn) {
        milenage::Milenage algorithm(profile.k, profile.opc);
        return milenage::generateVector(algorithm, milenage::sqnFromInt(sqn), profile.amf);
    }

    Profile profile = loadProfile(IMSAKA_VICC_PROFILES "/default.ini");
    std::vector<Slot> slots;
    const Slot* usedSlot = nullptr;  // the reader this test's card is in
    SCARDCONTEXT context = 0;
    SCARDHANDLE handle = 0;
    DWORD activeProtocol = 0;
    std::unique_ptr<ViccProcess> vicc;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    std::string text(static_cast<size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
}

std::string upperHex(std::string hex) {
    for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return hex;
}

std::string spacedUpperHex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) out += (i ? " " : "") + upperHex(hex.substr(i, 2));
    return out;
}

std::string lv(const SecureBytes& value) {
    return toHex(Bytes{static_cast<uint8_t>(value.size())}) + toHex(value);
}

TEST_F(ViccThroughPcsc, T1CardIsConnectedWithT1AndAnswersWithDataDirectly) {
    insertAndConnect(slots[0], {"--protocol", "t1"});
    EXPECT_EQ(activeProtocol, static_cast<DWORD>(SCARD_PROTOCOL_T1));
    Bytes cardAtr = atr();
    ASSERT_GE(cardAtr.size(), 3u);
    EXPECT_EQ(cardAtr[2], 0x01);  // TD1: T=1
    std::string fcp = transmit("00a40004022f0000");
    EXPECT_EQ(fcp,
              "621282054221002002"
              "83022f00"
              "8a0105"
              "80020040"
              "9000");
    std::string record = transmit("00b2010420");
    EXPECT_EQ(record.substr(0, 40), "61184f10" + kIsimAid);
    EXPECT_EQ(record.substr(record.size() - 4), "9000");
    EXPECT_EQ(record.size(), 2u * (32 + 2));
    EXPECT_EQ(transmit("00b2030420"), "6a83");
}

TEST_F(ViccThroughPcsc, T0CardIsConnectedWithT0AndUsesGetResponse) {
    insertAndConnect(slots[1], {"--protocol", "t0"});
    EXPECT_EQ(activeProtocol, static_cast<DWORD>(SCARD_PROTOCOL_T0));
    EXPECT_EQ(transmit("00a40004022f00"), "6114");
    EXPECT_EQ(transmit("00c0000014"),
              "621282054221002002"
              "83022f00"
              "8a0105"
              "80020040"
              "9000");
    EXPECT_EQ(transmit("00b2010400"), "6c20");
    std::string record = transmit("00b2010420");
    EXPECT_EQ(record.substr(0, 40), "61184f10" + kIsimAid);
    EXPECT_EQ(record.substr(record.size() - 4), "9000");
}

TEST_F(ViccThroughPcsc, AuthenticateOverT0MatchesIndependentMilenage) {
    insertAndConnect(slots[1], {"--protocol", "t0"});
    ASSERT_EQ(transmit("00a4040c10" + kIsimAid), "9000");
    milenage::AuthVector vector = vectorFor(0x20);
    EXPECT_EQ(transmit(authApdu(vector)), "612c");
    EXPECT_EQ(transmit("00c000002c"),
              "db" + lv(vector.xres) + lv(vector.ck) + lv(vector.ik) + "9000");
}

TEST_F(ViccThroughPcsc, PulledCardLeavesTheReaderAndReturnsWithItsSqnState) {
    insertAndConnect(slots[0], {"--protocol", "t1"});
    ASSERT_EQ(transmit("00a4040c10" + kIsimAid), "9000");
    milenage::AuthVector vector = vectorFor(0x40);
    ASSERT_EQ(transmit(authApdu(vector)).substr(0, 4), "db08");

    vicc->signal(SIGUSR1);
    ASSERT_TRUE(vicc->waitForLine("imsaka-vicc: pulled", 5s));
    EXPECT_TRUE(waitForCard(slots[0], false)) << "pcscd still sees the card";
    SCardDisconnect(handle, SCARD_LEAVE_CARD);
    handle = 0;

    vicc->signal(SIGUSR2);
    ASSERT_TRUE(vicc->waitForLine("imsaka-vicc: inserted", 10s));
    ASSERT_TRUE(waitForCard(slots[0], true));
    activeProtocol = connect(slots[0]);
    ASSERT_EQ(transmit("00a4040c10" + kIsimAid), "9000");
    std::string replay = transmit(authApdu(vector));
    ASSERT_EQ(replay.substr(0, 4), "dc0e");
    milenage::AutsResult result = milenage::decodeAuts(milenage::Milenage(profile.k, profile.opc),
                                                       vector.rand, *fromHex(replay.substr(4, 28)));
    EXPECT_EQ(milenage::sqnToInt(result.sqnMs), 0x40u);
    EXPECT_TRUE(result.macValid);
    SCardDisconnect(handle, SCARD_LEAVE_CARD);
    handle = 0;
    EXPECT_EQ(vicc->stop(), 0);
}

TEST_F(ViccThroughPcsc, FlagsOverrideTheProfile) {
    insertAndConnect(slots[0], {"--usim-only", "--pin-enabled", "--no-logical-channels"});
    ASSERT_EQ(transmit("00a4000c022f00"), "9000");
    EXPECT_EQ(transmit("00b2010420").substr(0, 40), "61184f10a0000000871002ff49ff0589000000ff");
    EXPECT_EQ(transmit("00b2020420"), "6a83");
    EXPECT_EQ(transmit("00200001"), "63c3");
    EXPECT_EQ(transmit("0070000001"), "6881");
}

TEST_F(ViccThroughPcsc, FaultAndDelayFlagsShapeTheAnswers) {
    insertAndConnect(slots[1], {"--protocol", "t1", "--fault", "unknown-sw", "--delay-ms", "150"});
    auto before = std::chrono::steady_clock::now();
    ASSERT_EQ(transmit("00a4040c10" + kIsimAid), "9000");
    EXPECT_GE(std::chrono::steady_clock::now() - before, 150ms);
    EXPECT_EQ(transmit(authApdu(vectorFor(0x20))), "6f42");
}

TEST_F(ViccThroughPcsc, VerboseLogShowsHeadersAndStatusWordsButNoSecrets) {
    std::string log = testing::TempDir() + "/imsaka-vicc-verbose.log";
    insertAndConnect(slots[0], {"--verbose"}, log);
    ASSERT_EQ(transmit("00a4040c10" + kIsimAid), "9000");
    milenage::AuthVector vector = vectorFor(0x20);
    ASSERT_EQ(transmit(authApdu(vector)).substr(0, 4), "db08");
    SCardDisconnect(handle, SCARD_LEAVE_CARD);
    handle = 0;
    EXPECT_EQ(vicc->stop(), 0);
    std::string text = slurp(log);
    EXPECT_NE(text.find("apdu 00 88 00 81"), std::string::npos) << text;
    EXPECT_NE(text.find("sw 9000"), std::string::npos) << text;
    for (const std::string& secret : {toHex(vector.xres), toHex(vector.ck), toHex(vector.ik),
                                      toHex(profile.k), toHex(profile.opc)}) {
        for (std::string form : {secret, upperHex(secret), spacedUpperHex(secret)}) {
            EXPECT_EQ(text.find(form), std::string::npos) << "log holds a secret";
        }
    }
}

TEST_F(ViccThroughPcsc, BadProfileIsRefusedWithFileLineAndKey) {
    std::string path = testing::TempDir() + "/imsaka-vicc-bad.ini";
    std::ofstream(path) << "[card]\nprotocol = t1\n[subscriber]\nk = 1234\n";
    std::string log = testing::TempDir() + "/imsaka-vicc-bad.log";
    ViccProcess bad({IMSAKA_VICC_BINARY, "--profile", path, "--port", slots[0].port}, log);
    EXPECT_FALSE(bad.waitForLine("imsaka-vicc: inserted", 2s));
    EXPECT_EQ(bad.stop(), 2);
    std::string text = slurp(log);
    EXPECT_NE(text.find(path + ":4: subscriber.k: expected 32 hex digits"), std::string::npos)
        << text;
}

}  // namespace
}  // namespace imsaka::vicc::test
