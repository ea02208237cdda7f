// An INI text as sections of key = value lines, each value with its line, read with
// libini-config (ding-libs): lines of any length, whole-line comments starting with ';' or
// '#', no continuation lines, no inline comments (a ';' inside a value is part of it).
// Meaning (which sections and keys exist, what a key set twice means) is the caller's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imsaka::daemon {

struct IniValue {
    std::string key;  // as first spelled in the file
    std::string value;
    unsigned line = 0;
};

struct IniSection {
    std::string name;  // empty: the keys before the first [section]
    // In file order; a key set more than once appears once per setting.
    std::vector<IniValue> values;
};

// Throws ConfigError: Syntax with "<origin>:<line>" for a NUL byte or a line that is not a
// [section], a key = value or a comment; Unreadable when the library fails otherwise.
std::vector<IniSection> readIni(std::string_view text, const std::string& origin);

}  // namespace imsaka::daemon
