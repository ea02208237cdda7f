// What imsakactl shows, as JSON documents built from the daemon's D-Bus objects. The human
// output (human.h) is rendered from the same documents, so both carry the same facts.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace imsaka::ctl {

using json = nlohmann::ordered_json;
using Properties = std::map<std::string, sdbus::Variant>;
using Interfaces = std::map<std::string, Properties>;
using ManagedObjects = std::map<sdbus::ObjectPath, Interfaces>;
using Counter = sdbus::Struct<std::string, std::string, uint32_t, uint64_t, uint64_t>;

inline constexpr const char* kService = "org.imsaka";
inline constexpr const char* kRootPath = "/org/imsaka";
inline constexpr const char* kCardInterface = "org.imsaka.Card1";
inline constexpr const char* kRegistrationInterface = "org.imsaka.Registration1";
inline constexpr const char* kSaSetInterface = "org.imsaka.SecurityAssociation1";

// A command-line argument that names no object of the expected kind.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// "PcscfAddresses" -> "pcscf_addresses", "PortUc" -> "port_uc": the JSON spelling of a
// property name.
std::string snakeCase(std::string_view name);

// D-Bus values as JSON: strings and object paths as strings, numbers as numbers, arrays as
// arrays. A type imsakactl does not know becomes {"unsupported_type": signature}.
json toJson(const sdbus::Variant& value);
json toJson(const Properties& properties);

enum class ObjectKind { Card, Registration };
// "3" -> "/org/imsaka/card/3"; a path of that kind is returned as it is; anything else
// throws UsageError.
std::string objectPath(ObjectKind kind, std::string_view numberOrPath);

// Orders paths segment by segment, numbers by value: card/2 before card/10.
bool pathLess(std::string_view left, std::string_view right);

// Every object carrying the interface, in pathLess order, as {"path": ..., <properties>}.
json objectsWith(const ManagedObjects& objects, std::string_view interface);
// Only the SA sets below one registration path.
json saSetsOf(const ManagedObjects& objects, std::string_view registrationPath);
// GetCounters' reply: [{"sa": "A", "direction": "out", "spi": ..., "packets": ..., "bytes": ...}]
json toJson(const std::vector<Counter>& counters);

// Monitor events, one JSON object each. `time` is an ISO 8601 UTC timestamp.
json addedEvent(std::string time, const sdbus::ObjectPath& path, const Interfaces& interfaces);
json removedEvent(std::string time, const sdbus::ObjectPath& path,
                  const std::vector<std::string>& interfaces);
json changedEvent(std::string time, const std::string& path, const std::string& interface,
                  const Properties& changed, const std::vector<std::string>& invalidated);
json refreshDueEvent(std::string time, const std::string& path, const std::string& reason);
json daemonEvent(std::string time, bool running, const std::string& owner);
// The first line of every monitor: whether the daemon runs (owner is its unique name) or not
// (empty owner). Everything after it is a change.
json startedEvent(std::string time, const std::string& owner);

}  // namespace imsaka::ctl
