// Socket addresses from the ipsec part's IpAddress, and the kernel's choice of source address.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "imsaka/ipsec/address.h"

namespace imsaka::daemon {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SocketAddress socketAddress(const ipsec::IpAddress& address, uint16_t port);

// The source address the kernel would use towards the address (a connected UDP socket's
// local end); throws DaemonError(InvalidArguments) when there is no route.
std::string sourceAddressTowards(const std::string& address, uint16_t port);

}  // namespace imsaka::daemon
