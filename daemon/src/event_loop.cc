#include "event_loop.h"

#include <sdbus-c++/IConnection.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "log.h"

namespace imsaka::daemon {

namespace {

void check(int rc, const char* what) {
    if (rc < 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(-rc));
}

// Exceptions must not cross sd-event's C frames: a failing callback is logged. A failure of
// the bus connection itself (fatal) ends the loop with an error: without the bus the daemon
// is of no use, and systemd restarts it.
template <typename Fn>
void guarded(sd_event_source* source, Fn&& fn, bool fatal = false) {
    try {
        fn();
        return;
    } catch (const std::exception& e) {
        log::error(std::string(fatal ? "D-Bus connection: " : "event loop: ") + e.what());
    } catch (...) {
        log::error("event loop: unknown failure");
    }
    if (fatal) sd_event_exit(sd_event_source_get_event(source), 1);
}

uint64_t toUsec(std::chrono::steady_clock::time_point at) {
    auto usec =
        std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
    return usec < 0 ? 0 : static_cast<uint64_t>(usec);
}

}  // namespace

EventSource& EventSource::operator=(EventSource&& other) noexcept {
    if (this != &other) {
        reset();
        source_ = other.source_;
        other.source_ = nullptr;
    }
    return *this;
}

void EventSource::reset() noexcept {
    if (source_) {
        sd_event_source_disable_unref(source_);
        source_ = nullptr;
    }
}

Timer::Timer(EventLoop& loop, std::function<void()> callback)
    : loop_(loop), callback_(std::move(callback)) {}

void Timer::armAt(std::chrono::steady_clock::time_point at) {
    uint64_t usec = toUsec(at);
    if (source_.get()) {
        check(sd_event_source_set_time(source_.get(), usec), "sd_event_source_set_time");
        check(sd_event_source_set_enabled(source_.get(), SD_EVENT_ONESHOT), "enable timer");
        return;
    }
    sd_event_source* source = nullptr;
    check(
        sd_event_add_time(loop_.get(), &source, CLOCK_MONOTONIC, usec, 1000, &Timer::onTimer, this),
        "sd_event_add_time");
    source_ = EventSource(source);
}

void Timer::armIn(std::chrono::milliseconds delay) {
    armAt(std::chrono::steady_clock::now() + delay);
}

void Timer::cancel() {
    if (source_.get()) sd_event_source_set_enabled(source_.get(), SD_EVENT_OFF);
}

bool Timer::armed() const {
    int enabled = SD_EVENT_OFF;
    return source_.get() && sd_event_source_get_enabled(source_.get(), &enabled) > 0;
}

int Timer::onTimer(sd_event_source* source, uint64_t, void* self) {
    // The callback may destroy this timer: copy it first.
    auto callback = static_cast<Timer*>(self)->callback_;
    guarded(source, callback);
    return 0;
}

EventLoop::EventLoop() {
    check(sd_event_new(&event_), "sd_event_new");
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    sd_event_source* source = nullptr;
    check(sd_event_add_io(event_, &source, wakeFd_, EPOLLIN, &EventLoop::onPosted, this),
          "sd_event_add_io");
    wakeSource_ = EventSource(source);
}

EventLoop::~EventLoop() {
    busIo_.reset();
    busTimer_.reset();
    signalSources_.clear();
    wakeSource_.reset();
    if (wakeFd_ >= 0) close(wakeFd_);
    sd_event_unref(event_);
}

void EventLoop::post(std::function<void()> fn) {
    {
        std::lock_guard lock(mutex_);
        posted_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto written = write(wakeFd_, &one, sizeof one);
}

int EventLoop::onPosted(sd_event_source* source, int fd, uint32_t, void* self) {
    auto& loop = *static_cast<EventLoop*>(self);
    uint64_t count = 0;
    [[maybe_unused]] auto read_ = read(fd, &count, sizeof count);
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock(loop.mutex_);
        batch.swap(loop.posted_);
    }
    for (auto& fn : batch) guarded(source, fn);
    return 0;
}

EventSource EventLoop::watchReadable(int fd, std::function<void()> fn) {
    handlers_.push_back(std::make_unique<std::function<void()>>(std::move(fn)));
    sd_event_source* source = nullptr;
    check(sd_event_add_io(event_, &source, fd, EPOLLIN, &EventLoop::onReadable,
                          handlers_.back().get()),
          "sd_event_add_io");
    return EventSource(source);
}

int EventLoop::onReadable(sd_event_source* source, int, uint32_t, void* fn) {
    guarded(source, *static_cast<std::function<void()>*>(fn));
    return 0;
}

void EventLoop::onSignal(int signal, std::function<void()> fn) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    handlers_.push_back(std::make_unique<std::function<void()>>(std::move(fn)));
    sd_event_source* source = nullptr;
    check(sd_event_add_signal(event_, &source, signal, &EventLoop::onSignalInfo,
                              handlers_.back().get()),
          "sd_event_add_signal");
    signalSources_.emplace_back(source);
}

int EventLoop::onSignalInfo(sd_event_source* source, const struct signalfd_siginfo*, void* fn) {
    guarded(source, *static_cast<std::function<void()>*>(fn));
    return 0;
}

void EventLoop::attachBus(sdbus::IConnection& connection) {
    bus_ = &connection;
    auto poll = connection.getEventLoopPollData();
    sd_event_source* io = nullptr;
    check(sd_event_add_io(event_, &io, poll.fd, static_cast<uint32_t>(poll.events),
                          &EventLoop::onBusIo, this),
          "sd_event_add_io (bus)");
    busIo_ = EventSource(io);
    // Before each wait, ask sd-bus what it waits for (it may have queued output, or a
    // method call of ours may time out).
    check(sd_event_source_set_prepare(io, &EventLoop::onBusPrepare), "set_prepare");
    sd_event_source* timer = nullptr;
    check(sd_event_add_time(event_, &timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                            &EventLoop::onBusTimeout, this),
          "sd_event_add_time (bus)");
    busTimer_ = EventSource(timer);
    sd_event_source_set_enabled(timer, SD_EVENT_OFF);
}

int EventLoop::onBusPrepare(sd_event_source* source, void* self) {
    auto& loop = *static_cast<EventLoop*>(self);
    sdbus::IConnection::PollData poll{};
    bool ok = false;
    guarded(
        source,
        [&] {
            poll = loop.bus_->getEventLoopPollData();
            ok = true;
        },
        true);
    if (!ok) return 0;
    sd_event_source_set_io_events(loop.busIo_.get(), static_cast<uint32_t>(poll.events));
    if (poll.timeout_usec == UINT64_MAX) {
        sd_event_source_set_enabled(loop.busTimer_.get(), SD_EVENT_OFF);
    } else {
        sd_event_source_set_time(loop.busTimer_.get(), poll.timeout_usec);
        sd_event_source_set_enabled(loop.busTimer_.get(), SD_EVENT_ONESHOT);
    }
    return 0;
}

int EventLoop::onBusIo(sd_event_source* source, int, uint32_t, void* self) {
    guarded(
        source, [self] { static_cast<EventLoop*>(self)->processBus(); }, true);
    return 0;
}

int EventLoop::onBusTimeout(sd_event_source* source, uint64_t, void* self) {
    guarded(
        source, [self] { static_cast<EventLoop*>(self)->processBus(); }, true);
    return 0;
}

void EventLoop::processBus() {
    while (bus_->processPendingRequest()) {
    }
}

int EventLoop::run() {
    return sd_event_loop(event_);
}

void EventLoop::exit(int code) {
    sd_event_exit(event_, code);
}

}  // namespace imsaka::daemon
