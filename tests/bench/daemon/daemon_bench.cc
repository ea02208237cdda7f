// imsakad's figures, measured through its D-Bus interface with the virtual card (inside
// pcsc-sandbox.sh; see scripts/bench.sh). "uml" runs in user-mode Linux, where SAs are real:
// - the challenge round trip: HandleResponse(401) until the reply with the Authorization,
//   the temporary SA set installed in between (target for the part that is not the card's
//   AUTHENTICATE: p99 < 2 ms);
// - the card's AUTHENTICATE alone, through cardio with the daemon stopped, and through
//   Card1.Authenticate;
// "host" runs on the host, because process start, thread wake-ups and system calls in
// user-mode Linux cost many times what they cost on a real kernel:
// - idle resident memory (target < 8 MB) and start-to-ready without a card (< 100 ms);
// - the card paths again, for figures with a real kernel's scheduling.
// "notify" runs in user-mode Linux (a registration needs its SAs): HandleNotify with hostile
// reg-event bodies (1 MiB, and the largest accepted), per call, with the daemon's memory.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "imsaka/cardio/card.h"
#include "imsaka/testing/reginfo_bodies.h"
#include "scenario.h"

namespace imsaka::daemontest {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double millis(Clock::duration duration) {
    return std::chrono::duration<double, std::milli>(duration).count();
}

double percentile(std::vector<double> values, double fraction) {
    std::sort(values.begin(), values.end());
    size_t index = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
    return values.at(index);
}

void print(const char* what, const std::vector<double>& values) {
    std::printf("%-52s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (n=%zu)\n", what,
                percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0),
                values.size());
}

// Start-to-ready and idle memory with pcscd running but no card in any reader.
void startWithoutCard(int runs) {
    WorkDir dir;
    PrivateBus bus(dir);
    std::vector<double> ready;
    long rssKb = 0;
    for (int run = 0; run < runs; ++run) {
        Daemon daemon(dir);
        ready.push_back(millis(daemon.start()));
        if (run == 0) {
            std::this_thread::sleep_for(1s);  // let start-up work settle
            rssKb = daemon.residentKb();
        }
        daemon.stop(SIGTERM);
    }
    print("start to READY=1, no card (target < 100 ms)", ready);
    std::printf("%-52s %ld kB (target < 8192 kB)\n", "idle VmRSS, no card", rssKb);
}

milenage::AuthVector vectorFor(const testing::ImsNetwork& network, uint64_t sqn) {
    milenage::Milenage algorithm(*fromHex(network.options().k), *fromHex(network.options().opc));
    return milenage::generateVector(algorithm, milenage::sqnFromInt(sqn), *fromHex("8000"));
}

struct CardTimes {
    std::vector<double> overDbus;   // Card1.Authenticate
    std::vector<double> direct;     // cardio, daemon stopped
    std::vector<double> emptyCall;  // Manager1.Version
};

// The card's AUTHENTICATE alone, through the daemon and through cardio, and an empty D-Bus
// call for scale. Stops the daemon (for cardio to have the card to itself).
CardTimes cardTimes(Sandbox& sandbox, const testing::ImsNetwork& network, int runs) {
    CardTimes times;
    CardProxy card(*sandbox.connection, sandbox.cardPath);
    uint64_t sqn = network.nextSqn();
    for (int run = 0; run < runs + 5; ++run, sqn += 32) {  // the first 5 warm up
        auto vector = vectorFor(network, sqn);
        auto begin = Clock::now();
        auto reply = card.Authenticate(vector.rand, vector.autn);
        auto elapsed = Clock::now() - begin;
        if (std::get<0>(reply) != "success") throw std::runtime_error("Card1.Authenticate failed");
        if (run >= 5) times.overDbus.push_back(millis(elapsed));
    }
    ManagerProxy manager(*sandbox.connection, "/org/imsaka");
    for (int run = 0; run < runs + 5; ++run) {
        auto begin = Clock::now();
        manager.Version();
        if (run >= 5) times.emptyCall.push_back(millis(Clock::now() - begin));
    }
    sandbox.daemon->stop(SIGTERM);
    cardio::Card directCard({.reader = sandbox.card->reader(), .session = {}});
    for (int run = 0; run < runs + 5; ++run, sqn += 32) {
        auto vector = vectorFor(network, sqn);
        auto begin = Clock::now();
        directCard.authenticate(vector.rand, vector.autn);
        if (run >= 5) times.direct.push_back(millis(Clock::now() - begin));
    }
    print("card AUTHENTICATE through cardio (daemon stopped)", times.direct);
    print("card AUTHENTICATE through Card1.Authenticate", times.overDbus);
    print("a D-Bus call that does nothing (Manager1.Version)", times.emptyCall);
    return times;
}

