#include "address_policy.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace imsaka::daemon {

namespace {

bool contains(const std::vector<ipsec::IpAddress>& list, const ipsec::IpAddress& address) {
    return std::find(list.begin(), list.end(), address) != list.end();
}

std::optional<ipsec::IpAddress> fromSockaddr(const sockaddr* address) {
    if (!address) return std::nullopt;
    if (address->sa_family == AF_INET) {
        const auto& in = reinterpret_cast<const sockaddr_in*>(address)->sin_addr;
        return ipsec::IpAddress::fromBytes(AF_INET, {reinterpret_cast<const uint8_t*>(&in), 4});
    }
    if (address->sa_family == AF_INET6) {
        const auto& in = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
        return ipsec::IpAddress::fromBytes(AF_INET6, {reinterpret_cast<const uint8_t*>(&in), 16});
    }
    return std::nullopt;
}

// What no registration can use at either end: not one unicast host.
std::optional<std::string> notUnicast(const ipsec::IpAddress& address) {
    auto b = address.bytes();
    if (!address.isV6()) {
        if (std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; }))
            return "is the unspecified address";
        if (b[0] == 0) return "is in 0.0.0.0/8 (this network), not a host";
        if (b[0] == 127) return "is a loopback address";
        if ((b[0] & 0xF0) == 0xE0) return "is a multicast address";
        if (std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0xFF; }))
            return "is the broadcast address";
        return std::nullopt;
    }
    bool zeroPrefix = std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; });
    if (zeroPrefix && b[10] == 0 && b[11] == 0 && b[12] == 0 && b[13] == 0 && b[14] == 0) {
        if (b[15] == 0) return "is the unspecified address";
        if (b[15] == 1) return "is a loopback address";
    }
    if (zeroPrefix && b[10] == 0xFF && b[11] == 0xFF)
        return "is an IPv4-mapped IPv6 address (give the IPv4 address itself)";
    if (b[0] == 0xFF) return "is a multicast address";
    // SAs and sockets would need a zone (interface) for it, which no option carries.
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return "is a link-local address";
    return std::nullopt;
}

}  // namespace

HostAddresses hostAddresses() {
    HostAddresses host;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return host;
    for (auto* entry = list; entry; entry = entry->ifa_next) {
        auto address = fromSockaddr(entry->ifa_addr);
        if (!address) continue;
        host.own.push_back(*address);
        // The network's broadcast address, from the netmask (what the interface was given
        // as its broadcast address may be unset); /31 and /32 networks have none.
        auto mask = fromSockaddr(entry->ifa_netmask);
        if (address->isV6() || !mask || mask->isV6() || !(entry->ifa_flags & IFF_BROADCAST))
            continue;
        std::array<uint8_t, 4> broadcast;
        int hostBits = 0;
        for (size_t i = 0; i < 4; ++i) {
            broadcast[i] = static_cast<uint8_t>(address->bytes()[i] | ~mask->bytes()[i]);
            hostBits += __builtin_popcount(static_cast<uint8_t>(~mask->bytes()[i]));
        }
        if (hostBits >= 2)
            host.broadcasts.push_back(ipsec::IpAddress::fromBytes(AF_INET, broadcast));
    }
    freeifaddrs(list);
    return host;
}

std::optional<std::string> pcscfAddressProblem(const ipsec::IpAddress& address,
                                               const HostAddresses& host) {
    if (auto problem = notUnicast(address)) return problem;
    if (contains(host.broadcasts, address)) return "is the broadcast address of a local network";
    if (contains(host.own, address)) return "is an address of this host";
    return std::nullopt;
}

std::optional<std::string> localAddressProblem(const ipsec::IpAddress& address,
                                               const HostAddresses& host) {
    if (auto problem = notUnicast(address)) return problem;
    if (contains(host.broadcasts, address)) return "is the broadcast address of a local network";
    if (!contains(host.own, address)) return "is not an address of this host";
    return std::nullopt;
}

}  // namespace imsaka::daemon
