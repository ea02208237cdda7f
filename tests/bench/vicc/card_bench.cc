#include <benchmark/benchmark.h>
#include <imsaka/milenage/milenage.h>
#include <imsaka/vicc/card.h>
#include <imsaka/vicc/profile.h>

#include <stdexcept>

namespace {

using namespace imsaka;

const vicc::Profile& profile() {
    static const vicc::Profile loaded = vicc::loadProfile(IMSAKA_VICC_PROFILES "/default.ini");
    return loaded;
}

const Bytes kSelectIsim = *fromHex("00a4040c10a0000000871004ff49ff0289000000ff");

std::unique_ptr<vicc::Card> insertedCard() {
    auto card = std::make_unique<vicc::Card>(profile());
    card->powerOn();
    if (card->transmit(kSelectIsim).back() != 0x00) throw std::runtime_error("select failed");
    return card;
}

void MilenageVector(benchmark::State& state) {
    milenage::Milenage algorithm(profile().k, profile().opc);
    Bytes rand(16, 0x23), sqn = milenage::sqnFromInt(0x20), amf{0x80, 0x00};
    for (auto _ : state) {
        benchmark::DoNotOptimize(milenage::generateVector(algorithm, sqn, amf, ByteView(rand)));
    }
}
BENCHMARK(MilenageVector);

// One successful AUTHENTICATE APDU through the card (T=1), SQN rising each time. A
// fresh card replays the same batch of vectors once the batch is used up.
void CardAuthenticate(benchmark::State& state) {
    constexpr size_t kBatch = 4096;
    milenage::Milenage algorithm(profile().k, profile().opc);
    std::vector<Bytes> apdus;
    for (size_t i = 0; i < kBatch; ++i) {
        milenage::AuthVector vector =
            milenage::generateVector(algorithm, milenage::sqnFromInt((i + 1) << 5), profile().amf);
        Bytes apdu = *fromHex("0088008122");
        apdu.push_back(0x10);
        apdu.insert(apdu.end(), vector.rand.begin(), vector.rand.end());
        apdu.push_back(0x10);
        apdu.insert(apdu.end(), vector.autn.begin(), vector.autn.end());
        apdu.push_back(0x00);
        apdus.push_back(apdu);
    }
    auto card = insertedCard();
    size_t next = 0;
    for (auto _ : state) {
        if (next == kBatch) {
            state.PauseTiming();
            card = insertedCard();
            next = 0;
            state.ResumeTiming();
        }
        SecureBytes response = card->transmit(apdus[next++]);
        if (response[0] != 0xDB) state.SkipWithError("AUTHENTICATE did not succeed");
    }
}
BENCHMARK(CardAuthenticate);

void CardSelectAndReadRecord(benchmark::State& state) {
    auto card = insertedCard();
    Bytes select = *fromHex("00a4000c026f04"), read = *fromHex("00b2010400");
    for (auto _ : state) {
        benchmark::DoNotOptimize(card->transmit(select));
        benchmark::DoNotOptimize(card->transmit(read));
    }
}
BENCHMARK(CardSelectAndReadRecord);

}  // namespace
