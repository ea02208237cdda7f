#include "client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

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
        "ip -n imsaka-pcscf link set veth-pc up && "
        // IPv6 too (the end-to-end tests use it); nodad: usable at once.
        "ip -6 addr add fd46::1/64 dev veth-ue nodad && "
        "ip -6 addr add fd46::3/64 dev veth-ue nodad && "
        "ip -n imsaka-pcscf -6 addr add fd46::2/64 dev veth-pc nodad; }";
    if (std::system(setup) != 0)
        throw std::runtime_error("cannot set up the test network (veth, namespace imsaka-pcscf)");
}

int pcscfEspSocket() {
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int pcscf = open("/run/netns/imsaka-pcscf", O_RDONLY | O_CLOEXEC);
    if (home < 0 || pcscf < 0 || setns(pcscf, CLONE_NEWNET) != 0)
        throw std::runtime_error("cannot enter the namespace imsaka-pcscf");
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ESP);
    bool back = setns(home, CLONE_NEWNET) == 0;
    close(pcscf);
    close(home);
    if (!back) throw std::runtime_error("cannot leave the namespace imsaka-pcscf");
    if (fd < 0) throw std::runtime_error("cannot open a raw ESP socket");
    return fd;
}

std::optional<uint32_t> nextEspSpi(int socket, std::chrono::milliseconds timeout) {
    pollfd wait{socket, POLLIN, 0};
    if (poll(&wait, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    uint8_t packet[2048];
    ssize_t length = recv(socket, packet, sizeof packet, 0);
    // A raw IPv4 socket hands over the IP header too; the SPI opens the ESP header.
    if (length < 20) return std::nullopt;
    size_t headerLength = static_cast<size_t>(packet[0] & 0x0f) * 4;
    if (static_cast<size_t>(length) < headerLength + 4) return std::nullopt;
    const uint8_t* spi = packet + headerLength;
    return static_cast<uint32_t>(spi[0]) << 24 | static_cast<uint32_t>(spi[1]) << 16 |
           static_cast<uint32_t>(spi[2]) << 8 | spi[3];
}

ssize_t sendToPcscf(int socket, uint16_t port, std::string_view payload) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, kPcscfAddress, &to.sin_addr);
    return sendto(socket, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
                  sizeof to);
}

}  // namespace imsaka::daemontest
