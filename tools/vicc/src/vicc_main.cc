// imsaka-vicc: a virtual UICC for vsmartcard's vpcd reader driver.
// SIGUSR1 pulls the card (drops the connection, keeps SQN and PIN state), SIGUSR2
// inserts it again, SIGTERM/SIGINT end the program. K, OPc, RES, CK and IK are never
// printed; --verbose shows APDU headers and status words only.
#include <imsaka/vicc/card.h>
#include <imsaka/vicc/profile.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

// GCC 12 reports a null dereference inside CLI11's string helpers once they are
// inlined at -O2 (a false positive in the library, not in this file).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "imsaka/version.h"
#include "vpcd_link.h"

namespace imsaka::vicc {
namespace {

constexpr uint8_t kCtrlOff = 0;
constexpr uint8_t kCtrlOn = 1;
constexpr uint8_t kCtrlReset = 2;
constexpr uint8_t kCtrlAtr = 4;
constexpr int kReconnectMs = 100;

struct Options {
    std::string profile;
    std::string host = "127.0.0.1";
    uint16_t port = 35963;
    std::string protocol;
    bool usimOnly = false;
    bool pinEnabled = false;
    bool noLogicalChannels = false;
    std::string fault = "none";
    unsigned delayMs = 0;
    bool verbose = false;
};

void announce(const char* event) {
    std::printf("imsaka-vicc: %s\n", event);
    std::fflush(stdout);
}

void logApdu(ByteView command, ByteView response) {
    std::fprintf(
        stderr, "imsaka-vicc: apdu %02X %02X %02X %02X (%zu bytes) -> sw %02X%02X (%zu bytes)\n",
        command.size() > 0 ? command[0] : 0, command.size() > 1 ? command[1] : 0,
        command.size() > 2 ? command[2] : 0, command.size() > 3 ? command[3] : 0, command.size(),
        response[response.size() - 2], response[response.size() - 1], response.size());
}

class Runner {
  public:
    Runner(const Options& options, Card& card) : options_(options), card_(card) {}

