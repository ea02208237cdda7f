// Which addresses a registration may use. Its SAs (TS 33.203) join two unicast hosts: the
// P-CSCF must be another host, reachable as a peer, and the local address one this host
// has, so that its ports can be bound and its SAs carry traffic.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "imsaka/ipsec/address.h"

namespace imsaka::daemon {

// This host's interface addresses and their IPv4 broadcast addresses, now.
struct HostAddresses {
    std::vector<ipsec::IpAddress> own;
    std::vector<ipsec::IpAddress> broadcasts;
};
HostAddresses hostAddresses();

// Why the address cannot be the P-CSCF, as "is ..." (unspecified, multicast, broadcast,
// loopback, this host's own, ...), or nothing when it can.
std::optional<std::string> pcscfAddressProblem(const ipsec::IpAddress& address,
                                               const HostAddresses& host);
// Why the address cannot be the local address (the wildcard, not this host's, ...).
std::optional<std::string> localAddressProblem(const ipsec::IpAddress& address,
                                               const HostAddresses& host);

}  // namespace imsaka::daemon
