#include "card_worker.h"

#include "log.h"

namespace imsaka::daemon {

CardWorker::CardWorker(std::string reader, cardio::SessionOptions session) {
    cardio::CardOptions options;
    options.reader = std::move(reader);
    options.session = session;
    thread_ = std::thread([this, options] { run(options); });
}

CardWorker::~CardWorker() {
    requestStop();
    if (thread_.joinable()) thread_.join();
}

void CardWorker::submit(Job job) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void CardWorker::requestStop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
}

void CardWorker::run(cardio::CardOptions options) {
    // The Card connects on its first job, on this thread, and never before.
    cardio::Card card(options);
    while (true) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) break;  // stopping, and every job taken has run
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        try {
            job(card);
        } catch (const std::exception& e) {
            log::error(std::string("card job for ") + options.reader + " failed: " + e.what());
        }
    }
    card.disconnect();
}

}  // namespace imsaka::daemon
