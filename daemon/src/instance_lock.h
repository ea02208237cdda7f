// One imsakad per network namespace. The XFRM state the daemon cleans up at start and owns
// while it runs belongs to a network namespace, and two daemons on different buses could
// share one, so the bus name alone cannot say that the kernel state is ours. The lock is a
// file lock in the runtime directory on a file named after the namespace; the kernel
// releases it when the holder ends, however it ends (SIGKILL included).
#pragma once

#include <sys/types.h>

#include <stdexcept>
#include <string>

namespace imsaka::daemon {

// Another daemon holds what this one needs (the namespace's lock, the bus name).
class AlreadyRunning : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class InstanceLock {
  public:
    // Takes the lock of the current network namespace in directory (created when missing).
    // Throws AlreadyRunning when another process holds it, std::runtime_error when the
    // file cannot be made or locked.
    explicit InstanceLock(const std::string& directory);
    ~InstanceLock();
    InstanceLock(const InstanceLock&) = delete;
    InstanceLock& operator=(const InstanceLock&) = delete;

    const std::string& path() const { return path_; }

  private:
    std::string path_;
    int fd_ = -1;
};

// $RUNTIME_DIRECTORY (set by systemd's RuntimeDirectory=, first entry), else /run/imsaka.
std::string runtimeDirectory();

}  // namespace imsaka::daemon
