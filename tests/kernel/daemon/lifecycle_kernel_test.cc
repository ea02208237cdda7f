// How imsakad starts and ends, with real SA sets in the kernel of user-mode Linux: a second
// daemon never touches the first one's SAs, and however the daemon ends (signal, lost bus,
// a fatal error on any of its threads) nothing of ours stays in the kernel.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "process.h"
#include "scenario.h"

namespace imsaka::daemontest {
namespace {

using namespace std::chrono_literals;
using testing::ImsNetwork;

// Generous: the guest shares two cores with whatever else runs.
constexpr auto kExitBound = 60s;

std::string describe(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
    return "wait status " + std::to_string(status);
}

void expectNothingOfOursInTheKernel() {
    auto view = kernelView();
    EXPECT_EQ(view.ownSas, 0u) << view.ipXfrmState;
    EXPECT_EQ(view.ownPolicies, 0u) << view.ipXfrmPolicy;
}

// An ESP packet with the P-CSCF's spi-s leaves when the registration's client socket sends to
// the P-CSCF's protected server port: the set is in the kernel and in use.
void expectEspThrough(const Challenged& registration) {
    auto socket = registration.registration->OpenSocket("udp", "client");
    sdbus::UnixFd esp(pcscfEspSocket(), sdbus::adopt_fd);
    const std::string_view payload = "MESSAGE over ESP";
    ASSERT_EQ(sendToPcscf(socket.get(), registration.challenge.pcscf.portS, payload),
              static_cast<ssize_t>(payload.size()))
        << std::strerror(errno);
    EXPECT_EQ(nextEspSpi(esp.get(), 5s), std::optional(registration.challenge.pcscf.spiS));
}

class LifecycleKernelTest : public ::testing::Test {
  protected:
    void start() {
        if (auto error = startSandbox(sandbox_); !error.empty()) FAIL() << error;
    }
    void TearDown() override {
        if (HasFailure() && sandbox_) std::cerr << sandbox_->diagnostics();
    }
    Sandbox& sandbox() { return *sandbox_; }
    sdbus::IConnection& bus() { return *sandbox_->connection; }

    // A registration taken to "registered": its SA set established in the kernel.
    Challenged registerWith(ImsNetwork& network, const Options& options) {
        auto registration = createAndChallenge(bus(), network, options);
        auto ok = network.ok(registration.answer.headers(), 3600, {kImpu}, {});
        step(registration.registration->HandleResponse(200, toDbus(ok)));
        EXPECT_EQ(registration.registration->State(), "registered");
        return registration;
    }
    // Two registrations, two established SA sets: 8 SAs, and 16 policies of ours (each set's
    // four and its four guards of the protected ports).
    void registerTwo() {
        one_ = registerWith(first_, sandbox().registrationOptions());
        two_ = registerWith(second_, sandbox().registrationOptions(kUeAddress2, 2));
        auto view = kernelView();
        ASSERT_EQ(view.keyedSas, 8u) << view.ipXfrmState;
        ASSERT_EQ(view.ownPolicies, 16u) << view.ipXfrmPolicy;
    }
    // Waits for the daemon to end by itself; fails the test when it does not.
    int daemonExit() {
        auto status = sandbox().daemon->waitForExit(kExitBound);
        if (!status) {
            ADD_FAILURE() << "imsakad still runs " << kExitBound.count() << " s later";
            return sandbox().daemon->stop(SIGKILL);
        }
        return *status;
    }
    // Runs another imsakad with the running one's configuration until it exits.
    testing::Finished secondDaemon(std::vector<std::string> wrapper = {}) {
        std::string program = buildProgram("daemon/imsakad");
        std::vector<std::string> args{"--config", sandbox().dir.file("imsakad.conf")};
        if (!wrapper.empty()) {
            args.insert(args.begin(), program);
            args.insert(args.begin(), wrapper.begin() + 1, wrapper.end());
            program = wrapper.front();
        }
        return testing::run(program, args);
    }

    std::unique_ptr<Sandbox> sandbox_;
    ImsNetwork first_;
    ImsNetwork second_{
        {.sqn = 32 * 1000, .spiC = 0x5000, .spiS = 0x5001, .portC = 6300, .portS = 6301}};
    Challenged one_;
    Challenged two_;
};

// --- A second daemon ------------------------------------------------------------------

TEST_F(LifecycleKernelTest, ASecondDaemonOnTheSameBusLeavesTheFirstOnesSasAlone) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto registration = registerWith(first_, sandbox().registrationOptions());
    ASSERT_EQ(kernelView().keyedSas, 4u);

    auto second = secondDaemon();
    EXPECT_NE(second.status, 0) << second.err;
    EXPECT_NE(second.err.find("another imsakad"), std::string::npos) << second.err;

    auto view = kernelView();
    EXPECT_EQ(view.keyedSas, 4u) << view.ipXfrmState;
    EXPECT_EQ(view.ownPolicies, 8u) << "four policies and four guards:\n" << view.ipXfrmPolicy;
    EXPECT_TRUE(sandbox().daemon->running());
    EXPECT_EQ(registration.registration->State(), "registered");
    expectEspThrough(registration);
}

// Two daemons on different buses would both own org.imsaka, but the kernel state of a
// network namespace is one: the second stops before it touches it.
TEST_F(LifecycleKernelTest, ASecondDaemonOnAnotherBusInTheSameNamespaceStopsFirst) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto registration = registerWith(first_, sandbox().registrationOptions());
    WorkDir otherDir;
    std::string ownBus = sandbox().bus->address();
    auto otherBus = std::make_unique<PrivateBus>(otherDir);  // sets DBUS_SYSTEM_BUS_ADDRESS
    auto second = secondDaemon();
    setenv("DBUS_SYSTEM_BUS_ADDRESS", ownBus.c_str(), 1);
    EXPECT_NE(second.status, 0) << second.err;
    EXPECT_NE(second.err.find("network namespace"), std::string::npos) << second.err;

