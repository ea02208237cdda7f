// Registration through the Kamailio P-CSCF, measured end to end: the time from the first
// REGISTER to the 200 OK and where it goes (the card, the SA install, the rest of the
// daemon, the network), and registrations per second over register/deregister cycles of
// the reference client. Runs as root inside user-mode Linux under pcsc-sandbox.sh
// (scripts/bench.sh). Prints figures; it does not judge them.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <regex>
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

int run(int cycles) {
    TestNetwork network;
    auto args = TestNetwork::clientArgs();
    args.insert(args.end(), {"--no-subscribe", "--cycles", std::to_string(cycles)});
    auto& client = network.startClient(args);
    auto done = client.waitFor("cycles", std::chrono::seconds(30 + 5 * cycles));
    if (auto status = client.waitExit(10s); status != 0)
        throw std::runtime_error("imsaka-register did not end cleanly:\n" + client.log());

    std::vector<double> total, challenge, network_, rest, install, card;
    for (const auto& event : client.events()) {
        if (event.word != "registered") continue;
        double registerMs = std::stod(event.at("register-ms"));
        double challengeMs = std::stod(event.at("challenge-ms"));
        total.push_back(registerMs);
        challenge.push_back(challengeMs);
        network_.push_back(registerMs - challengeMs);
    }
    daemonTimes(network.ue().daemon->logTail(1000000), install, card);
    if (total.size() != static_cast<size_t>(cycles) || install.size() != total.size())
        throw std::runtime_error(
            "expected " + std::to_string(cycles) + " registrations and SA installs, got " +
            std::to_string(total.size()) + " and " + std::to_string(install.size()));
    for (size_t i = 0; i < total.size(); ++i) rest.push_back(challenge[i] - install[i] - card[i]);

    std::printf(
        "%d registrations (UDP, IPv4, hmac-sha-1-96/null), each from the first REGISTER to the 200 "
        "OK:\n",
        cycles);
    row("total", total);
    row("  the card's AUTHENTICATE", card);
    row("  the SA set install (XFRM)", install);
    row("  the rest of HandleResponse(401)", rest);
    row("  network (P-CSCF, S-CSCF, client)", network_);
    std::printf("register/deregister cycles: %s in %s s: %s registrations per second\n",
                done.at("n").c_str(), done.at("seconds").c_str(), done.at("per-second").c_str());
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
