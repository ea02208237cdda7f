// The kernel's TCP sockets on given local ports, seen through sock_diag (NETLINK_SOCK_DIAG),
// whoever holds them: the daemon or the applications it handed duplicates to.
#pragma once

#include <cstdint>
#include <span>

#include "imsaka/ipsec/address.h"

namespace imsaka::daemon {

// Whether a TCP connection on local:port (any of ports) may still send something: a FIN,
// data or a retransmission (every state but LISTEN, FIN-WAIT-2, TIME-WAIT and CLOSE).
// False when the kernel cannot be asked (no sock_diag), after a debug log.
bool tcpConnectionsBusy(const ipsec::IpAddress& local, std::span<const uint16_t> ports);

}  // namespace imsaka::daemon
