#include "ini_file.h"

// The library's headers declare C functions without extern "C".
extern "C" {
#include <ini_configobj.h>
#include <ini_valueobj.h>
}

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

#include "imsaka/daemon/config.h"

namespace imsaka::daemon {

namespace {

// ding-libs files keys met before any [section] under a section "default", whose first key
// its attribute list leaves out (0.6.2); a section of our own in front keeps every key in
// view. Its header is line 0: every line number is one less than the library's.
constexpr const char* kBeforeAnySection = "imsakad:before-any-section";

struct ConfigDeleter {
    void operator()(ini_cfgobj* config) const { ini_config_destroy(config); }
};
struct FileDeleter {
    void operator()(ini_cfgfile* file) const { ini_config_file_destroy(file); }
};
struct ListDeleter {
    void operator()(char** list) const { ini_free_section_list(list); }
};
struct AttributeListDeleter {
    void operator()(char** list) const { ini_free_attribute_list(list); }
};

std::string lower(std::string text) {
    for (char& c : text)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return text;
}

// "Error (5) on line 3: Equal sign is missing." -> line 3 and "equal sign is missing".
[[noreturn]] void throwParseError(ini_cfgobj* config, const std::string& origin) {
    char** errors = nullptr;
    std::string text = "the library gave no reason";
    if (ini_config_get_errors(config, &errors) == 0 && errors && errors[0]) text = errors[0];
    ini_config_free_errors(errors);
    unsigned line = 0;
    auto at = text.find("on line ");
    if (at != std::string::npos)
        line = static_cast<unsigned>(std::strtoul(&text[at + 8], nullptr, 10));
    auto colon = text.find(": ", at == std::string::npos ? 0 : at);
    std::string reason = colon == std::string::npos ? text : text.substr(colon + 2);
    while (!reason.empty() && (reason.back() == '.' || reason.back() == ' ')) reason.pop_back();
    if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
    throw ConfigError(ConfigErrc::Syntax,
                      line > 1 ? origin + ":" + std::to_string(line - 1) : origin,
                      "expected [section], key = value, or a comment line (" + reason + ")");
}

std::vector<IniValue> valuesOf(ini_cfgobj* config, const char* section) {
    std::vector<IniValue> values;
    int count = 0, error = 0;
    std::unique_ptr<char*, AttributeListDeleter> names(
        ini_get_attribute_list(config, section, &count, &error));
    std::set<std::string> seen;  // lookups ignore case
    for (int i = 0; i < count; ++i) {
        std::string key = names.get()[i];
        if (!seen.insert(lower(key)).second) continue;
        int mode = INI_GET_FIRST_VALUE;
        while (true) {
            value_obj* found = nullptr;
            if (ini_get_config_valueobj(section, key.c_str(), config, mode, &found) != 0 || !found)
                break;
            mode = INI_GET_NEXT_VALUE;
            uint32_t line = 0;
            value_get_line(found, &line);
            int failed = 0;
            const char* text = ini_get_const_string_config_value(found, &failed);
            values.push_back({key, failed || !text ? "" : text, line > 1 ? line - 1 : 0});
        }
    }
    return values;
}

}  // namespace

std::vector<IniSection> readIni(std::string_view text, const std::string& origin) {
    if (auto nul = text.find('\0'); nul != std::string_view::npos) {
        auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(nul), '\n');
        throw ConfigError(ConfigErrc::Syntax, origin + ":" + std::to_string(line),
                          "a NUL byte: this is not a text file");
    }
    std::string buffer = std::string("[") + kBeforeAnySection + "]\n";
    buffer.append(text);

    ini_cfgfile* rawFile = nullptr;
    if (ini_config_file_from_mem(buffer.data(), static_cast<uint32_t>(buffer.size()), &rawFile) !=
        0)
        throw ConfigError(ConfigErrc::Unreadable, origin, "cannot be read as INI");
    std::unique_ptr<ini_cfgfile, FileDeleter> file(rawFile);
    ini_cfgobj* rawConfig = nullptr;
    if (ini_config_create(&rawConfig) != 0)
        throw ConfigError(ConfigErrc::Unreadable, origin, "out of memory");
    std::unique_ptr<ini_cfgobj, ConfigDeleter> config(rawConfig);
    // Every setting is kept (a key set twice is the caller's to refuse, with both lines);
    // repeated sections are one section.
    if (ini_config_parse(file.get(), INI_STOP_ON_ANY,
                         INI_MV1S_ALLOW | INI_MS_MERGE | INI_MV2S_ALLOW,
                         INI_PARSE_NOWRAP | INI_PARSE_NO_C_COMMENTS, config.get()) != 0)
        throwParseError(config.get(), origin);

    std::vector<IniSection> sections;
    int count = 0, error = 0;
    std::unique_ptr<char*, ListDeleter> names(ini_get_section_list(config.get(), &count, &error));
    for (int i = 0; i < count; ++i) {
        const char* name = names.get()[i];
        auto values = valuesOf(config.get(), name);
        bool sentinel = std::strcmp(name, kBeforeAnySection) == 0;
        if (sentinel && values.empty()) continue;
        sections.push_back({sentinel ? std::string() : std::string(name), std::move(values)});
    }
    return sections;
}

}  // namespace imsaka::daemon
