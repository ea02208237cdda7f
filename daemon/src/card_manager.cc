#include "card_manager.h"

#include <algorithm>
#include <chrono>

#include "imsaka/cardio/error.h"
#include "log.h"

namespace imsaka::daemon {

CardManager::CardManager(sdbus::IConnection& connection, EventLoop& loop,
                         const DaemonConfig& config)
    : connection_(connection), loop_(loop), config_(config) {}

CardManager::~CardManager() {
    stop();
}

void CardManager::start() {
    thread_ = std::thread([this] { monitor(); });
}

void CardManager::stop() {
    *alive_ = false;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        if (current_) current_->cancel();
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& [reader, card] : cards_) retired_.push_back(card->takeWorker());
    cards_.clear();
    retired_.clear();  // joins
}

void CardManager::monitor() {
    using namespace std::chrono_literals;
    std::weak_ptr<bool> alive = alive_;
    bool reportedLoss = false;
    while (true) {
        try {
            cardio::ReaderMonitor readers;
            {
                std::lock_guard lock(mutex_);
                if (stopping_) return;
                current_ = &readers;
            }
            reportedLoss = false;
            while (true) {
                auto events = readers.wait(2000ms);
                {
                    std::lock_guard lock(mutex_);
                    if (stopping_) {
                        current_ = nullptr;
                        return;
                    }
                }
                if (!events.empty())
                    loop_.post([this, alive, events] {
                        if (!alive.expired()) onEvents(events);
                    });
            }
        } catch (const std::exception& e) {
            {
                std::lock_guard lock(mutex_);
                current_ = nullptr;
            }
            if (!reportedLoss) {
                reportedLoss = true;
                loop_.post([this, alive, what = std::string(e.what())] {
                    if (alive.expired()) return;
                    log::warning("PC/SC: " + what + "; retrying");
                    onMonitorLost();
                });
            }
        }
        // pcscd is not there (yet, or any more): try again a little later.
        std::unique_lock lock(mutex_);
        if (wake_.wait_for(lock, 1s, [this] { return stopping_; })) return;
    }
}

bool CardManager::wanted(const std::string& reader) const {
    return config_.readers.empty() || std::find(config_.readers.begin(), config_.readers.end(),
                                                reader) != config_.readers.end();
}

std::string CardManager::pathFor(const std::string& reader) {
    auto [entry, added] = numbers_.try_emplace(reader, static_cast<unsigned>(numbers_.size()));
    return "/org/imsaka/card/" + std::to_string(entry->second);
}

void CardManager::onEvents(const std::vector<cardio::ReaderEvent>& events) {
    using Kind = cardio::ReaderEvent::Kind;
    for (const auto& event : events) {
        if (!wanted(event.reader)) continue;
        switch (event.kind) {
            case Kind::ReaderAdded:
                if (!cards_.count(event.reader)) {
                    auto path = pathFor(event.reader);
                    log::info("reader " + event.reader + " at " + path);
                    cards_[event.reader] = std::make_unique<CardObject>(
                        connection_, path, event.reader, loop_, config_);
                }
                break;
            case Kind::ReaderRemoved:
                log::info("reader " + event.reader + " gone");
                removeReader(event.reader);
                break;
            case Kind::CardInserted:
                if (auto it = cards_.find(event.reader); it != cards_.end())
                    it->second->cardInserted();
                break;
            case Kind::CardRemoved:
                log::info("card removed from " + event.reader);
                if (auto it = cards_.find(event.reader); it != cards_.end())
                    it->second->cardRemoved();
                break;
        }
    }
}

void CardManager::onMonitorLost() {
    std::vector<std::string> readers;
    for (const auto& [reader, card] : cards_) readers.push_back(reader);
    for (const auto& reader : readers) removeReader(reader);
}

void CardManager::removeReader(const std::string& reader) {
    auto it = cards_.find(reader);
    if (it == cards_.end()) return;
    auto worker = it->second->takeWorker();
    if (worker) {
        worker->requestStop();
        retired_.push_back(std::move(worker));
    }
    cards_.erase(it);
}

CardObject* CardManager::find(const std::string& path) {
    for (auto& [reader, card] : cards_)
        if (card->path() == path) return card.get();
    return nullptr;
}

std::string CardManager::pathOfReader(const std::string& reader) const {
    auto it = cards_.find(reader);
    return it == cards_.end() ? std::string() : it->second->path();
}

CardObject* CardManager::firstReady() {
    return first([](const CardObject& card) { return card.ready(); });
}

CardObject* CardManager::firstPresent() {
    return first([](const CardObject& card) { return card.present(); });
}

CardObject* CardManager::first(const std::function<bool(const CardObject&)>& wanted) {
    CardObject* best = nullptr;
    unsigned bestNumber = 0;
    for (auto& [reader, card] : cards_) {
        if (!wanted(*card)) continue;
        unsigned number = numbers_.at(reader);
        if (!best || number < bestNumber) {
            best = card.get();
            bestNumber = number;
        }
    }
    return best;
}

}  // namespace imsaka::daemon
