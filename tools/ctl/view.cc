#include "view.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace imsaka::ctl {

std::string snakeCase(std::string_view name) {
    std::string out;
    for (size_t i = 0; i < name.size(); ++i) {
        auto c = static_cast<unsigned char>(name[i]);
        if (std::isupper(c)) {
            if (i > 0) out += '_';
            out += static_cast<char>(std::tolower(c));
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

namespace {

template <typename T>
json arrayOf(const sdbus::Variant& value) {
    json out = json::array();
    for (const auto& item : value.get<std::vector<T>>()) out.push_back(item);
    return out;
}

}  // namespace

json toJson(const sdbus::Variant& value) {
    const std::string type = value.peekValueType();
    if (type == "s") return value.get<std::string>();
    if (type == "o") return std::string(value.get<sdbus::ObjectPath>());
    if (type == "b") return value.get<bool>();
    if (type == "y") return value.get<uint8_t>();
    if (type == "n") return value.get<int16_t>();
    if (type == "q") return value.get<uint16_t>();
    if (type == "i") return value.get<int32_t>();
    if (type == "u") return value.get<uint32_t>();
    if (type == "x") return value.get<int64_t>();
    if (type == "t") return value.get<uint64_t>();
    if (type == "d") return value.get<double>();
    if (type == "as") return arrayOf<std::string>(value);
    if (type == "a(ss)") {  // header lists: [name, value] pairs
        json out = json::array();
        for (const auto& pair : value.get<std::vector<sdbus::Struct<std::string, std::string>>>())
            out.push_back(json::array({pair.get<0>(), pair.get<1>()}));
        return out;
    }
    if (type == "ao") {
        json out = json::array();
        for (const auto& path : value.get<std::vector<sdbus::ObjectPath>>())
            out.push_back(std::string(path));
        return out;
    }
    return {{"unsupported_type", type}};
}

json toJson(const Properties& properties) {
    json out = json::object();
    for (const auto& [name, value] : properties) out[snakeCase(name)] = toJson(value);
    return out;
}

std::string objectPath(ObjectKind kind, std::string_view numberOrPath) {
    const std::string prefix =
        std::string(kRootPath) + (kind == ObjectKind::Card ? "/card/" : "/registration/");
    std::string_view number = numberOrPath;
    if (numberOrPath.starts_with(prefix)) number.remove_prefix(prefix.size());
    unsigned value = 0;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || error != std::errc() || end != number.data() + number.size())
        throw UsageError("'" + std::string(numberOrPath) + "' is not a number nor a path " +
                         prefix + "N");
    return prefix + std::to_string(value);
}

namespace {

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        auto slash = path.find('/');
        if (slash != 0) out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

bool isNumber(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool pathLess(std::string_view left, std::string_view right) {
    auto a = segments(left), b = segments(right);
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        if (a[i] == b[i]) continue;
        if (isNumber(a[i]) && isNumber(b[i]) && a[i].size() != b[i].size())
            return a[i].size() < b[i].size();  // no leading zeros in object numbers
        return a[i] < b[i];
    }
    return a.size() < b.size();
}

namespace {

json collect(const ManagedObjects& objects, std::string_view interface,
             std::string_view pathPrefix) {
    std::vector<std::pair<std::string, const Properties*>> found;
    for (const auto& [path, interfaces] : objects) {
        auto it = interfaces.find(std::string(interface));
        if (it != interfaces.end() && std::string_view(path).starts_with(pathPrefix))
            found.emplace_back(path, &it->second);
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return pathLess(a.first, b.first); });
    json out = json::array();
    for (const auto& [path, properties] : found) {
        json object{{"path", path}};
        object.update(toJson(*properties));
        out.push_back(std::move(object));
    }
    return out;
}

}  // namespace

json objectsWith(const ManagedObjects& objects, std::string_view interface) {
    return collect(objects, interface, "");
}

json saSetsOf(const ManagedObjects& objects, std::string_view registrationPath) {
    return collect(objects, kSaSetInterface, std::string(registrationPath) + "/sa/");
}

json toJson(const std::vector<Counter>& counters) {
    json out = json::array();
    for (const auto& counter : counters)
        out.push_back({{"sa", counter.get<0>()},
                       {"direction", counter.get<1>()},
                       {"spi", counter.get<2>()},
                       {"packets", counter.get<3>()},
                       {"bytes", counter.get<4>()}});
    return out;
}

json addedEvent(std::string time, const sdbus::ObjectPath& path, const Interfaces& interfaces) {
    json described = json::object();
    for (const auto& [name, properties] : interfaces) {
        // The standard interfaces come with every object and say nothing about it.
        if (name.starts_with("org.freedesktop.DBus.")) continue;
        described[name] = toJson(properties);
    }
    return {{"time", std::move(time)},
            {"event", "added"},
            {"path", std::string(path)},
            {"interfaces", described}};
}

json removedEvent(std::string time, const sdbus::ObjectPath& path,
                  const std::vector<std::string>& interfaces) {
    json names = json::array();
    for (const auto& name : interfaces)
        if (!name.starts_with("org.freedesktop.DBus.")) names.push_back(name);
    return {{"time", std::move(time)},
            {"event", "removed"},
            {"path", std::string(path)},
            {"interfaces", names}};
}

json changedEvent(std::string time, const std::string& path, const std::string& interface,
                  const Properties& changed, const std::vector<std::string>& invalidated) {
    json out{{"time", std::move(time)},
             {"event", "changed"},
             {"path", path},
             {"interface", interface},
             {"changed", toJson(changed)}};
    if (!invalidated.empty()) {
        json names = json::array();
        for (const auto& name : invalidated) names.push_back(snakeCase(name));
        out["invalidated"] = names;
    }
    return out;
}

json refreshDueEvent(std::string time, const std::string& path, const std::string& reason) {
    return {
        {"time", std::move(time)}, {"event", "refresh-due"}, {"path", path}, {"reason", reason}};
}

json daemonEvent(std::string time, bool running, const std::string& owner) {
    json out{{"time", std::move(time)}, {"event", running ? "daemon-started" : "daemon-stopped"}};
    if (running) out["owner"] = owner;
    return out;
}

json startedEvent(std::string time, const std::string& owner) {
    json out{{"time", std::move(time)}, {"event", "started"}, {"daemon_running", !owner.empty()}};
    if (!owner.empty()) out["owner"] = owner;
    return out;
}

}  // namespace imsaka::ctl