void roundTrips(int runs) {
    Sandbox sandbox;
    testing::ImsNetwork network;
    std::vector<double> roundTrip;
    long rssHalfway = 0;
    for (int run = 0; run < runs + 5; ++run) {  // the first 5 warm up
        ManagerProxy manager(*sandbox.connection, "/org/imsaka");
        std::string path = manager.CreateRegistration(sandbox.registrationOptions());
        RegistrationProxy registration(*sandbox.connection, path);
        auto initial = step(registration.Register());
        auto challenge = network.challenge(initial.headers());
        auto headers = toDbus(challenge.headers);
        auto begin = Clock::now();
        auto answer = step(registration.HandleResponse(401, headers));
        auto elapsed = Clock::now() - begin;
        if (answer.next != "send" || !answer.protectedBySa() ||
            network.checkAuthorization(answer.headers(), answer.uri()).kind !=
                testing::AuthorizationKind::Valid)
            throw std::runtime_error("the round trip did not end in a valid protected REGISTER");
        if (run >= 5) roundTrip.push_back(millis(elapsed));
        registration.Close();
        if (run == runs / 2) rssHalfway = sandbox.daemon->residentKb();
    }
    auto kernel = kernelView();
    std::printf("%-52s %zu SAs, %zu policies of ours left\n", "after the last Close()",
                kernel.ownSas, kernel.ownPolicies);
    // After hundreds of registrations made and closed: a leak would grow from half to end.
    std::printf("%-52s %ld kB halfway, %ld kB at the end\n", "VmRSS over the round trips",
                rssHalfway, sandbox.daemon->residentKb());

    print("HandleResponse(401) round trip over D-Bus", roundTrip);
    auto card = cardTimes(sandbox, network, runs);
    // Medians of the card subtracted from the round trip's p50 and p99: the tail is charged
    // to the daemon. Through cardio, the daemon's hand-off to its card thread counts as
    // not-card; through Card1.Authenticate it counts as card.
    for (auto [what, times] :
         {std::pair{"round trip minus cardio's AUTHENTICATE (p50)", &card.direct},
          std::pair{"round trip minus Card1.Authenticate (p50)", &card.overDbus}}) {
        double cardMedian = percentile(*times, 0.5);
        std::printf("%-52s p50 %7.3f ms  p99 %7.3f ms  (target p99 < 2 ms)\n", what,
                    percentile(roundTrip, 0.5) - cardMedian,
                    percentile(roundTrip, 0.99) - cardMedian);
    }
}

