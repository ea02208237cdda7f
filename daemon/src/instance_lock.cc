#include "instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace imsaka::daemon {

namespace {

std::string systemError(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

// The pid holding a flock on fd's file, from /proc/locks when it is readable (a unit with
// ProcSubset=pid hides it: then nothing).
std::optional<long> holderOf(int fd) {
    struct stat file;
    if (fstat(fd, &file) != 0) return std::nullopt;
    char device[64];
    std::snprintf(device, sizeof device, "%02x:%02x:%lu", major(file.st_dev), minor(file.st_dev),
                  static_cast<unsigned long>(file.st_ino));
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) {
        // "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"
        std::istringstream fields(line);
        std::string number, kind, mode, access, pid, where;
        if (!(fields >> number >> kind >> mode >> access >> pid >> where)) continue;
        if (kind == "FLOCK" && where == device) return std::strtol(pid.c_str(), nullptr, 10);
    }
    return std::nullopt;
}

}  // namespace

std::string runtimeDirectory() {
    const char* fromSystemd = std::getenv("RUNTIME_DIRECTORY");
    if (fromSystemd && *fromSystemd) {
        std::string directories(fromSystemd);
        return directories.substr(0, directories.find(':'));
    }
    return "/run/imsaka";
}

InstanceLock::InstanceLock(const std::string& directory) {
    struct stat namespaceFile;
    if (stat("/proc/self/ns/net", &namespaceFile) != 0)
        throw std::runtime_error(
            systemError("cannot tell the network namespace: /proc/self/ns/net"));
    if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST)
        throw std::runtime_error(systemError("cannot make " + directory));
    path_ = directory + "/imsakad-netns-" + std::to_string(namespaceFile.st_ino) + ".lock";
    // Read access is enough for flock, so a file root made stays usable by the service user.
    fd_ = open(path_.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) throw std::runtime_error(systemError("cannot open the instance lock " + path_));
    fchmod(fd_, 0644);  // under UMask=0077 too; fails harmlessly on a file of another owner
    if (flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    int error = errno;
    auto holder = holderOf(fd_);
    close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK) {
        errno = error;
        throw std::runtime_error(systemError("cannot lock " + path_));
    }
    throw AlreadyRunning("another imsakad" +
                         (holder ? " (pid " + std::to_string(*holder) + ")" : std::string()) +
                         " already runs in this network namespace (it holds " + path_ +
                         "); not starting, so that its SAs and policies stay as they are");
}

InstanceLock::~InstanceLock() {
    if (fd_ >= 0) close(fd_);
}

}  // namespace imsaka::daemon
