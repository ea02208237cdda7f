// The work the daemon does for each 401: parse WWW-Authenticate and Security-Server,
// choose the mechanism, decode the nonce, and build the Authorization and Security-Verify
// values (the card's answer is given). Target: under 5 microseconds per 401.
// Handle401 is the 401 a Kamailio 5.6 P-CSCF sends (one mechanism); the others add a
// second mechanism with q, and mirroring from the raw text.
#include <benchmark/benchmark.h>

#include "imsaka/sip/digest.h"
#include "imsaka/sip/sec_agree.h"

namespace {

using namespace imsaka::sip;

constexpr std::string_view kWwwAuthenticate =
    "Digest realm=\"ims.mnc001.mcc001.3gppnetwork.org\", "
    "nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=\", algorithm=AKAv1-MD5, "
    "qop=\"auth,auth-int\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
// What a Kamailio 5.6 P-CSCF sends: one mechanism, no q.
constexpr std::string_view kSecurityServer =
    "ipsec-3gpp;prot=esp;mod=trans;spi-c=4097;spi-s=4098;port-c=5100;port-s=6100;"
    "alg=hmac-sha-1-96;ealg=aes-cbc";
// A P-CSCF that offers two mechanisms with q.
constexpr std::string_view kTwoMechanisms =
    "ipsec-3gpp;q=0.5;alg=hmac-md5-96;ealg=null;spi-c=4097;spi-s=4098;port-c=5100;"
    "port-s=6100;prot=esp;mod=trans, ipsec-3gpp;q=0.9;alg=hmac-sha-1-96;ealg=aes-cbc;"
    "spi-c=4099;spi-s=4100;port-c=5100;port-s=6100;prot=esp;mod=trans";

struct Fixture {
    std::vector<SecurityMechanism> offered;
    DigestRequest request;
    AkaResult card;  // held as the variant the daemon passes, so no copy per call

    Fixture() {
        SecurityCapabilities capabilities;
        capabilities.spiC = 1111;
        capabilities.spiS = 2222;
        capabilities.portC = 5062;
        capabilities.portS = 5064;
        offered = buildSecurityClient(capabilities);
        request.username = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
        request.uri = "sip:ims.mnc001.mcc001.3gppnetwork.org";
        request.cnonce = "0a4f113b";
        // TS 35.208 test set 1: RES, CK, IK.
        card = AkaSuccess{imsaka::secureCopy(*imsaka::fromHex("a54211d5e3ba50bf")),
                          imsaka::secureCopy(*imsaka::fromHex("b40ba9a3c58b2a05bbf0d987b21bf8cb")),
                          imsaka::secureCopy(*imsaka::fromHex("f769bcd751044604127672711c6d3441"))};
    }
};

enum class Mirror { Parsed, RawText };

// mirror: Parsed mirrors the list parsed once for selection; RawText parses the raw value
// again, as a caller holding only the header text would.
void Handle401With(benchmark::State& state, std::string_view securityServer, Mirror mirror) {
    Fixture fixture;
    for (auto _ : state) {
        auto challenge = parseWwwAuthenticate(kWwwAuthenticate);
        auto nonce = decodeAkaNonce(challenge.nonce);
        benchmark::DoNotOptimize(nonce);
        auto server = parseSecurityHeader(securityServer);
        auto chosen = selectMechanism(fixture.offered, server);
        benchmark::DoNotOptimize(chosen);
        std::string authorization =
            formatAuthorization(answerAkaChallenge(challenge, fixture.request, fixture.card));
        std::string verify = mirror == Mirror::Parsed
                                 ? securityVerifyValue(server)
                                 : securityVerifyValue(std::span(&securityServer, 1));
        benchmark::DoNotOptimize(authorization);
        benchmark::DoNotOptimize(verify);
    }
}

void Handle401(benchmark::State& state) {
    Handle401With(state, kSecurityServer, Mirror::Parsed);
}
BENCHMARK(Handle401);

void Handle401TwoMechanismsWithQ(benchmark::State& state) {
    Handle401With(state, kTwoMechanisms, Mirror::Parsed);
}
BENCHMARK(Handle401TwoMechanismsWithQ);

void Handle401TwoMechanismsMirroringRawText(benchmark::State& state) {
    Handle401With(state, kTwoMechanisms, Mirror::RawText);
}
BENCHMARK(Handle401TwoMechanismsMirroringRawText);

void ParseWwwAuthenticate(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(parseWwwAuthenticate(kWwwAuthenticate));
}
BENCHMARK(ParseWwwAuthenticate);

void ParseSecurityServerTwoMechanisms(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(parseSecurityHeader(kTwoMechanisms));
}
BENCHMARK(ParseSecurityServerTwoMechanisms);

void BuildAuthorization(benchmark::State& state) {
    Fixture fixture;
    auto challenge = parseWwwAuthenticate(kWwwAuthenticate);
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            formatAuthorization(answerAkaChallenge(challenge, fixture.request, fixture.card)));
    }
}
BENCHMARK(BuildAuthorization);

}  // namespace

BENCHMARK_MAIN();
