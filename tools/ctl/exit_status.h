// imsakactl's exit statuses (doc/imsakactl.md lists them) and how D-Bus errors map to them.
#pragma once

#include <string_view>

namespace imsaka::ctl {

enum ExitStatus {
    kOk = 0,
    kError = 1,       // any other error, named in the message
    kUsage = 2,       // bad command line, or the daemon said InvalidArguments
    kNoDaemon = 3,    // the bus cannot be reached or imsakad is not running
    kNotFound = 4,    // no such card, registration or SA set
    kNotAllowed = 5,  // refused by the bus policy or by the daemon
    kPin = 6,         // verify-pin, unblock-pin: wrong PIN or PUK, PIN or PUK blocked
};

ExitStatus exitStatusFor(std::string_view dbusErrorName);

}  // namespace imsaka::ctl
