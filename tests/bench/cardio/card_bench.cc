// Authentications through cardio against a bare loop of SCardTransmit sending the same
// APDUs to the same virtual card, on T=1 and on T=0. Prints figures; asserts nothing.
// Run it beside a private pcscd: tests/integration/pcsc-sandbox.sh card_bench [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "imsaka/cardio/card.h"
#include "imsaka/cardio/pcsc.h"
#include "imsaka/milenage/milenage.h"
#include "virtual_card.h"

namespace {

using namespace imsaka;
using Clock = std::chrono::steady_clock;

struct Vectors {
    milenage::Milenage algorithm{*fromHex(testing::kK), *fromHex(testing::kOpc)};
    uint64_t seq = 0;
    milenage::AuthVector next() {
        Bytes amf{0x80, 0x00};
        return milenage::generateVector(algorithm, milenage::sqnFromInt(++seq << 5), amf);
    }
};

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// Selects the ISIM on the basic channel once, then sends AUTHENTICATE (and GET RESPONSE
// on T=0) with plain SCardTransmit: the floor any library on PC/SC can reach.
class BareLoop {
  public:
    explicit BareLoop(const std::string& reader) {
        SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &context_);
        if (SCardConnect(context_, reader.c_str(), SCARD_SHARE_SHARED,
                         SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &handle_,
                         &protocol_) != SCARD_S_SUCCESS) {
            std::fprintf(stderr, "bare loop: cannot connect\n");
            std::exit(1);
        }
        Bytes select = *fromHex("00a4040410a0000000871004ff49ff0289000000ff00");
        transmitAll(select);
    }
    ~BareLoop() {
        SCardDisconnect(handle_, SCARD_LEAVE_CARD);
        SCardReleaseContext(context_);
    }
    bool authenticate(const milenage::AuthVector& vector, bool inTransaction = false) {
        if (inTransaction) SCardBeginTransaction(handle_);
        bool ok = send(vector);
        if (inTransaction) SCardEndTransaction(handle_, SCARD_LEAVE_CARD);
        return ok;
    }

  private:
    bool send(const milenage::AuthVector& vector) {
        Bytes apdu{0x00, 0x88, 0x00, 0x81, 0x22, 0x10};
        apdu.insert(apdu.end(), vector.rand.begin(), vector.rand.end());
        apdu.push_back(0x10);
        apdu.insert(apdu.end(), vector.autn.begin(), vector.autn.end());
        apdu.push_back(0x00);
        return transmitAll(apdu) == 0x9000;
    }

    uint16_t transmitAll(const Bytes& apdu) {
        Bytes command = apdu;
        for (;;) {
            uint8_t response[260];
            DWORD length = sizeof response;
            const SCARD_IO_REQUEST* pci =
                protocol_ == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
            if (SCardTransmit(handle_, pci, command.data(), static_cast<DWORD>(command.size()),
                              nullptr, response, &length) != SCARD_S_SUCCESS ||
                length < 2)
                return 0;
            uint16_t sw = static_cast<uint16_t>(response[length - 2] << 8 | response[length - 1]);
            if ((sw >> 8) != 0x61) return sw;
            command = {0x00, 0xC0, 0x00, 0x00, static_cast<uint8_t>(sw & 0xFF)};
        }
    }
    SCARDCONTEXT context_ = 0;
    SCARDHANDLE handle_ = 0;
    DWORD protocol_ = 0;
};

void benchmark(const std::string& protocol, int rounds) {
    testing::CardProfile profile;
    profile.protocol = protocol;
    testing::VirtualCard virtualCard(profile, 35963);
    Vectors vectors;
    cardio::Card card({.reader = virtualCard.reader(), .session = {}});
    BareLoop bare(virtualCard.reader());

    // Warm up both paths (connection, channel, selection), then alternate blocks of
    // the two so that drift on a shared machine hits both alike.
    for (int i = 0; i < 10; ++i) {
        auto v = vectors.next();
        card.authenticate(v.rand, v.autn);
        bare.authenticate(vectors.next());
    }
    uint64_t exchangesBefore = card.exchanges();
    std::vector<double> cardTimes, bareTimes, lockedTimes;
    constexpr int kBlock = 20;
    int failures = 0;
    for (int done = 0; done < rounds; done += kBlock) {
        for (int i = 0; i < kBlock; ++i) {
            auto v = vectors.next();
            auto start = Clock::now();
            auto result = card.authenticate(v.rand, v.autn);
            cardTimes.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
            failures += result.kind != cardio::AuthResult::Kind::Success;
        }
        for (int i = 0; i < kBlock; ++i) {
            auto v = vectors.next();
            auto start = Clock::now();
            failures += !bare.authenticate(v);
            bareTimes.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
        for (int i = 0; i < kBlock; ++i) {
            auto v = vectors.next();
            auto start = Clock::now();
            failures += !bare.authenticate(v, true);
            lockedTimes.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
    }
    double exchanges = double(card.exchanges() - exchangesBefore) / double(cardTimes.size());
    double cardMedian = median(cardTimes), bareMedian = median(bareTimes);
    double lockedMedian = median(lockedTimes);
    std::printf(
        "%s: %zu authentications each; APDU exchanges per authentication %.2f; "
        "cardio median %.1f us, bare SCardTransmit median %.1f us, ratio %.3f; "
        "bare inside a PC/SC transaction %.1f us, ratio %.3f; failures %d\n",
        protocol == "t0" ? "T=0" : "T=1", cardTimes.size(), exchanges, cardMedian, bareMedian,
        cardMedian / bareMedian, lockedMedian, cardMedian / lockedMedian, failures);
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = argc > 1 ? std::atoi(argv[1]) : 400;
    benchmark("t1", rounds);
    benchmark("t0", rounds);
    return 0;
}
