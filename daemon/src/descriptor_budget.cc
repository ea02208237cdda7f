#include "descriptor_budget.h"

#include <sys/resource.h>

#include <string>

#include "log.h"

namespace imsaka::daemon {

uint64_t descriptorsNeeded(const DaemonConfig& config) {
    return kDescriptorsOfTheDaemon + kDescriptorsPerRegistration * config.maxRegistrations;
}

void warnIfDescriptorsShort(const DaemonConfig& config) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
    auto needed = descriptorsNeeded(config);
    if (limit.rlim_cur >= needed) return;
    log::warning("max_registrations = " + std::to_string(config.maxRegistrations) + " needs " +
                 std::to_string(needed) + " file descriptors, the limit is " +
                 std::to_string(limit.rlim_cur) +
                 " (raise LimitNOFILE= of imsakad.service): registrations will fail with "
                 "FileDescriptorsExhausted before the cap");
}

}  // namespace imsaka::daemon
