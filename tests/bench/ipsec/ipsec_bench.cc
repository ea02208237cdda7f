// SA sets installed and removed per second: the library against `ip -batch` doing the same
// SAs and policies in the same kernel, and the latency of one set install (4 SAs and 4
// policies). Needs a kernel with ESP: run it with scripts/bench-ipsec.sh (user-mode Linux).
//
// ipsec_bench [sets per round] [rounds]
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "imsaka/ipsec/xfrm.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using imsaka::Bytes;
using imsaka::fromHex;
using namespace imsaka::ipsec;

const Bytes kCk = *fromHex("5349fbe098649f948f5d2e973a81c00f");
const Bytes kIk = *fromHex("9744871ad32bf9bbd1dd5ce54e3e2e5a");
const char* kUe = "10.77.0.1";
const char* kPcscf = "10.77.0.2";

double seconds(Clock::duration duration) {
    return std::chrono::duration<double>(duration).count();
}

double percentile(std::vector<double> values, double fraction) {
    std::sort(values.begin(), values.end());
    return values[static_cast<size_t>(fraction * static_cast<double>(values.size() - 1))];
}

struct Ports {
    uint16_t uc, us, pc, ps;
};

Ports portsOf(int set) {
    auto base = static_cast<uint16_t>(10000 + (set % 10000) * 4);
    return {base, static_cast<uint16_t>(base + 1), static_cast<uint16_t>(base + 2),
            static_cast<uint16_t>(base + 3)};
}

// Installs and removes `count` sets one after another; returns the elapsed time and
// appends the latency of each install (SPI allocation included) in milliseconds.
Clock::duration libraryRound(Xfrm& xfrm, int count, std::vector<double>& latencies) {
    IpAddress ue = IpAddress::fromText(kUe), pcscf = IpAddress::fromText(kPcscf);
    auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        Ports ports = portsOf(i);
        auto begin = Clock::now();
        SpiReservation reservation = xfrm.reserveSpis(ue, pcscf);
        SaSetSpec spec;
        spec.ue = ue;
        spec.pcscf = pcscf;
        spec.portUc = ports.uc;
        spec.portUs = ports.us;
        spec.portPc = ports.pc;
        spec.portPs = ports.ps;
        spec.spiUc = reservation.spiClient;
        spec.spiUs = reservation.spiServer;
        spec.spiPc = 0x20000 + static_cast<uint32_t>(i) * 2;
        spec.spiPs = 0x20001 + static_cast<uint32_t>(i) * 2;
        spec.integrity = Integrity::HmacSha1_96;
        spec.encryption = Encryption::AesCbc;
        spec.lifetime = {240, 0};
        SaSet set = xfrm.install(reservation, spec, kCk, kIk);
        latencies.push_back(seconds(Clock::now() - begin) * 1000);
        xfrm.remove(set);
    }
    return Clock::now() - start;
}

// The same four SAs and four policies per set, as `ip` commands.
std::string ipCommands(int set, bool add) {
    Ports p = portsOf(set);
    std::string auth = "auth-trunc 'hmac(sha1)' 0x" + imsaka::toHex(kIk) + "00000000 96";
    std::string enc = "enc 'cbc(aes)' 0x" + imsaka::toHex(kCk);
    struct Sa {
        const char *src, *dst;
        uint16_t sport, dport;
        uint32_t spi;
        const char* dir;
    };
    auto spiBase = 0x40000 + static_cast<uint32_t>(set) * 4;
    Sa sas[4] = {{kUe, kPcscf, p.uc, p.ps, spiBase, "out"},
                 {kPcscf, kUe, p.ps, p.uc, spiBase + 1, "in"},
                 {kPcscf, kUe, p.pc, p.us, spiBase + 2, "in"},
                 {kUe, kPcscf, p.us, p.pc, spiBase + 3, "out"}};
    std::string text;
    for (const Sa& sa : sas) {
        std::string sel = std::string("src ") + sa.src + "/32 dst " + sa.dst + "/32 sport " +
                          std::to_string(sa.sport) + " dport " + std::to_string(sa.dport);
        std::string reqid = std::to_string(0x494e0000 + sa.spi % 0x10000);
        if (add) {
            text += std::string("xfrm state add src ") + sa.src + " dst " + sa.dst +
                    " proto esp spi " + std::to_string(sa.spi) + " reqid " + reqid +
                    " mode transport replay-window 32 " + auth + " " + enc +
                    " limit time-hard 240 sel " + sel + "\n";
        } else {
            text += std::string("xfrm state delete src ") + sa.src + " dst " + sa.dst +
                    " proto esp spi " + std::to_string(sa.spi) + "\n";
        }
    }
    for (const Sa& sa : sas) {
        std::string sel = std::string("src ") + sa.src + "/32 dst " + sa.dst + "/32 sport " +
                          std::to_string(sa.sport) + " dport " + std::to_string(sa.dport);
        std::string reqid = std::to_string(0x494e0000 + sa.spi % 0x10000);
        if (add) {
            text += "xfrm policy add " + sel + " dir " + sa.dir + " tmpl src " + sa.src + " dst " +
                    sa.dst + " proto esp reqid " + reqid + " mode transport\n";
        } else {
            text += "xfrm policy delete " + sel + " dir " + sa.dir + "\n";
        }
    }
    return text;
}

