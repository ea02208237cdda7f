#include "event_loop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>
#include <vector>

namespace imsaka::daemon {
namespace {

using namespace std::chrono_literals;

TEST(EventLoop, ClosuresPostedFromOtherThreadsRunOnTheLoopThreadInOrder) {
    EventLoop loop;
    std::vector<int> seen;
    std::thread::id loopThread = std::this_thread::get_id();
    bool allOnLoop = true;
    std::thread poster([&] {
        for (int i = 0; i < 100; ++i)
            loop.post([&, i] {
                seen.push_back(i);
                allOnLoop = allOnLoop && std::this_thread::get_id() == loopThread;
                if (i == 99) loop.exit(7);
            });
    });
    EXPECT_EQ(loop.run(), 7);
    poster.join();
    ASSERT_EQ(seen.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
    EXPECT_TRUE(allOnLoop);
}

TEST(EventLoop, TimersFireByTheirTimeAndACancelledOneNever) {
    EventLoop loop;
    std::vector<std::string> fired;
    Timer late(loop, [&] {
        fired.push_back("late");
        loop.exit(0);
    });
    Timer early(loop, [&] { fired.push_back("early"); });
    Timer cancelled(loop, [&] { fired.push_back("cancelled"); });
    late.armIn(30ms);
    early.armIn(5ms);
    cancelled.armIn(10ms);
    cancelled.cancel();
    EXPECT_FALSE(cancelled.armed());
    EXPECT_TRUE(late.armed());
    loop.run();
    EXPECT_EQ(fired, (std::vector<std::string>{"early", "late"}));
}

TEST(EventLoop, ATimerCanBeArmedAgainFromItsOwnCallback) {
    EventLoop loop;
    int count = 0;
    std::unique_ptr<Timer> timer;
    timer = std::make_unique<Timer>(loop, [&] {
        if (++count == 3)
            loop.exit(0);
        else
            timer->armIn(1ms);
    });
    timer->armIn(1ms);
    loop.run();
    EXPECT_EQ(count, 3);
}

TEST(EventLoop, AThrowingCallbackIsContainedAndTheLoopGoesOn) {
    EventLoop loop;
    bool after = false;
    loop.post([] { throw std::runtime_error("job failed"); });
    loop.post([&] {
        after = true;
        loop.exit(0);
    });
    EXPECT_EQ(loop.run(), 0);
    EXPECT_TRUE(after);
}

TEST(EventLoop, ReadableDescriptorsCallTheirHandler) {
    EventLoop loop;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::string got;
    auto source = loop.watchReadable(fds[0], [&] {
        char buffer[16] = {};
        auto n = read(fds[0], buffer, sizeof buffer);
        got.assign(buffer, n > 0 ? static_cast<size_t>(n) : 0);
        loop.exit(0);
    });
    ASSERT_EQ(write(fds[1], "ping", 4), 4);
    loop.run();
    EXPECT_EQ(got, "ping");
    source.reset();
    close(fds[0]);
    close(fds[1]);
}

}  // namespace
}  // namespace imsaka::daemon
