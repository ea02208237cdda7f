// How many file descriptors imsakad needs for its configured caps: the unit's LimitNOFILE
// (systemd/imsakad.service.in) is set from the same arithmetic.
#pragma once

#include <cstdint>

#include "imsaka/daemon/config.h"

namespace imsaka::daemon {

// A registration holds at most three port pairs at once (its established SA set, a retiring
// one, and a new offer waiting for its 401), each port a UDP and a TCP socket.
inline constexpr uint64_t kDescriptorsPerRegistration = 3 * 2 * 2;
// The daemon itself: standard streams, the bus, XFRM netlink sockets, the event loop's
// epoll, signal, timer and wake-up descriptors, and one PC/SC socket per reader plus the
// monitor's, with room for a few dozen readers.
inline constexpr uint64_t kDescriptorsOfTheDaemon = 64;

uint64_t descriptorsNeeded(const DaemonConfig& config);

// Logs a warning when RLIMIT_NOFILE is below descriptorsNeeded(config): registrations would
// then fail with FileDescriptorsExhausted before the caps are reached.
void warnIfDescriptorsShort(const DaemonConfig& config);

}  // namespace imsaka::daemon
