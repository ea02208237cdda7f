// imsaka-register prints one event per line on standard output (doc/imsaka-register.md).
#pragma once

#include <iostream>
#include <string>

namespace imsaka::reg {

// One event per line, flushed at once: scripts read it as it comes.
inline void say(const std::string& line) {
    std::cout << line << std::endl;
}

inline std::string yesNo(bool value) {
    return value ? "yes" : "no";
}

}  // namespace imsaka::reg
