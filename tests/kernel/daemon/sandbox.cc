#include "sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace imsaka::daemontest {
namespace {

using Clock = std::chrono::steady_clock;

bool executable(const std::string& path) {
    return access(path.c_str(), X_OK) == 0;
}

std::string findInPath(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream folders(path ? path : "/usr/bin:/bin");
    std::string folder;
    while (std::getline(folders, folder, ':'))
        if (executable(folder + "/" + name)) return folder + "/" + name;
    return {};
}

// Starts argv with stdout and stderr to logPath (or inherited when empty) and extra
// environment entries.
pid_t spawn(const std::vector<std::string>& args, const std::string& logPath,
            const std::vector<std::string>& extraEnvironment = {}) {
    std::vector<std::string> storage = args;
    std::vector<char*> argv;
    for (auto& arg : storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> environmentStorage = extraEnvironment;
    std::vector<char*> environment;
    for (char** entry = environ; *entry; ++entry) environment.push_back(*entry);
    for (auto& entry : environmentStorage) environment.push_back(entry.data());
    environment.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!logPath.empty()) {
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logPath.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    }
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environment.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    return pid;
}

// Ends a child: signal, then SIGKILL after the grace time. Returns its wait status.
int endChild(pid_t pid, int signal, std::chrono::milliseconds grace) {
    kill(pid, signal);
    auto deadline = Clock::now() + grace;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return status;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::string buildProgram(const std::string& relativePath) {
    const char* tree = std::getenv("IMSAKA_KERNEL_BINARY_DIR");
    return std::string(tree && *tree ? tree : IMSAKA_BINARY_DIR) + "/" + relativePath;
}

void requirePrerequisites() {
    if (geteuid() != 0)
        throw MissingPrerequisite("the daemon tests need root (namespaces, pcscd, XFRM)");
    if (!std::getenv("IMSAKA_READERS"))
        throw MissingPrerequisite(
            "no private pcscd: run this program through tests/integration/pcsc-sandbox.sh "
            "(ctest does, inside tests/kernel/uml-run.sh)");
    if (findInPath("dbus-daemon").empty())
        throw MissingPrerequisite("dbus-daemon is not installed (Debian dbus-daemon)");
    if (!executable(buildProgram("daemon/imsakad")))
        throw MissingPrerequisite(buildProgram("daemon/imsakad") +
                                  " is missing: build it with scripts/build.sh release");
    if (access(IMSAKA_SOURCE_DIR "/dbus/org.imsaka.conf", R_OK) != 0)
        throw MissingPrerequisite(IMSAKA_SOURCE_DIR
                                  "/dbus/org.imsaka.conf (the bus policy) is missing");
}

WorkDir::WorkDir() {
    char path[] = "/tmp/imsakad-test.XXXXXX";
    if (!mkdtemp(path)) throw std::runtime_error("mkdtemp failed");
    path_ = path;
    chmod(path, 0755);  // so that an unprivileged child reaches the bus socket
}

WorkDir::~WorkDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

PrivateBus::PrivateBus(const WorkDir& dir, const std::string& extraPolicy) {
    std::string socket = dir.file("system_bus_socket");
    address_ = "unix:path=" + socket;
    std::ofstream(dir.file("bus.conf"))
        << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
           "<busconfig>\n"
           "  <type>system</type>\n"
           "  <listen>"
        << address_
        << "</listen>\n"
           "  <auth>EXTERNAL</auth>\n"
           // As the system bus: anyone may connect; owning names and calling methods are
           // denied unless a later policy allows them.
           "  <policy context=\"default\">\n"
           "    <allow user=\"*\"/>\n"
           "    <deny own=\"*\"/>\n"
           "    <deny send_type=\"method_call\"/>\n"
           "    <allow send_type=\"signal\"/>\n"
           "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
           "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
           "    <allow receive_type=\"method_call\"/>\n"
           "    <allow receive_type=\"method_return\"/>\n"
           "    <allow receive_type=\"error\"/>\n"
           "    <allow receive_type=\"signal\"/>\n"
           "    <allow send_destination=\"org.freedesktop.DBus\"/>\n"
           "  </policy>\n"
           "  <include>" IMSAKA_SOURCE_DIR "/dbus/org.imsaka.conf</include>\n"
        << extraPolicy << "\n</busconfig>\n";
    pid_ = spawn({findInPath("dbus-daemon"), "--config-file=" + dir.file("bus.conf"), "--nofork",
                  "--nopidfile"},
                 dir.file("bus.log"));
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (access(socket.c_str(), F_OK) != 0) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("dbus-daemon exited: " + readFile(dir.file("bus.log")));
        }
        if (Clock::now() > deadline) throw std::runtime_error("dbus-daemon made no socket");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    setenv("DBUS_SYSTEM_BUS_ADDRESS", address_.c_str(), 1);
}

PrivateBus::~PrivateBus() {
    if (pid_ > 0) endChild(pid_, SIGTERM, std::chrono::seconds(2));
}

void PrivateBus::stop(int signal) {
    if (pid_ > 0) endChild(pid_, signal, std::chrono::seconds(2));
    pid_ = -1;
}

std::string testConfig(const std::string& readers) {
    return "[card]\nreaders = " + readers +
           "\n[timers]\nreg_await_auth = " + std::to_string(kRegAwaitAuth) +
           "\nsa_grace = " + std::to_string(kSaGrace) +
           "\nretiring_grace = " + std::to_string(kRetiringGrace) +
           "\n[access]\ngroup = root\n"
           "[registration]\ninstance_id = <urn:uuid:00000000-0000-4000-8000-00000000cafe>\n";
}

Daemon::Daemon(const WorkDir& dir, std::string config)
    : dir_(dir), configPath_(dir.file("imsakad.conf")), logPath_(dir.file("imsakad.log")) {
    std::ofstream(configPath_) << config;
}

Daemon::~Daemon() {
    if (pid_ > 0) stop(SIGTERM);
}

std::chrono::nanoseconds Daemon::start() {
    if (pid_ > 0) throw std::logic_error("imsakad is already running");
    std::string notifyPath = dir_.file("notify");
    unlink(notifyPath.c_str());
    int notify = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, notifyPath.c_str(), sizeof address.sun_path - 1);
    if (notify < 0 || bind(notify, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        throw std::runtime_error("cannot bind the notify socket " + notifyPath);
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{notify};

    std::vector<std::string> command;
    if (fileLimit_ > 0) {
        auto limit = std::to_string(fileLimit_);
        command = {findInPath("prlimit"), "--nofile=" + limit + ":" + limit, "--"};
    }
    for (const auto& word : {buildProgram("daemon/imsakad"), std::string("--config"), configPath_,
                             std::string("--log-level"), std::string("debug")})
        command.push_back(word);
    auto started = Clock::now();
    pid_ = spawn(command, logPath_, {"NOTIFY_SOCKET=" + notifyPath});
    auto deadline = started + std::chrono::seconds(60);
    while (true) {
        pollfd wait{notify, POLLIN, 0};
        if (poll(&wait, 1, 20) == 1) {
            char message[1024];
            ssize_t length = recv(notify, message, sizeof message - 1, 0);
            if (length > 0) {
                std::string text(message, static_cast<size_t>(length));
                if (("\n" + text + "\n").find("\nREADY=1\n") != std::string::npos) {
                    auto elapsed = Clock::now() - started;
                    if (!nameHasOwner("org.imsaka"))
                        throw std::runtime_error("imsakad said READY=1 before owning org.imsaka");
                    return elapsed;
                }
            }
            continue;
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("imsakad exited before READY=1 (status " +
                                     std::to_string(status) + "):\n" + logTail());
        }
        if (Clock::now() > deadline)
            throw std::runtime_error("imsakad sent no READY=1 within 60 s:\n" + logTail());
    }
}

int Daemon::stop(int signal) {
    if (pid_ <= 0) return 0;
    int status = endChild(pid_, signal, std::chrono::seconds(30));
    pid_ = -1;
    return status;
}

std::optional<int> Daemon::waitForExit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) throw std::logic_error("imsakad is not running");
    auto deadline = Clock::now() + timeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return status;
}

