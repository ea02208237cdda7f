#include "virtual_card.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "imsaka/cardio/pcsc.h"

extern char** environ;

namespace imsaka::testing {

std::string CardProfile::toIni() const {
    std::string ini = "[card]\nprotocol = " + protocol +
                      "\napplications = " + (isim ? "isim usim" : "usim") +
                      "\nlogical_channels = " + (logicalChannels ? "yes" : "no") + "\n";
    char sqnHex[16];
    std::snprintf(sqnHex, sizeof sqnHex, "%012llx", static_cast<unsigned long long>(sqn));
    ini += "[subscriber]\nalgorithm = milenage\nk = " + std::string(kK) + "\nopc = " + kOpc +
           "\namf = 8000\nsqn = " + sqnHex + "\n";
    ini += "[usim]\nimsi = " + imsi + "\nmnc_length = " + std::to_string(mncLength) + "\n";
    if (isim) {
        ini += "[isim]\nimpi = " + impi + "\ndomain = " + domain + "\n";
        for (const auto& impu : impus) ini += "impu = " + impu + "\n";
        for (const auto& pcscf : pcscfs) ini += "pcscf = " + pcscf + "\n";
        ini += "pcscf_address_encoding = " + pcscfEncoding + "\n";
    }
    ini += "[pin]\nenabled = " + std::string(pinEnabled ? "yes" : "no") + "\nvalue = " + pin +
           "\nretries = 3\nkind = " + (universalPin ? "universal" : "application") +
           "\npuk = " + puk + "\n";
    return ini;
}

std::string readerForPort(int port) {
    return port == 35963 ? "Virtual PCD 00 00" : "Virtual PCD 00 01";
}

VirtualCard::VirtualCard(const CardProfile& profile, int port, std::vector<std::string> extraArgs)
    : reader_(readerForPort(port)) {
    char path[] = "/tmp/imsaka-card-profile.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("cannot create a profile file");
    close(fd);
    profilePath_ = path;
    std::ofstream(profilePath_) << profile.toIni();

    std::vector<std::string> args = {IMSAKA_VICC_PATH, "--profile", profilePath_, "--port",
                                     std::to_string(port)};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    int pipeFds[2];
    if (pipe2(pipeFds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipeFds[1]);
    output_ = pipeFds[0];
    try {
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error(std::string("cannot start ") + argv[0]);
        }
        waitForLine("imsaka-vicc: inserted");
        waitForReaderState(reader_, true);
    } catch (...) {
        stop();  // no destructor runs for a constructor that throws
        throw;
    }
}

VirtualCard::~VirtualCard() {
    stop();
}

void VirtualCard::stop() noexcept {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        try {
            // So that the next card on this port is not mistaken for this one.
            waitForReaderState(reader_, false);
        } catch (...) {
        }
    }
    if (output_ >= 0) close(output_);
    output_ = -1;
    if (!profilePath_.empty()) unlink(profilePath_.c_str());
    profilePath_.clear();
}

void VirtualCard::waitForLine(const std::string& line) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
        auto at = buffered_.find(line + "\n");
        if (at != std::string::npos) {
            buffered_.erase(0, at + line.size() + 1);
            return;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("imsaka-vicc never printed: " + line);
        pollfd waitFor{output_, POLLIN, 0};
        if (poll(&waitFor, 1, static_cast<int>(left.count())) <= 0) continue;
        char chunk[256];
        ssize_t n = read(output_, chunk, sizeof chunk);
        if (n <= 0) throw std::runtime_error("imsaka-vicc exited before printing: " + line);
        buffered_.append(chunk, static_cast<size_t>(n));
    }
}

void VirtualCard::pull() {
    kill(pid_, SIGUSR1);
    waitForLine("imsaka-vicc: pulled");
    waitForReaderState(reader_, false);
}

void VirtualCard::insert() {
    kill(pid_, SIGUSR2);
    waitForLine("imsaka-vicc: inserted");
    waitForReaderState(reader_, true);
}

void waitForReaderState(const std::string& reader, bool present,
                        std::chrono::milliseconds timeout) {
    cardio::PcscContext context;
    SCARD_READERSTATE state{};
    state.szReader = reader.c_str();
    state.dwCurrentState = SCARD_STATE_UNAWARE;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        LONG rv = SCardGetStatusChange(context.handle(), 200, &state, 1);
        if (rv == SCARD_S_SUCCESS) {
            bool isPresent = (state.dwEventState & SCARD_STATE_PRESENT) &&
                             !(state.dwEventState & SCARD_STATE_MUTE);
            if (isPresent == present) return;
            state.dwCurrentState = state.dwEventState;
        } else if (rv != SCARD_E_TIMEOUT) {
            cardio::throwForPcsc(rv, "waiting for " + reader);
        }
    }
    throw std::runtime_error("pcscd did not see the card " +
                             std::string(present ? "arrive in " : "leave ") + reader);
}

}  // namespace imsaka::testing