// HandleNotify with hostile bodies on a registered registration: the time of each call as
// its caller sees it, the daemon's memory before and after, and what BarredUris and
// DeregisteredUris hold at the end.
void hostileNotifies(int calls) {
    Sandbox sandbox;
    testing::ImsNetwork network;
    auto registration =
        createAndChallenge(*sandbox.connection, network, sandbox.registrationOptions());
    auto ok = network.ok(registration.answer.headers(), 3600, {kImpu}, {});
    step(registration.registration->HandleResponse(200, toDbus(ok)));
    if (registration.registration->State() != "registered")
        throw std::runtime_error("the registration did not register");
    ManagerProxy manager(*sandbox.connection, "/org/imsaka");
    std::this_thread::sleep_for(1s);
    long rssBefore = sandbox.daemon->residentKb();
    unsigned version = 0;
    for (auto [what, bytes] : {std::pair{"1 MiB (refused: over 64 KiB)", size_t{1} << 20},
                               std::pair{"63 KiB (parsed and walked)", size_t{63} << 10}}) {
        std::vector<double> perCall, otherCall;
        int refused = 0;
        for (int call = 0; call < calls; ++call) {
            std::string body = testing::hostileReginfo(bytes, ++version);
            auto begin = Clock::now();
            try {
                registration.registration->HandleNotify(body);
            } catch (const sdbus::Error&) {
                ++refused;
            }
            perCall.push_back(millis(Clock::now() - begin));
            // Another client's call right after: what the event loop makes it wait.
            begin = Clock::now();
            manager.Version();
            otherCall.push_back(millis(Clock::now() - begin));
        }
        std::string label = std::string("HandleNotify, hostile body of ") + what;
        print(label.c_str(), perCall);
        std::printf("%-52s %d of %d refused\n", "", refused, calls);
        print("  Manager1.Version right after each", otherCall);
    }
    // The daemon's own time per body, from its debug log: what the event loop spent.
    std::map<size_t, std::vector<double>> handled;
    std::istringstream log(sandbox.daemon->logTail(100000));
    for (std::string line; std::getline(log, line);) {
        size_t bytes = 0;
        double ms = 0;
        auto at = line.find("reg-event body of ");
        if (at != std::string::npos &&
            std::sscanf(line.c_str() + at, "reg-event body of %zu bytes handled in %lf ms", &bytes,
                        &ms) == 2)
            handled[bytes > (64 << 10) ? 1 << 20 : 63 << 10].push_back(ms);
    }
    for (auto& [bytes, times] : handled) {
        std::string label = "  in the daemon (its log), bodies of " +
                            std::string(bytes > (64 << 10) ? "1 MiB" : "63 KiB");
        print(label.c_str(), times);
    }
    std::printf("%-52s %ld kB before, %ld kB after %d calls of each\n",
                "VmRSS around the hostile NOTIFYs", rssBefore, sandbox.daemon->residentKb(), calls);
    std::printf("%-52s BarredUris %zu, DeregisteredUris %zu, state %s\n", "afterwards",
                registration.registration->BarredUris().size(),
                registration.registration->DeregisteredUris().size(),
                registration.registration->State().c_str());
    registration.registration->Close();
}

// On the host: idle memory with a card, then the card paths with a real kernel's scheduling
// (no SAs are needed).
void cardOnHost(int runs) {
    Sandbox sandbox;
    std::this_thread::sleep_for(1s);
    std::printf("%-52s %ld kB (target < 8192 kB)\n", "idle VmRSS, card present",
                sandbox.daemon->residentKb());
    cardTimes(sandbox, testing::ImsNetwork{}, runs);
}

}  // namespace
}  // namespace imsaka::daemontest

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    int runs = argc > 2 ? std::atoi(argv[2]) : 200;
    if ((mode != "host" && mode != "uml" && mode != "notify") || runs < 1) {
        std::fprintf(stderr, "usage: daemon_bench host|uml|notify [runs]\n");
        return 2;
    }
    try {
        imsaka::daemontest::requirePrerequisites();
        if (mode == "host") {
            imsaka::daemontest::startWithoutCard(20);
            imsaka::daemontest::cardOnHost(runs);
        } else if (mode == "notify") {
            imsaka::daemontest::setUpTestNetwork();
            imsaka::daemontest::hostileNotifies(runs);
        } else {
            imsaka::daemontest::setUpTestNetwork();
            imsaka::daemontest::roundTrips(runs);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "daemon_bench: %s\n", error.what());
        return 1;
    }
    return 0;
}