long Daemon::residentKb() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    throw std::runtime_error("no VmRSS for imsakad");
}

std::string Daemon::logTail(size_t lines) const {
    std::ifstream log(logPath_);
    std::deque<std::string> tail;
    std::string line;
    while (std::getline(log, line)) {
        tail.push_back(line);
        if (tail.size() > lines) tail.pop_front();
    }
    std::string text;
    for (const auto& kept : tail) text += "  imsakad| " + kept + "\n";
    return text;
}

size_t openFiles(pid_t pid) {
    std::error_code error;
    std::filesystem::directory_iterator entries("/proc/" + std::to_string(pid) + "/fd", error);
    if (error) throw std::runtime_error("cannot list the open files of " + std::to_string(pid));
    return static_cast<size_t>(std::distance(entries, std::filesystem::directory_iterator()));
}

void setUpTestAccounts(const WorkDir& dir) {
    std::string command = IMSAKA_SOURCE_DIR "/tests/support/test-accounts.sh " + dir.path();
    if (std::system(command.c_str()) != 0)
        throw MissingPrerequisite("the test accounts could not be set up (" + command + ")");
}

bool nameHasOwner(const std::string& name) {
    auto connection = sdbus::createSystemBusConnection();
    auto bus = sdbus::createProxy(*connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    bool owned = false;
    bus->callMethod("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(name)
        .storeResultsTo(owned);
    return owned;
}

}  // namespace imsaka::daemontest
