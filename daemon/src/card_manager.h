// Readers and cards as Card1 objects: a monitor thread watches PC/SC and posts reader and
// card events to the loop, which creates and removes the objects. Object numbers are
// stable per reader name for the life of the daemon.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "card_object.h"
#include "event_loop.h"
#include "imsaka/cardio/pcsc.h"
#include "imsaka/daemon/config.h"

namespace imsaka::daemon {

class CardManager {
  public:
    CardManager(sdbus::IConnection& connection, EventLoop& loop, const DaemonConfig& config);
    ~CardManager();  // stops the monitor and every worker

    void start();
    void stop();

    // By object path; nullptr when there is none.
    CardObject* find(const std::string& path);
    // The object path of a reader's card; empty when the reader is unknown.
    std::string pathOfReader(const std::string& reader) const;
    // The first card (by object number) that is ready; nullptr when none is.
    CardObject* firstReady();
    // The first card in any reader, ready or not; nullptr when every reader is empty.
    CardObject* firstPresent();

  private:
    CardObject* first(const std::function<bool(const CardObject&)>& wanted);  // by number
    void monitor();
    void onEvents(const std::vector<cardio::ReaderEvent>& events);
    void onMonitorLost();
    bool wanted(const std::string& reader) const;
    std::string pathFor(const std::string& reader);
    void removeReader(const std::string& reader);

    sdbus::IConnection& connection_;
    EventLoop& loop_;
    const DaemonConfig& config_;
    std::map<std::string, unsigned> numbers_;                   // reader -> N of /org/imsaka/card/N
    std::map<std::string, std::unique_ptr<CardObject>> cards_;  // by reader
    std::vector<std::unique_ptr<CardWorker>> retired_;          // of readers that went

    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    cardio::ReaderMonitor* current_ = nullptr;  // for cancel(), under mutex_
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace imsaka::daemon
