// What the daemon's kernel tests and its benchmark run against: a private system bus whose
// policy includes dbus/org.imsaka.conf, and imsakad itself as a child process that reports
// readiness through a NOTIFY_SOCKET of ours. Both expect to run as root inside
// tests/integration/pcsc-sandbox.sh (for pcscd and the vpcd readers).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace imsaka::daemontest {

// A prerequisite of the test is missing: the message says which and how to get it.
class MissingPrerequisite : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Checks what every daemon test needs (root, the programs, pcsc-sandbox's environment).
void requirePrerequisites();

// A folder for one test's files, removed with everything in it.
class WorkDir {
  public:
    WorkDir();
    ~WorkDir();
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

// dbus-daemon on a socket in dir. extraPolicy is XML placed after the included
// org.imsaka.conf (a test's own <policy> elements). Sets DBUS_SYSTEM_BUS_ADDRESS for this
// process and its children.
class PrivateBus {
  public:
    PrivateBus(const WorkDir& dir, const std::string& extraPolicy = "");
    ~PrivateBus();
    PrivateBus(const PrivateBus&) = delete;
    PrivateBus& operator=(const PrivateBus&) = delete;
    const std::string& address() const { return address_; }
    // Ends dbus-daemon with signal (every connection to it is lost) and reaps it.
    void stop(int signal);

  private:
    pid_t pid_ = -1;
    std::string address_;
};

// The SA lifetimes the test configuration sets, in seconds.
inline constexpr uint64_t kRegAwaitAuth = 240;
inline constexpr uint64_t kSaGrace = 30;
// How long a replaced SA set outlives the network's first message on its successor.
inline constexpr uint64_t kRetiringGrace = 2;

// The daemon's configuration file for the tests: the readers of pcsc-sandbox, the SA
// lifetimes and grace above, a fixed instance id, and an access group that exists everywhere.
std::string testConfig(const std::string& readers = "Virtual PCD 00 00, Virtual PCD 00 01");

class Daemon {
  public:
    Daemon(const WorkDir& dir, std::string config = testConfig());
    ~Daemon();  // SIGTERM, then SIGKILL after 30 s
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Runs imsakad with at most this many open files (RLIMIT_NOFILE), from the next start().
    void limitFiles(unsigned count) { fileLimit_ = count; }
    // Starts imsakad and waits for READY=1 (and its name on the bus); returns the time from
    // just before exec to READY=1. Throws with the daemon's log when it exits or is silent.
    std::chrono::nanoseconds start();
    // Sends a signal and waits for the process to end; returns its wait status.
    int stop(int signal);
    // Waits for the process to end by itself; returns its wait status, or nothing when it
    // still runs after timeout.
    std::optional<int> waitForExit(std::chrono::milliseconds timeout);
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    // VmRSS of the running daemon, in kB.
    long residentKb() const;
    // The tail of the daemon's output (its log), for failure messages.
    std::string logTail(size_t lines = 40) const;

  private:
    const WorkDir& dir_;
    std::string configPath_;
    std::string logPath_;
    pid_t pid_ = -1;
    unsigned fileLimit_ = 0;
};

// The file descriptors a process has open now.
size_t openFiles(pid_t pid);

// Adds the user accounts of tests/support/test-accounts.sh (two members of group imsaka and
// a non-member) inside pcsc-sandbox.sh's mount namespace; before PrivateBus, whose policy
// names the group.
void setUpTestAccounts(const WorkDir& dir);

// Whether a name has an owner on the bus of DBUS_SYSTEM_BUS_ADDRESS.
bool nameHasOwner(const std::string& name);

// Path of a program of the build tree the tests run from (IMSAKA_KERNEL_BINARY_DIR, else the
// tree this program was built in).
std::string buildProgram(const std::string& relativePath);

}  // namespace imsaka::daemontest
