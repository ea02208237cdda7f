#include "client.h"

#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace imsaka::daemontest {
namespace {

template <typename Value>
Value field(const Request& request, const std::string& name) {
    auto found = request.find(name);
    if (found == request.end()) throw std::runtime_error("the request has no " + name);
    return found->second.get<Value>();
}

}  // namespace

testing::SipHeaders Step::headers() const {
    testing::SipHeaders headers;
    for (const auto& header :
         field<std::vector<sdbus::Struct<std::string, std::string>>>(request, "headers"))
        headers.emplace_back(header.get<0>(), header.get<1>());
    return headers;
}

std::string Step::uri() const {
    return field<std::string>(request, "uri");
}

bool Step::protectedBySa() const {
    return field<bool>(request, "protected");
}

uint16_t Step::localPort() const {
    return field<uint16_t>(request, "local_port");
}

uint16_t Step::remotePort() const {
    return field<uint16_t>(request, "remote_port");
}

std::string Step::remoteAddress() const {
    return field<std::string>(request, "remote_address");
}

Step step(std::tuple<std::string, Request> reply) {
    return {std::move(std::get<0>(reply)), std::move(std::get<1>(reply))};
}

std::vector<sdbus::Struct<std::string, std::string>> toDbus(const testing::SipHeaders& headers) {
    std::vector<sdbus::Struct<std::string, std::string>> converted;
    for (const auto& [name, value] : headers) converted.emplace_back(name, value);
    return converted;
}

std::string waitForReadyCard(sdbus::IConnection& connection, const std::string& reader,
                             std::chrono::milliseconds timeout) {
    ObjectsProxy objects(connection);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string seen = "no Card1 object";
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& [path, interfaces] : objects.GetManagedObjects()) {
            auto card = interfaces.find("org.imsaka.Card1");
            if (card == interfaces.end()) continue;
            const auto& properties = card->second;
            if (properties.at("Reader").get<std::string>() != reader) continue;
            std::string state = properties.at("State").get<std::string>();
            if (state == "ready") return path;
            seen = path + " in state " + state;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("imsakad shows no ready card in " + reader + " (" + seen + ")");
}

std::vector<std::string> saObjects(sdbus::IConnection& connection,
                                   const std::string& registration) {
    ObjectsProxy objects(connection);
    std::vector<std::string> paths;
    for (const auto& [path, interfaces] : objects.GetManagedObjects())
        if (interfaces.count("org.imsaka.SecurityAssociation1") &&
            std::string(path).rfind(registration + "/sa/", 0) == 0)
            paths.push_back(path);
    return paths;
}

void setUpTestNetwork() {
    // The P-CSCF's address lives in a namespace of its own behind a veth pair: the kernel
    // never applies XFRM to traffic between two local addresses (it goes over lo).
    // pcsc-sandbox.sh gave us a private mount namespace: a tmpfs on /run/netns keeps the
    // namespace's name from reaching the host.
    const char* setup =
        "ip link show veth-ue >/dev/null 2>&1 || { "
        "mkdir -p /run/netns && mount -t tmpfs imsaka-netns /run/netns && "
        "ip netns add imsaka-pcscf && "
        "ip link add veth-ue type veth peer name veth-pc netns imsaka-pcscf && "
        "ip addr add 10.46.0.1/24 dev veth-ue && ip addr add 10.46.0.3/24 dev veth-ue && "
        "ip link set veth-ue up && ip -n imsaka-pcscf link set lo up && "
        "ip -n imsaka-pcscf addr add 10.46.0.2/24 dev veth-pc && "
        "ip -n imsaka-pcscf link set veth-pc up; }";
    if (std::system(setup) != 0)
        throw std::runtime_error("cannot set up the test network (veth, namespace imsaka-pcscf)");
}

}  // namespace imsaka::daemontest
