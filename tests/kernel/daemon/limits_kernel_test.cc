// What one user can take from imsakad, measured on the daemon's open files with real port
// and SPI reservations (user-mode Linux), and what a caller hears when the daemon runs out
// of file descriptors.
#include <gtest/gtest.h>

#include <cstdio>
#include <iostream>

#include "scenario.h"
#include "user_client.h"

namespace imsaka::daemontest {
namespace {

constexpr const char* kTestConfig =
    "[card]\nreaders = Virtual PCD 00 00\n"
    "[registration]\ninstance_id = <urn:uuid:00000000-0000-4000-8000-00000000cafe>\n";

// The pieces of Sandbox, put together with test accounts and a configuration of our own.
class LimitsKernelTest : public ::testing::Test {
  protected:
    void start(const std::string& config, unsigned fileLimit = 0) {
        try {
            requirePrerequisites();
            setUpTestNetwork();
            setUpTestAccounts(dir_);
            bus_ = std::make_unique<PrivateBus>(dir_);
            card_ =
                std::make_unique<testing::VirtualCard>(testing::CardProfile{}, kFirstReaderPort);
            daemon_ = std::make_unique<Daemon>(dir_, config);
            if (fileLimit > 0) daemon_->limitFiles(fileLimit);
            daemon_->start();
            connection_ = sdbus::createSystemBusConnection();
            waitForReadyCard(*connection_, card_->reader());
        } catch (const MissingPrerequisite& missing) {
            FAIL() << "missing prerequisite: " << missing.what();
        } catch (const std::exception& error) {
            FAIL() << "cannot set up the daemon: " << error.what()
                   << (daemon_ ? daemon_->logTail() : "");
        }
    }
    void TearDown() override {
        if (HasFailure() && daemon_) std::cerr << daemon_->logTail();
    }

    // Register() on a registration, as root: reserves its two ports and two SPIs.
    std::string registerError(const std::string& path) {
        RegistrationProxy registration(*connection_, path);
        return errorNameOf([&] { registration.Register(); });
    }
    std::string createAsRoot() {
        ManagerProxy manager(*connection_, "/org/imsaka");
        Options options{{"pcscf", sdbus::Variant(std::string(kPcscfAddress))},
                        {"local_address", sdbus::Variant(std::string(kUeAddress))}};
        return manager.CreateRegistration(options);
    }

    WorkDir dir_;
    std::unique_ptr<PrivateBus> bus_;
    std::unique_ptr<testing::VirtualCard> card_;
    std::unique_ptr<Daemon> daemon_;
    std::unique_ptr<sdbus::IConnection> connection_;
};

// The default limits: a member of the access group, with as many bus connections as it
// likes, gets max_registrations_per_user registrations, each holding its ports.
TEST_F(LimitsKernelTest, OneMemberTakesItsQuotaOfRegistrationsAndNoMore) {
    ASSERT_NO_FATAL_FAILURE(start(kTestConfig));
    size_t before = openFiles(daemon_->pid());
    busclient::UserClient member("imsaka-member");
    std::vector<std::string> paths;
    std::string refused;
    for (int connection = 0; connection < 20 && refused.empty(); ++connection) {
        ASSERT_EQ(member.ask("connect"), "ok " + std::to_string(connection));
        auto answer = member.ask("create " + std::to_string(connection) + " " + kPcscfAddress +
                                 " " + kUeAddress);
        if (answer.rfind("ok ", 0) == 0)
            paths.push_back(answer.substr(3));
        else
            refused = answer;
    }
    EXPECT_EQ(refused, "error org.imsaka.Error.QuotaExceeded");
    EXPECT_EQ(paths.size(), 8u);  // max_registrations_per_user's default
    for (const auto& path : paths) EXPECT_EQ(registerError(path), "") << path;
    size_t after = openFiles(daemon_->pid());
    std::printf(
        "one member: %zu registrations over %zu bus connections; imsakad's open files "
        "%zu before, %zu with their ports reserved (%zu each)\n",
        paths.size(), paths.size() + 1, before, after,
        paths.empty() ? size_t{0} : (after - before) / paths.size());
    // A UDP and a TCP socket for each of port_uc and port_us, plus the event loop's timer
    // descriptors, made once when the first timers are armed.
    EXPECT_GE(after - before, 4 * paths.size());
    EXPECT_LE(after - before, 4 * paths.size() + 4);
}

// With a file limit far below what the caps need, the caller learns that descriptors ran
// out, not that the port range is full; closing a registration gives them back.
TEST_F(LimitsKernelTest, RunningOutOfFileDescriptorsIsItsOwnError) {
    ASSERT_NO_FATAL_FAILURE(start(std::string(kTestConfig) +
                                      "[limits]\nmax_registrations_per_user = 100\n"
                                      "max_registrations = 100\n",
                                  64));
    // Register() needs four descriptors for its ports, CreateRegistration() may need one to
    // read the caller's credentials: whichever runs out first says so.
    std::vector<std::string> paths;
    std::string error;
    while (error.empty() && paths.size() < 100) {
        std::string path;
        error = errorNameOf([&] { path = createAsRoot(); });
        if (error.empty()) {
            paths.push_back(path);
            error = registerError(path);
        }
    }
    EXPECT_EQ(error, "org.imsaka.Error.FileDescriptorsExhausted")
        << "after " << paths.size() << " registrations";
    ASSERT_GE(paths.size(), 2u);
    EXPECT_LT(paths.size(), 100u);
    std::printf("with a limit of 64 files: %zu registrations, then %s\n", paths.size(),
                error.c_str());

    // Closing two gives their descriptors back: a new registration reserves its ports.
    RegistrationProxy(*connection_, paths[0]).Close();
    RegistrationProxy(*connection_, paths[1]).Close();
    std::string path;
    EXPECT_EQ(errorNameOf([&] { path = createAsRoot(); }), "");
    if (!path.empty()) {
        EXPECT_EQ(registerError(path), "");
    }
}

}  // namespace
}  // namespace imsaka::daemontest

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--client")
        return imsaka::busclient::runUserClient(argv[2]);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