    int run() {
        sigset_t signals;
        sigemptyset(&signals);
        for (int signal : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) sigaddset(&signals, signal);
        sigprocmask(SIG_BLOCK, &signals, nullptr);
        int signalFd = signalfd(-1, &signals, SFD_CLOEXEC);
        if (signalFd < 0) {
            std::perror("imsaka-vicc: signalfd");
            return 1;
        }
        std::string port = std::to_string(options_.port);
        bool lastAttemptFailed = false;
        while (!stopping_) {
            if (wantInserted_ && !link_.connected()) {
                std::string error;
                if (link_.connect(options_.host, port, error)) {
                    announce("inserted");
                    lastAttemptFailed = false;
                } else if (options_.verbose && !lastAttemptFailed) {
                    std::fprintf(stderr,
                                 "imsaka-vicc: vpcd at %s:%s not reachable (%s); retrying\n",
                                 options_.host.c_str(), port.c_str(), error.c_str());
                    lastAttemptFailed = true;
                }
            }
            pollfd fds[2] = {{signalFd, POLLIN, 0}, {link_.fd(), POLLIN, 0}};
            nfds_t count = link_.connected() ? 2 : 1;
            int timeout = wantInserted_ && !link_.connected() ? kReconnectMs : -1;
            if (poll(fds, count, timeout) < 0 && errno != EINTR) {
                std::perror("imsaka-vicc: poll");
                break;
            }
            if (fds[0].revents & POLLIN) onSignal(signalFd);
            if (count == 2 && link_.connected() &&
                (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                onMessage();
            }
        }
        link_.close();
        ::close(signalFd);
        return 0;
    }

  private:
    void onSignal(int signalFd) {
        signalfd_siginfo info{};
        if (read(signalFd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return;
        switch (info.ssi_signo) {
            case SIGUSR1:
                if (wantInserted_) {
                    wantInserted_ = false;
                    link_.close();
                    card_.powerOff();
                    announce("pulled");
                }
                break;
            case SIGUSR2:
                wantInserted_ = true;
                break;
            default:
                stopping_ = true;
        }
    }

    void onMessage() {
        std::optional<SecureBytes> message = link_.receive();
        if (!message) {
            dropLink("vpcd closed the connection");
            return;
        }
        if (message->size() == 1) {
            onControl((*message)[0]);
            return;
        }
        if (options_.delayMs > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(options_.delayMs));
        SecureBytes response = card_.transmit(*message);
        if (options_.verbose) logApdu(*message, response);
        if (!link_.send(response)) dropLink("cannot send to vpcd");
    }

    // vpcd went away: the card is out of the reader, and reconnects as after SIGUSR2.
    void dropLink(const char* why) {
        link_.close();
        card_.powerOff();
        if (options_.verbose) std::fprintf(stderr, "imsaka-vicc: %s\n", why);
    }

    void onControl(uint8_t code) {
        switch (code) {
            case kCtrlOff:
                card_.powerOff();
                break;
            case kCtrlOn:
                card_.powerOn();
                break;
            case kCtrlReset:
                card_.reset();
                break;
            case kCtrlAtr:
                if (!link_.send(card_.atr())) dropLink("cannot send to vpcd");
                break;
            default:
                if (options_.verbose)
                    std::fprintf(stderr, "imsaka-vicc: unknown control %u\n", code);
        }
    }

    const Options& options_;
    Card& card_;
    VpcdLink link_;
    bool wantInserted_ = true;
    bool stopping_ = false;
};

}  // namespace
}  // namespace imsaka::vicc

int main(int argc, char** argv) {
    using namespace imsaka::vicc;
    Options options;
    CLI::App app{"imsaka-vicc: a virtual ISIM/USIM card for the vpcd reader driver"};
    app.set_version_flag("--version", std::string("imsaka-vicc ") + imsaka::kVersion);
    app.add_option("--profile", options.profile, "card profile (INI)")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_option("--host", options.host, "vpcd host")->capture_default_str();
    app.add_option("--port", options.port, "vpcd port")->capture_default_str();
    app.add_option("--protocol", options.protocol, "t0 or t1 (overrides the profile)")
        ->check(CLI::IsMember({"t0", "t1"}));
    app.add_flag("--usim-only", options.usimOnly, "no ISIM in EF_DIR");
    app.add_flag("--pin-enabled", options.pinEnabled, "the PIN (pin.kind) enabled");
    app.add_flag("--no-logical-channels", options.noLogicalChannels, "refuse MANAGE CHANNEL");
    app.add_option("--fault", options.fault,
                   "garbage-auth, truncated-auth, unknown-sw or truncated-dir")
        ->check(CLI::IsMember(
            {"none", "garbage-auth", "truncated-auth", "unknown-sw", "truncated-dir"}));
    app.add_option("--delay-ms", options.delayMs, "delay every APDU answer by N ms");
    app.add_flag("--verbose", options.verbose, "log APDU headers and status words");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        int status = app.exit(error);
        return status == 0 ? 0 : 2;
    }
    try {
        Profile profile = loadProfile(options.profile);
        if (options.protocol == "t0") profile.protocol = Protocol::T0;
        if (options.protocol == "t1") profile.protocol = Protocol::T1;
        if (options.usimOnly) profile.hasIsim = false;
        if (options.pinEnabled) profile.pinEnabled = true;
        if (options.noLogicalChannels) profile.logicalChannels = false;
        Card card(profile, *parseFault(options.fault));
        profile = Profile{};  // the card holds its own copy of the keys
        return Runner(options, card).run();
    } catch (const ProfileError& error) {
        std::cerr << "imsaka-vicc: " << error.what() << "\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "imsaka-vicc: " << error.what() << "\n";
        return 1;
    }
}
