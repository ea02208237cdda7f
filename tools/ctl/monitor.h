// imsakactl monitor: the daemon's signals as they come, one line each, until SIGINT/SIGTERM.
#pragma once

#include <ostream>

#include "bus.h"

namespace imsaka::ctl {

// Prints object additions and removals, property changes, RefreshDue and the daemon
// starting or stopping. Works also while the daemon is not running. Returns the exit status.
int monitor(Bus& bus, bool asJson, std::ostream& out);

// The current time as "2026-11-21T12:40:01.123Z".
std::string isoTimeNow();

}  // namespace imsaka::ctl
