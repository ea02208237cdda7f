// Registration through the Kamailio P-CSCF, measured end to end: the time from the first
// REGISTER to the 200 OK and where it goes (the card, the SA install, the rest of the
// daemon, the network), and registrations per second over register/deregister cycles of
// the reference client. Runs as root inside user-mode Linux under pcsc-sandbox.sh
// (scripts/bench.sh). Prints figures; it does not judge them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_network.h"

namespace {

using namespace imsaka::e2e;
using namespace std::chrono_literals;

double percentile(std::vector<double> values, double fraction) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    size_t index = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
    return values[index];
}

void row(const char* what, const std::vector<double>& values) {
    std::printf("  %-34s p50 %7.2f ms   p90 %7.2f ms   max %7.2f ms\n", what,
                percentile(values, 0.5), percentile(values, 0.9),
                values.empty() ? 0.0 : *std::max_element(values.begin(), values.end()));
}

// The daemon logs, per challenge, how long the SA install and the card took.
void daemonTimes(const std::string& log, std::vector<double>& install, std::vector<double>& card) {
    static const std::regex line(R"(installed in ([0-9.]+) ms; the card answered in ([0-9.]+) ms)");
    for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) {
        install.push_back(std::stod((*it)[1]));
        card.push_back(std::stod((*it)[2]));
    }
}

// Kamailio 5.6 cannot register a UE address again once it deregistered (its pending contact
// from the first initial REGISTER keeps the old offer: tests/e2e/README.md), so each cycle
// registers from an address of its own: 10.46.0.100 and up, added to the UE's veth.
std::string cycleAddress(int cycle) {
    std::string address = "10.46.0." + std::to_string(100 + cycle);
    std::string command = "ip addr add " + address + "/24 dev veth-ue";
    if (std::system(command.c_str()) != 0) throw std::runtime_error(command + " failed");
    return address;
}

int run(int cycles) {
    TestNetwork network;
    std::vector<double> total, challenge, network_, rest, install, card;
    auto started = std::chrono::steady_clock::now();
    for (int cycle = 0; cycle < cycles; ++cycle) {
        auto args = TestNetwork::clientArgs();
        args[3] = cycleAddress(cycle);  // --local-address
        args.insert(args.end(), {"--no-subscribe", "--cycles", "1"});
        auto& client = network.startClient(args);
        auto registered = client.waitFor("registered", 30s);
        client.waitFor("cycles", 30s);
        if (client.waitExit(10s) != 0)
            throw std::runtime_error("imsaka-register did not end cleanly:\n" + client.log());
        double registerMs = std::stod(registered.at("register-ms"));
        double challengeMs = std::stod(registered.at("challenge-ms"));
        total.push_back(registerMs);
        challenge.push_back(challengeMs);
        network_.push_back(registerMs - challengeMs);
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    daemonTimes(network.ue().daemon->logTail(1000000), install, card);
    if (install.size() != total.size())
        throw std::runtime_error("expected " + std::to_string(total.size()) +
                                 " SA installs in the daemon's log, found " +
                                 std::to_string(install.size()));
    for (size_t i = 0; i < total.size(); ++i) rest.push_back(challenge[i] - install[i] - card[i]);

    std::printf(
        "%d registrations (UDP, IPv4, the default offer), each from the first REGISTER "
        "to the 200 OK:\n",
        cycles);
    row("total", total);
    row("  the card's AUTHENTICATE", card);
    row("  the SA set install (XFRM)", install);
    row("  the rest of HandleResponse(401)", rest);
    row("  network (P-CSCF, S-CSCF, client)", network_);
    std::printf(
        "register/deregister cycles (a new imsaka-register each: CreateRegistration, "
        "register, deregister, Close): %d in %.2f s: %.2f registrations per second\n",
        cycles, seconds, cycles / seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int cycles = argc > 1 ? std::atoi(argv[1]) : 30;
    try {
        return run(cycles > 0 ? cycles : 30);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "e2e_bench: %s\n", e.what());
        return 1;
    }
}
