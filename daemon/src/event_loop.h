// The daemon's one event loop (sd-event): the D-Bus connection, signals, timers, other file
// descriptors, and closures posted by worker threads through an eventfd. Everything but
// post() must be called on the loop's thread.
#pragma once

#include <systemd/sd-event.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace sdbus {
class IConnection;
}

namespace imsaka::daemon {

class EventLoop;

// An sd_event_source that goes away with its owner.
class EventSource {
  public:
    EventSource() = default;
    explicit EventSource(sd_event_source* source) : source_(source) {}
    ~EventSource() { reset(); }
    EventSource(EventSource&& other) noexcept : source_(other.source_) { other.source_ = nullptr; }
    EventSource& operator=(EventSource&& other) noexcept;
    EventSource(const EventSource&) = delete;
    EventSource& operator=(const EventSource&) = delete;
    void reset() noexcept;
    sd_event_source* get() const noexcept { return source_; }

  private:
    sd_event_source* source_ = nullptr;
};

// A one-shot timer on CLOCK_MONOTONIC (the clock of std::chrono::steady_clock on Linux).
class Timer {
  public:
    Timer(EventLoop& loop, std::function<void()> callback);
    void armAt(std::chrono::steady_clock::time_point at);
    void armIn(std::chrono::milliseconds delay);
    void cancel();
    bool armed() const;

  private:
    static int onTimer(sd_event_source*, uint64_t, void* self);
    EventLoop& loop_;
    std::function<void()> callback_;
    EventSource source_;
};

class EventLoop {
  public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    sd_event* get() const noexcept { return event_; }

    // Thread-safe: runs fn on the loop's thread soon after.
    void post(std::function<void()> fn);
    // Calls fn when fd is readable.
    EventSource watchReadable(int fd, std::function<void()> fn);
    // Blocks the signals and calls fn when one arrives.
    void onSignal(int signal, std::function<void()> fn);
    // Serves the connection from this loop.
    void attachBus(sdbus::IConnection& connection);
    // Stops serving it (before the connection goes).
    void detachBus() noexcept;

    int run();
    void exit(int code);

  private:
    static int onPosted(sd_event_source*, int, uint32_t, void* self);
    static int onReadable(sd_event_source*, int, uint32_t, void* fn);
    static int onSignalInfo(sd_event_source*, const struct signalfd_siginfo*, void* fn);
    static int onBusIo(sd_event_source*, int, uint32_t, void* self);
    static int onBusTimeout(sd_event_source*, uint64_t, void* self);
    static int onBusPrepare(sd_event_source*, void* self);
    void processBus();

    sd_event* event_ = nullptr;
    int wakeFd_ = -1;
    EventSource wakeSource_;
    std::mutex mutex_;
    std::deque<std::function<void()>> posted_;
    std::deque<std::unique_ptr<std::function<void()>>> handlers_;  // owned callbacks
    std::deque<EventSource> signalSources_;
    sdbus::IConnection* bus_ = nullptr;
    EventSource busIo_;
    EventSource busTimer_;
};

}  // namespace imsaka::daemon