    auto view = kernelView();
    EXPECT_EQ(view.keyedSas, 4u) << view.ipXfrmState;
    EXPECT_EQ(view.ownPolicies, 8u) << "four policies and four guards:\n" << view.ipXfrmPolicy;
    expectEspThrough(registration);
}

// In a network namespace of its own the second daemon may hold kernel state, but the bus
// name is taken: it asks for it without queueing and says who holds it.
TEST_F(LifecycleKernelTest, ASecondDaemonInAnotherNamespaceFindsTheNameTaken) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto registration = registerWith(first_, sandbox().registrationOptions());
    auto second = secondDaemon({"/usr/bin/unshare", "--net"});
    EXPECT_NE(second.status, 0) << second.err;
    EXPECT_NE(second.err.find("org.imsaka is already owned"), std::string::npos) << second.err;
    EXPECT_TRUE(nameHasOwner("org.imsaka"));
    EXPECT_EQ(registration.registration->State(), "registered");
    EXPECT_EQ(kernelView().keyedSas, 4u);
}

// --- What doc/dbus-api.md promises -----------------------------------------------------

// The object paths the worked sequence names (a fresh daemon's first registration and its
// first SA set) are the ones the daemon uses.
TEST_F(LifecycleKernelTest, TheWorkedSequenceNamesThePathsTheDaemonUses) {
    std::ifstream file(IMSAKA_SOURCE_DIR "/doc/dbus-api.md");
    std::stringstream read;
    read << file.rdbuf();
    std::string doc = read.str();
    auto sequence = doc.substr(doc.find("### Worked sequence"));
    std::smatch registration, set;
    ASSERT_TRUE(std::regex_search(
        sequence, registration,
        std::regex(R"(CreateRegistration[^`]*`?[^/]*(/org/imsaka/registration/\d+)`)")));
    ASSERT_TRUE(
        std::regex_search(sequence, set, std::regex(R"((/org/imsaka/registration/\d+/sa/\d+))")));

    ASSERT_NO_FATAL_FAILURE(start());
    auto challenged = createAndChallenge(bus(), first_, sandbox().registrationOptions());
    EXPECT_EQ(challenged.path, registration[1].str());
    EXPECT_EQ(saObjects(bus(), challenged.path), std::vector<std::string>{set[1].str()});
}

// --- However the daemon ends, nothing of ours stays in the kernel ------------------------

class EndsBySignal : public LifecycleKernelTest, public ::testing::WithParamInterface<int> {};

TEST_P(EndsBySignal, RemovesEverySaAndPolicyAndExitsCleanly) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(registerTwo());
    int status = sandbox().daemon->stop(GetParam());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
    expectNothingOfOursInTheKernel();
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, EndsBySignal, ::testing::Values(SIGTERM, SIGINT),
                         [](const auto& signal) {
                             return std::string(sigabbrev_np(signal.param));
                         });

// The bus goes away (dbus-daemon killed): the daemon cannot serve anyone, so it removes its
// kernel state and exits non-zero for systemd to restart it.
TEST_F(LifecycleKernelTest, LosingTheBusRemovesEverythingAndExitsNonZero) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(registerTwo());
    one_.registration.reset();
    two_.registration.reset();
    sandbox().bus->stop(SIGKILL);
    int status = daemonExit();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << describe(status);
    expectNothingOfOursInTheKernel();
}

// A fatal error on one of the daemon's threads (made by the preloaded pcsc_fault library at
// the pcsc-lite call that thread makes) ends the daemon, and its kernel state goes first.
class FatalError : public LifecycleKernelTest {
  protected:
    void startWithFaults() {
        std::string shim = buildProgram("tests/kernel/daemon/libimsaka_pcsc_fault.so");
        ASSERT_EQ(access(shim.c_str(), R_OK), 0) << shim << " is missing: build the release tree";
        setenv("LD_PRELOAD", shim.c_str(), 1);
        setenv("IMSAKA_FAULT_FILE", faults_.file("fault").c_str(), 1);
        start();
        unsetenv("LD_PRELOAD");
        unsetenv("IMSAKA_FAULT_FILE");
    }
    void arm(const std::string& function, const std::string& action) {
        std::ofstream(faults_.file("fault")) << function << " " << action << "\n";
    }
    WorkDir faults_;
};

TEST_F(FatalError, OnACardWorkerRemovesEverySaAndPolicy) {
    ASSERT_NO_FATAL_FAILURE(startWithFaults());
    ASSERT_NO_FATAL_FAILURE(registerTwo());
    arm("SCardTransmit", "terminate");
    // Raw AUTHENTICATE (the test runs as root) puts an APDU on the reader's worker thread.
    CardProxy card(bus(), sandbox().cardPath);
    std::vector<uint8_t> zeros(16, 0);
    errorNameOf([&] { card.Authenticate(zeros, zeros); });
    int status = daemonExit();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) << describe(status);
    expectNothingOfOursInTheKernel();
}

TEST_F(FatalError, OnThePcscMonitorRemovesEverySaAndPolicy) {
    ASSERT_NO_FATAL_FAILURE(startWithFaults());
    ASSERT_NO_FATAL_FAILURE(registerTwo());
    arm("SCardGetStatusChange", "throw");  // the monitor waits in it, 2 s at a time
    int status = daemonExit();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) << describe(status);
    expectNothingOfOursInTheKernel();
}

}  // namespace
}  // namespace imsaka::daemontest
