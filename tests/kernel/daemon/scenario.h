// Pieces of the daemon scenarios shared by the kernel tests and the benchmark: the fixture
// of one test (bus, card, daemon, client connection) and the steps of a registration.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "client.h"
#include "sandbox.h"
#include "virtual_card.h"

namespace imsaka::daemontest {

inline constexpr const char* kImpi = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
inline constexpr const char* kImpu = "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
inline constexpr int kFirstReaderPort = 35963;

// The kernel seen from the test: what is ours by reqid, and how many SAs hold keys (larval
// SAs left by SPI reservations do not).
struct KernelView {
    size_t ownSas = 0;
    size_t ownPolicies = 0;
    size_t keyedSas = 0;
    std::string ipXfrmState;  // `ip -s xfrm state` as printed (lifetimes and counters)
    std::string ipXfrmPolicy;
};
KernelView kernelView();

// What a shell command prints on stdout; throws when it fails.
std::string commandOutput(const std::string& command);

// Everything one scenario runs against, started in this order and ended in reverse.
struct Sandbox {
    // config: the daemon's configuration file (testConfig() unless a test needs its own).
    explicit Sandbox(const testing::CardProfile& profile = {}, const std::string& extraPolicy = "",
                     const std::string& config = testConfig());
    ~Sandbox();

    // Options for CreateRegistration: this card, the test P-CSCF, a local address.
    Options registrationOptions(const std::string& localAddress = kUeAddress,
                                uint32_t regId = 0) const;
    // The daemon's log tail and the kernel's state, for a failure message.
    std::string diagnostics() const;

    WorkDir dir;
    std::unique_ptr<PrivateBus> bus;
    std::unique_ptr<testing::VirtualCard> card;
    std::unique_ptr<Daemon> daemon;
    std::unique_ptr<sdbus::IConnection> connection;
    std::unique_ptr<ManagerProxy> manager;
    std::string cardPath;
};

// Sets up the test network and starts a Sandbox into `sandbox`. Returns why it could not (a
// missing prerequisite is named as such), or an empty string.
std::string startSandbox(std::unique_ptr<Sandbox>& sandbox,
                         const testing::CardProfile& profile = {},
                         const std::string& extraPolicy = "", const std::string& extraConfig = "");
// (extraConfig: lines appended to testConfig(), sections and keys it does not set.)

// A registration driven up to the protected REGISTER: its temporary SA set is installed.
struct Challenged {
    std::string path;
    std::unique_ptr<RegistrationProxy> registration;
    Step initial;                  // the unprotected REGISTER
    testing::Challenge challenge;  // the 401 the network sent
    Step answer;                   // the REGISTER HandleResponse(401) returned
};
Challenged createAndChallenge(sdbus::IConnection& connection, testing::ImsNetwork& network,
                              const Options& options);

}  // namespace imsaka::daemontest
