// What the engine itself costs per registration, card and kernel excluded: a whole
// initial registration (REGISTER, 401, temporary set, protected REGISTER, 200 OK) and a
// refresh answered without a challenge. Both should stay far below a network round trip
// (tens of microseconds at most).
#include <benchmark/benchmark.h>

#include "bench_support.h"
#include "imsaka/daemon/engine.h"
#include "imsaka/testing/reginfo_bodies.h"

namespace {

using namespace imsaka;
using namespace imsaka::daemon;
using namespace imsaka::daemon::bench;

constexpr SecurityOffer kOffer{6100, 6101, 1111, 2222};
constexpr SecurityOffer kRefreshOffer{6200, 6201, 3333, 4444};

RegistrationConfig benchConfig() {
    RegistrationConfig config;
    config.impi = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    config.impu = "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    config.homeDomain = "ims.mnc001.mcc001.3gppnetwork.org";
    config.instanceId = "<urn:gsma:imei:35209900-176148-1>";
    config.localAddress = "10.0.0.2";
    config.pcscfs = {{"10.0.0.1", 5060}};
    auto counter = std::make_shared<unsigned>(0);
    config.newToken = [counter] { return "b" + std::to_string(++*counter); };
    return config;
}

const std::vector<Header> kChallenge{
    {"WWW-Authenticate",
     "Digest realm=\"ims.mnc001.mcc001.3gppnetwork.org\", "
     "nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=\", algorithm=AKAv1-MD5, qop=\"auth\""},
    {"Security-Server",
     "ipsec-3gpp;prot=esp;mod=trans;spi-c=4097;spi-s=4098;port-c=5100;port-s=6100;"
     "alg=hmac-sha-1-96;ealg=aes-cbc"}};

std::vector<Header> okHeaders() {
    return {{"Contact", "<sip:10.0.0.2:" + std::to_string(kOffer.portUs) + ">;expires=3600"},
            {"P-Associated-URI", "<sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>"},
            {"Service-Route", "<sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org;lr>"}};
}

const sip::AkaResult kCard =
    sip::AkaSuccess{SecureBytes(8, 0xa5), SecureBytes(16, 0x3c), SecureBytes(16, 0x5a)};

void registerOnce(RegistrationEngine& engine, Time now) {
    engine.registerNow(now);
    auto initial = first<action::Send>(engine.securityReserved(now, kOffer)).request;
    engine.response(now, answer(401, initial, kChallenge));
    auto install = first<action::InstallSaSet>(engine.authenticated(now, kCard));
    auto protectedRegister =
        first<action::Send>(engine.saSetInstalled(now, install.set.id)).request;
    engine.response(now, answer(200, protectedRegister, okHeaders()));
}

void InitialRegistration(benchmark::State& state) {
    Time now{};
    for (auto _ : state) {
        RegistrationEngine engine(benchConfig());
        registerOnce(engine, now);
        if (engine.state() != RegistrationState::Registered) state.SkipWithError("not registered");
        benchmark::DoNotOptimize(engine.info().expiresAt);
    }
}
BENCHMARK(InitialRegistration);

void RefreshWithoutChallenge(benchmark::State& state) {
    RegistrationEngine engine(benchConfig());
    Time now{};
    registerOnce(engine, now);
    for (auto _ : state) {
        engine.registerNow(now);
        auto refresh = first<action::Send>(engine.securityReserved(now, kRefreshOffer)).request;
        engine.response(now, answer(200, refresh, okHeaders()));
        if (engine.state() != RegistrationState::Registered) state.SkipWithError("not registered");
    }
}
BENCHMARK(RefreshWithoutChallenge);

// HandleNotify's work in the engine for a hostile body of state.range(0) bytes: 1 MiB is
// refused unread, 63 KiB (about the most accepted) is parsed and walked.
void HostileNotify(benchmark::State& state) {
    RegistrationEngine engine(benchConfig());
    Time now{};
    registerOnce(engine, now);
    auto bytes = static_cast<size_t>(state.range(0));
    std::string body = testing::hostileReginfo(bytes, 1);
    unsigned version = 1;
    size_t refused = 0;
    for (auto _ : state) {
        // Each body a new version, as a network sending it over and over would number it.
        std::string text = body;
        auto at = text.find("version=\"") + 9;
        text.replace(at, text.find('"', at) - at, std::to_string(++version));
        try {
            benchmark::DoNotOptimize(engine.notify(now, text));
        } catch (const EngineError&) {
            ++refused;
        }
    }
    if (engine.state() != RegistrationState::Registered) state.SkipWithError("not registered");
    state.counters["refused"] = static_cast<double>(refused);
    state.counters["deregistered_uris"] =
        static_cast<double>(engine.info().deregisteredUris.size());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}
BENCHMARK(HostileNotify)->Arg(1 << 20)->Arg(63 << 10)->Arg(16 << 10)->Unit(benchmark::kMicrosecond);

}  // namespace
