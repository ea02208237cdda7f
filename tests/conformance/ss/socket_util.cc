#include "socket_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <stdexcept>
#include <system_error>

namespace imsaka::conformance {

[[noreturn]] void systemError(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

bool isIpv6(const std::string& address) {
    return address.find(':') != std::string::npos;
}

sockaddr_storage toSockaddr(const Endpoint& endpoint, socklen_t& length) {
    sockaddr_storage storage{};
    if (isIpv6(endpoint.address)) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(endpoint.port);
        if (inet_pton(AF_INET6, endpoint.address.c_str(), &in6->sin6_addr) != 1)
            throw std::invalid_argument("not an IPv6 address: " + endpoint.address);
        length = sizeof(sockaddr_in6);
    } else {
        auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(endpoint.port);
        if (inet_pton(AF_INET, endpoint.address.c_str(), &in4->sin_addr) != 1)
            throw std::invalid_argument("not an IPv4 address: " + endpoint.address);
        length = sizeof(sockaddr_in);
    }
    return storage;
}

Endpoint fromSockaddr(const sockaddr_storage& storage) {
    char text[INET6_ADDRSTRLEN] = {};
    Endpoint endpoint;
    if (storage.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        endpoint.port = ntohs(in6->sin6_port);
    } else {
        const auto* in4 = reinterpret_cast<const sockaddr_in*>(&storage);
        inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
        endpoint.port = ntohs(in4->sin_port);
    }
    endpoint.address = text;
    return endpoint;
}

void reuseAddress(int fd) {
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        systemError("SO_REUSEADDR");
}

void bindTo(int fd, const Endpoint& local) {
    socklen_t length = 0;
    auto address = toSockaddr(local, length);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0)
        systemError("bind " + local.text());
}

void sendAll(int fd, std::string_view text) {
    while (!text.empty()) {
        ssize_t sent = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0) systemError("send");
        text.remove_prefix(static_cast<size_t>(sent));
    }
}

int inNetworkNamespace(const std::string& netns, const std::function<int()>& make) {
    int home = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (home < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
        if (home >= 0) ::close(home);
        if (target >= 0) ::close(target);
        throw std::runtime_error("cannot enter the network namespace " + netns);
    }
    int fd = -1;
    std::exception_ptr failure;
    try {
        fd = make();
    } catch (...) {
        failure = std::current_exception();
    }
    bool back = setns(home, CLONE_NEWNET) == 0;
    ::close(home);
    ::close(target);
    if (!back) std::terminate();  // this thread would go on in the wrong namespace
    if (failure) std::rethrow_exception(failure);
    return fd;
}

}  // namespace imsaka::conformance
