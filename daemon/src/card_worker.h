// One thread per reader that owns the reader's only cardio::Card: two connections to one
// reader make pcsc-lite poll its lock every 100 ms, so every card operation of the daemon
// for that reader goes through this queue. Jobs report back by posting to the event loop.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "imsaka/cardio/card.h"

namespace imsaka::daemon {

class CardWorker {
  public:
    using Job = std::function<void(cardio::Card&)>;

    CardWorker(std::string reader, cardio::SessionOptions session);
    ~CardWorker();  // stops and joins
    CardWorker(const CardWorker&) = delete;
    CardWorker& operator=(const CardWorker&) = delete;

    // Runs job on the worker thread after the jobs before it. A job must not throw.
    void submit(Job job);
    // Lets the thread end once the queue is empty. Queued jobs still run (a card that is gone
    // fails them at once), so that everyone waiting for an answer gets one.
    void requestStop();

  private:
    void run(cardio::CardOptions options);

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace imsaka::daemon
