// Logging to stderr with sd-daemon priority prefixes ("<6>..."), which journald turns into
// priorities. Callers never pass secrets (K, OPc, RES, CK, IK, PINs).
#pragma once

#include <string>
#include <string_view>

namespace imsaka::daemon::log {

enum class Level { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

// "err", "warning", "notice", "info", "debug"; false for anything else.
bool setLevel(std::string_view name);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void error(std::string_view message) {
    write(Level::Error, message);
}
inline void warning(std::string_view message) {
    write(Level::Warning, message);
}
inline void notice(std::string_view message) {
    write(Level::Notice, message);
}
inline void info(std::string_view message) {
    write(Level::Info, message);
}
inline void debug(std::string_view message) {
    write(Level::Debug, message);
}

}  // namespace imsaka::daemon::log