Clock::duration runIpBatch(const std::string& path) {
    auto start = Clock::now();
    pid_t pid;
    const char* argv[] = {"ip", "-batch", path.c_str(), nullptr};
    if (posix_spawnp(&pid, "ip", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
        std::fprintf(stderr, "cannot start ip\n");
        std::exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    auto elapsed = Clock::now() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "ip -batch %s failed\n", path.c_str());
        std::exit(1);
    }
    return elapsed;
}

Clock::duration ipRound(int count, const std::string& path) {
    std::ofstream file(path);
    for (int i = 0; i < count; ++i) file << ipCommands(i, true) << ipCommands(i, false);
    file.close();
    return runIpBatch(path);
}

}  // namespace

int main(int argc, char** argv) {
    int count = argc > 1 ? std::atoi(argv[1]) : 300;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    if (count < 1 || rounds < 1) {
        std::fprintf(stderr, "usage: ipsec_bench [sets per round] [rounds]\n");
        return 2;
    }
    try {
        Xfrm xfrm;
        xfrm.removeOwnState();
        std::vector<double> libraryRates, ipRates, latencies, ipSingle;
        std::string path = "/tmp/imsaka-ipsec-bench.batch";
        std::string single = "/tmp/imsaka-ipsec-bench-one.batch";
        std::ofstream(single) << ipCommands(0, true);
        std::string cleanup = "/tmp/imsaka-ipsec-bench-undo.batch";
        std::ofstream(cleanup) << ipCommands(0, false);
        // Warm-up: the first SA makes the kernel load the ESP and crypto modules.
        std::vector<double> warmup;
        libraryRound(xfrm, 1, warmup);
        runIpBatch(single);
        runIpBatch(cleanup);
        // Rounds alternate so that both sides see the same kernel conditions.
        for (int round = 0; round < rounds; ++round) {
            libraryRates.push_back(count / seconds(libraryRound(xfrm, count, latencies)));
            ipRates.push_back(count / seconds(ipRound(count, path)));
            ipSingle.push_back(seconds(runIpBatch(single)) * 1000);
            runIpBatch(cleanup);
        }
        double library = percentile(libraryRates, 0.5), ip = percentile(ipRates, 0.5);
        std::printf("kernel state per set: 4 ESP SAs (hmac-sha-1-96 + aes-cbc) and 4 policies\n");
        std::printf("rounds: %d, sets per round: %d (install then remove, one set at a time)\n",
                    rounds, count);
        std::printf(
            "library (ALLOCSPI x2, UPDSA x2, NEWSA x2, NEWPOLICY x4, then removal):"
            " %.0f sets/s (median round)\n",
            library);
        std::printf(
            "ip -batch (NEWSA x4, NEWPOLICY x4, then removal, one process per round):"
            " %.0f sets/s (median round)\n",
            ip);
        std::printf("ratio library / ip -batch: %.2f\n", library / ip);
        std::printf(
            "library install latency of one set (SPI allocation included):"
            " median %.3f ms, p90 %.3f ms, max %.3f ms (%zu installs)\n",
            percentile(latencies, 0.5), percentile(latencies, 0.9), percentile(latencies, 1.0),
            latencies.size());
        std::printf("ip -batch install of one set (process start included): median %.3f ms\n",
                    percentile(ipSingle, 0.5));
        auto left = xfrm.countState();
        if (left.ownSas + left.ownPolicies + left.otherSas + left.otherPolicies != 0) {
            std::fprintf(stderr, "state was left behind\n");
            return 1;
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "ipsec_bench: %s\n", error.what());
        return 1;
    }
    return 0;
}
