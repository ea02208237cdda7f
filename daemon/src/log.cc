#include "log.h"

#include <cstdio>
#include <string>

namespace imsaka::daemon::log {

namespace {
Level threshold = Level::Info;
}

bool setLevel(std::string_view name) {
    if (name == "err" || name == "error")
        threshold = Level::Error;
    else if (name == "warning")
        threshold = Level::Warning;
    else if (name == "notice")
        threshold = Level::Notice;
    else if (name == "info")
        threshold = Level::Info;
    else if (name == "debug")
        threshold = Level::Debug;
    else
        return false;
    return true;
}

bool enabled(Level level) {
    return static_cast<int>(level) <= static_cast<int>(threshold);
}

void write(Level level, std::string_view message) {
    if (!enabled(level)) return;
    // One fwrite per line: lines from different threads never interleave.
    std::string line = "<" + std::to_string(static_cast<int>(level)) + ">";
    line.append(message);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace imsaka::daemon::log
