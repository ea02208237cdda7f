#include "monitor.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <system_error>

#include "exit_status.h"
#include "human.h"

namespace imsaka::ctl {

std::string isoTimeNow() {
    auto now = std::chrono::system_clock::now();
    auto seconds = std::chrono::system_clock::to_time_t(now);
    auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[40];
    std::snprintf(out, sizeof out, "%s.%03dZ", stamp, static_cast<int>(millis));
    return out;
}

namespace {

// SIGINT and SIGTERM arrive as readable data on a descriptor polled beside the bus.
class StopSignals {
  public:
    StopSignals() {
        sigemptyset(&mask_);
        sigaddset(&mask_, SIGINT);
        sigaddset(&mask_, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask_, &previous_) != 0)
            throw std::system_error(errno, std::generic_category(), "sigprocmask");
        fd_ = signalfd(-1, &mask_, SFD_CLOEXEC);
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
    }
    ~StopSignals() {
        close(fd_);
        sigprocmask(SIG_SETMASK, &previous_, nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    int fd() const { return fd_; }
    void consume() const {
        signalfd_siginfo info{};
        [[maybe_unused]] ssize_t n = read(fd_, &info, sizeof info);
    }

  private:
    sigset_t mask_{}, previous_{};
    int fd_ = -1;
};

class Monitor {
  public:
    Monitor(Bus& bus, bool asJson, std::ostream& out)
        : bus_(bus), asJson_(asJson), out_(out), owner_(bus.daemonOwner().value_or("")) {
        auto& connection = bus.connection();
        // Match rules without a sender: the bus would resolve a well-known sender name, but
        // sd-bus filters locally by the unique name. Signals are checked against the
        // daemon's current unique name instead.
        slots_.push_back(connection.addMatch(
            "type='signal',interface='org.freedesktop.DBus.ObjectManager',path='/org/imsaka'",
            [this](sdbus::Message& message) { onObjectManager(message); }));
        slots_.push_back(
            connection.addMatch("type='signal',interface='org.freedesktop.DBus.Properties',"
                                "member='PropertiesChanged',path_namespace='/org/imsaka'",
                                [this](sdbus::Message& message) { onPropertiesChanged(message); }));
        slots_.push_back(connection.addMatch(
            "type='signal',interface='org.imsaka.Registration1',member='RefreshDue',"
            "path_namespace='/org/imsaka'",
            [this](sdbus::Message& message) { onRefreshDue(message); }));
        slots_.push_back(connection.addMatch(
            "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
            "member='NameOwnerChanged',arg0='org.imsaka'",
            [this](sdbus::Message& message) { onNameOwnerChanged(message); }));
    }

    int run() {
        StopSignals stop;
        show(startedEvent(isoTimeNow(), owner_));
        auto& connection = bus_.connection();
        for (;;) {
            while (connection.processPendingRequest()) {
            }
            auto pollData = connection.getEventLoopPollData();
            auto timeout = pollData.getRelativeTimeout();
            int timeoutMs =
                timeout
                    ? static_cast<int>(std::min<int64_t>((timeout->count() + 999) / 1000, 60000))
                    : -1;
            pollfd fds[2] = {{pollData.fd, pollData.events, 0}, {stop.fd(), POLLIN, 0}};
            if (poll(fds, 2, timeoutMs) < 0 && errno != EINTR)
                throw std::system_error(errno, std::generic_category(), "poll");
            if (fds[1].revents & POLLIN) {
                stop.consume();  // else it fires again once unblocked
                return kOk;
            }
        }
    }

  private:
    bool fromDaemon(const sdbus::Message& message) const {
        return !owner_.empty() && message.getSender() == owner_;
    }

    void show(const json& event) {
        out_ << (asJson_ ? event.dump() : monitorLine(event)) << std::endl;
    }

    void onObjectManager(sdbus::Message& message) {
        if (!fromDaemon(message)) return;
        sdbus::ObjectPath path;
        if (std::string(message.getMemberName()) == "InterfacesAdded") {
            Interfaces interfaces;
            message >> path >> interfaces;
            show(addedEvent(isoTimeNow(), path, interfaces));
        } else if (std::string(message.getMemberName()) == "InterfacesRemoved") {
            std::vector<std::string> interfaces;
            message >> path >> interfaces;
            show(removedEvent(isoTimeNow(), path, interfaces));
        }
    }

    void onPropertiesChanged(sdbus::Message& message) {
        if (!fromDaemon(message)) return;
        std::string interface;
        Properties changed;
        std::vector<std::string> invalidated;
        message >> interface >> changed >> invalidated;
        show(changedEvent(isoTimeNow(), message.getPath(), interface, changed, invalidated));
    }

    void onRefreshDue(sdbus::Message& message) {
        if (!fromDaemon(message)) return;
        std::string reason;
        message >> reason;
        show(refreshDueEvent(isoTimeNow(), message.getPath(), reason));
    }

    void onNameOwnerChanged(sdbus::Message& message) {
        std::string name, oldOwner, newOwner;
        message >> name >> oldOwner >> newOwner;
        if (name != kService) return;
        owner_ = newOwner;
        if (!oldOwner.empty()) show(daemonEvent(isoTimeNow(), false, oldOwner));
        if (!newOwner.empty()) show(daemonEvent(isoTimeNow(), true, newOwner));
    }

    Bus& bus_;
    bool asJson_;
    std::ostream& out_;
    std::string owner_;
    std::vector<sdbus::Slot> slots_;
};

}  // namespace

int monitor(Bus& bus, bool asJson, std::ostream& out) {
    return Monitor(bus, asJson, out).run();
}

}  // namespace imsaka::ctl
