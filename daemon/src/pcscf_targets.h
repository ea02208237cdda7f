// Which resolved P-CSCF targets one registration uses, and how they reach the engine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "imsaka/daemon/engine.h"
#include "imsaka/resolver/rfc3263.h"

namespace imsaka::daemon {

resolver::Transport toResolver(Transport transport);
Transport fromResolver(resolver::Transport transport);

// The targets of the local address's family (AF_INET or AF_INET6) and of one transport, in
// the resolver's order: the transport asked for, else the first target's (the best NAPTR
// record's, RFC 3263 4.1). Throws DaemonError(ResolutionFailed) when none is left; what
// names the P-CSCF in the message.
std::vector<resolver::Target> usableTargets(const std::vector<resolver::Target>& resolved,
                                            int family, std::optional<Transport> transport,
                                            const std::string& what);

// Puts the targets into the engine's settings: the transport, and the targets (address and
// port) in order, which the engine fails over along.
void applyTargets(RegistrationConfig& config, const std::vector<resolver::Target>& targets);

}  // namespace imsaka::daemon
