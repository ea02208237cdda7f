#include "network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace imsaka::ipsec::test {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

sockaddr_storage socketAddress(const IpAddress& address, uint16_t port, socklen_t& length) {
    sockaddr_storage storage{};
    if (address.isV6()) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        std::memcpy(&v6->sin6_addr, address.bytes().data(), 16);
        length = sizeof *v6;
    } else {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        std::memcpy(&v4->sin_addr, address.bytes().data(), 4);
        length = sizeof *v4;
    }
    return storage;
}

// A test that goes wrong fails after seconds instead of hanging (generous: the guest may be
// starved of CPU by other work on the host).
void limitWaits(int fd) {
    timeval timeout{15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

Fd boundSocket(const IpAddress& address, uint16_t port, int type) {
    Fd fd(socket(address.family(), type, 0));
    if (fd.get() < 0) fail("socket");
    int on = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    limitWaits(fd.get());
    socklen_t length;
    auto storage = socketAddress(address, port, length);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0)
        fail("bind " + address.toString() + " port " + std::to_string(port));
    return fd;
}

uint16_t portAt(const uint8_t* data) {
    return static_cast<uint16_t>(data[0] << 8 | data[1]);
}

}  // namespace

void shell(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("command failed: " + command);
}

std::string shellOutput(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) fail("popen");
    std::string output;
    char buffer[4096];
    size_t length;
    while ((length = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, length);
    pclose(pipe);
    return output;
}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) close(fd_);
        fd_ = other.release();
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) close(fd_);
}

Netns::Netns(std::string name) : name_(std::move(name)) {
    std::system(("ip netns del " + name_ + " 2>/dev/null").c_str());
    shell("ip netns add " + name_);
    own_ = Fd(open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC));
    home_ = Fd(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (own_.get() < 0 || home_.get() < 0) fail("open namespace " + name_);
    shell("ip -n " + name_ + " link set lo up");
}

Netns::~Netns() {
    std::system(("ip netns del " + name_).c_str());
}

void Netns::enter() const {
    if (setns(own_.get(), CLONE_NEWNET) != 0) fail("setns " + name_);
}

void Netns::leave() const {
    setns(home_.get(), CLONE_NEWNET);
}

TwoSides::TwoSides() {
    shell("ip link add veth-ue netns imsaka-ue type veth peer name veth-pc netns imsaka-pc");
    shell("ip -n imsaka-ue addr add 10.45.0.1/24 dev veth-ue");
    shell("ip -n imsaka-ue addr add fd45::1/64 dev veth-ue nodad");
    shell("ip -n imsaka-ue link set veth-ue up");
    shell("ip -n imsaka-pc addr add 10.45.0.2/24 dev veth-pc");
    shell("ip -n imsaka-pc addr add fd45::2/64 dev veth-pc nodad");
    shell("ip -n imsaka-pc link set veth-pc up");
}

IpAddress TwoSides::ueAddress(bool v6) const {
    return IpAddress::fromText(v6 ? "fd45::1" : "10.45.0.1");
}

IpAddress TwoSides::pcscfAddress(bool v6) const {
    return IpAddress::fromText(v6 ? "fd45::2" : "10.45.0.2");
}

Fd udpSocket(const IpAddress& address, uint16_t port) {
    return boundSocket(address, port, SOCK_DGRAM);
}

void sendUdp(int fd, const IpAddress& to, uint16_t port, const std::string& payload) {
    socklen_t length;
    auto storage = socketAddress(to, port, length);
    if (sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&storage),
               length) != static_cast<ssize_t>(payload.size()))
        fail("sendto " + to.toString());
}

int trySendUdp(int fd, const IpAddress& to, uint16_t port, const std::string& payload) {
    socklen_t length;
    auto storage = socketAddress(to, port, length);
    ssize_t sent = sendto(fd, payload.data(), payload.size(), 0,
                          reinterpret_cast<sockaddr*>(&storage), length);
    return sent == static_cast<ssize_t>(payload.size()) ? 0 : errno;
}

std::optional<std::string> receive(int fd, std::chrono::milliseconds timeout) {
    pollfd descriptor{fd, POLLIN, 0};
    if (poll(&descriptor, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buffer[2048];
    ssize_t length = recv(fd, buffer, sizeof buffer, 0);
    if (length < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(length));
}

Fd tcpListen(const IpAddress& address, uint16_t port) {
    Fd fd = boundSocket(address, port, SOCK_STREAM);
    if (listen(fd.get(), 4) != 0) fail("listen");
    return fd;
}

Fd tcpConnect(const IpAddress& from, uint16_t fromPort, const IpAddress& to, uint16_t toPort) {
    Fd fd = boundSocket(from, fromPort, SOCK_STREAM);
    socklen_t length;
    auto storage = socketAddress(to, toPort, length);
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0)
        fail("connect to " + to.toString() + " port " + std::to_string(toPort));
    return fd;
}

Fd tcpAccept(int listener) {
    pollfd descriptor{listener, POLLIN, 0};
    if (poll(&descriptor, 1, 3000) <= 0) fail("no connection to accept");
    Fd fd(accept(listener, nullptr, nullptr));
    if (fd.get() < 0) fail("accept");
    limitWaits(fd.get());
    return fd;
}

void sendAll(int fd, const std::string& data) {
    if (send(fd, data.data(), data.size(), 0) != static_cast<ssize_t>(data.size())) fail("send");
}

Capture::Capture(const std::string& interface) {
    socket_ = Fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ETH_P_ALL)));
    if (socket_.get() < 0) fail("packet socket");
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
    if (address.sll_ifindex == 0) fail("no interface " + interface);
    if (bind(socket_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        fail("bind packet socket");
}

std::vector<Packet> Capture::drain() {
    std::vector<Packet> packets;
    uint8_t buffer[4096];
    for (;;) {
        sockaddr_ll from{};
        socklen_t fromLength = sizeof from;
        ssize_t length = recvfrom(socket_.get(), buffer, sizeof buffer, 0,
                                  reinterpret_cast<sockaddr*>(&from), &fromLength);
        if (length <= 0) return packets;
        auto size = static_cast<size_t>(length);
        Packet packet;
        size_t transport = 0;
        if (ntohs(from.sll_protocol) == ETH_P_IP && size >= 20) {
            transport = static_cast<size_t>(buffer[0] & 0x0f) * 4;
            packet.protocol = buffer[9];
            packet.source = IpAddress::fromBytes(AF_INET, std::span(buffer + 12, 4));
            packet.destination = IpAddress::fromBytes(AF_INET, std::span(buffer + 16, 4));
        } else if (ntohs(from.sll_protocol) == ETH_P_IPV6 && size >= 40) {
            transport = 40;
            packet.protocol = buffer[6];
            packet.source = IpAddress::fromBytes(AF_INET6, std::span(buffer + 8, 16));
            packet.destination = IpAddress::fromBytes(AF_INET6, std::span(buffer + 24, 16));
        } else {
            continue;
        }
        bool hasPorts = packet.protocol == IPPROTO_UDP || packet.protocol == IPPROTO_TCP;
        if (hasPorts && size >= transport + 4) {
            packet.sourcePort = portAt(buffer + transport);
            packet.destinationPort = portAt(buffer + transport + 2);
        }
        packets.push_back(packet);
    }
}

}  // namespace imsaka::ipsec::test
