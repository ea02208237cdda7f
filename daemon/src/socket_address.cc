#include "socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "imsaka/daemon/errors.h"

namespace imsaka::daemon {

SocketAddress socketAddress(const ipsec::IpAddress& address, uint16_t port) {
    SocketAddress result;
    if (address.isV6()) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        std::memcpy(&v6->sin6_addr, address.bytes().data(), 16);
        result.length = sizeof *v6;
    } else {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        std::memcpy(&v4->sin_addr, address.bytes().data(), 4);
        result.length = sizeof *v4;
    }
    return result;
}

std::string sourceAddressTowards(const std::string& address, uint16_t port) {
    auto remote = ipsec::IpAddress::fromText(address);
    int fd = socket(remote.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE)
            throw descriptorsExhausted("finding the route to the P-CSCF");
        throw DaemonError(DaemonErrc::Failed, "socket() failed");
    }
    auto peer = socketAddress(remote, port);
    sockaddr_storage local{};
    socklen_t localLength = sizeof local;
    bool ok = connect(fd, peer.get(), peer.length) == 0 &&
              getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLength) == 0;
    close(fd);
    if (!ok)
        throw DaemonError(DaemonErrc::InvalidArguments,
                          "no route to the P-CSCF " + address + ": pass local_address");
    char text[INET6_ADDRSTRLEN] = {};
    if (local.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr, text, sizeof text);
    else
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&local)->sin_addr, text, sizeof text);
    return text;
}

}  // namespace imsaka::daemon
