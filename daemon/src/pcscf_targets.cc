#include "pcscf_targets.h"

#include <sys/socket.h>

#include <algorithm>

#include "imsaka/daemon/errors.h"
#include "imsaka/ipsec/address.h"

namespace imsaka::daemon {

resolver::Transport toResolver(Transport transport) {
    return transport == Transport::Tcp ? resolver::Transport::Tcp : resolver::Transport::Udp;
}

Transport fromResolver(resolver::Transport transport) {
    return transport == resolver::Transport::Tcp ? Transport::Tcp : Transport::Udp;
}

std::vector<resolver::Target> usableTargets(const std::vector<resolver::Target>& resolved,
                                            int family, std::optional<Transport> transport,
                                            const std::string& what) {
    std::vector<resolver::Target> ofFamily;
    for (const auto& target : resolved) {
        auto address = ipsec::IpAddress::parse(target.address);
        if (address && address->family() == family) ofFamily.push_back(target);
    }
    if (ofFamily.empty())
        throw DaemonError(DaemonErrc::ResolutionFailed,
                          "the P-CSCF " + what + " has no " +
                              (family == AF_INET6 ? "IPv6" : "IPv4") +
                              " address, the family of the local address");
    auto wanted = transport ? toResolver(*transport) : ofFamily.front().transport;
    std::erase_if(ofFamily, [&](const auto& target) { return target.transport != wanted; });
    if (ofFamily.empty())
        throw DaemonError(DaemonErrc::ResolutionFailed,
                          "the P-CSCF " + what + " offers no " +
                              std::string(resolver::toString(wanted)) + " target");
    return ofFamily;
}

void applyTargets(RegistrationConfig& config, const std::vector<resolver::Target>& targets) {
    config.transport = fromResolver(targets.front().transport);
    config.pcscfs.clear();
    for (const auto& target : targets) {
        PcscfTarget pcscf{target.address, target.port};
        if (std::find(config.pcscfs.begin(), config.pcscfs.end(), pcscf) == config.pcscfs.end())
            config.pcscfs.push_back(std::move(pcscf));
    }
}

}  // namespace imsaka::daemon
