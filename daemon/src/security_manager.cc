#include "security_manager.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "imsaka/daemon/errors.h"
#include "imsaka/ipsec/keys.h"
#include "log.h"
#include "socket_address.h"

namespace imsaka::daemon {

namespace {

ipsec::XfrmOptions xfrmOptions(const DaemonConfig& config) {
    ipsec::XfrmOptions options;
    options.minSpi = config.spiMin;
    options.maxSpi = config.spiMax;
    return options;
}

int bound(const ipsec::IpAddress& local, int type, uint16_t port) {
    int fd = socket(local.family(), type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    auto address = socketAddress(local, port);
    if (bind(fd, address.get(), address.length) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

ipsec::Integrity toKernel(sip::IntegrityAlgorithm algorithm) {
    return algorithm == sip::IntegrityAlgorithm::HmacMd5_96 ? ipsec::Integrity::HmacMd5_96
                                                            : ipsec::Integrity::HmacSha1_96;
}

ipsec::Encryption toKernel(sip::EncryptionAlgorithm algorithm) {
    switch (algorithm) {
        case sip::EncryptionAlgorithm::Null:
            return ipsec::Encryption::Null;
        case sip::EncryptionAlgorithm::AesCbc:
            return ipsec::Encryption::AesCbc;
        case sip::EncryptionAlgorithm::DesEde3Cbc:
            return ipsec::Encryption::DesEde3Cbc;
    }
    return ipsec::Encryption::Null;
}

}  // namespace

ReservedPort::~ReservedPort() {
    close();
}

ReservedPort::ReservedPort(ReservedPort&& other) noexcept
    : port_(other.port_), udp_(other.udp_), tcp_(other.tcp_), listening_(other.listening_) {
    other.udp_ = other.tcp_ = -1;
}

ReservedPort& ReservedPort::operator=(ReservedPort&& other) noexcept {
    if (this != &other) {
        close();
        port_ = other.port_;
        udp_ = other.udp_;
        tcp_ = other.tcp_;
        listening_ = other.listening_;
        other.udp_ = other.tcp_ = -1;
    }
    return *this;
}

void ReservedPort::close() noexcept {
    if (udp_ >= 0) ::close(udp_);
    if (tcp_ >= 0) ::close(tcp_);
    udp_ = tcp_ = -1;
}

int ReservedPort::duplicate(bool tcp, bool listen) {
    if (!tcp) return fcntl(udp_, F_DUPFD_CLOEXEC, 0);
    if (listen && !listening_) {
        if (::listen(tcp_, 16) != 0) return -1;
        listening_ = true;
    }
    return fcntl(tcp_, F_DUPFD_CLOEXEC, 0);
}

SecurityManager::SecurityManager(const DaemonConfig& config)
    : config_(config),
      xfrm_(xfrmOptions(config)),
      expiry_(xfrmOptions(config),
              [](const ipsec::ExpiryEvent& event) {
                  // The engine sets lifetimes so that a set is replaced or removed before its
                  // hard limit; an expiry says the kernel ended it first.
                  char spi[16];
                  std::snprintf(spi, sizeof spi, "0x%08x", event.spi);
                  log::notice(std::string(event.hard ? "hard" : "soft") + " expiry of SA " + spi +
                              " towards " + event.destination.toString());
              }),
      nextPort_(config.portMin) {}

void SecurityManager::removeLeftovers() {
    auto removed = xfrm_.removeOwnState();
    log::info("removed " + std::to_string(removed.ownSas) + " SAs and " +
              std::to_string(removed.ownPolicies) + " policies left by an earlier run");
}

ReservedPort SecurityManager::bindPort(const ipsec::IpAddress& local) {
    unsigned span = unsigned(config_.portMax) - config_.portMin + 1;
    for (unsigned tried = 0; tried < span; ++tried) {
        uint16_t port = nextPort_;
        nextPort_ = port >= config_.portMax ? config_.portMin : uint16_t(port + 1);
        int udp = bound(local, SOCK_DGRAM, port);
        if (udp < 0) continue;
        int tcp = bound(local, SOCK_STREAM, port);
        if (tcp < 0) {
            ::close(udp);
            continue;
        }
        return ReservedPort(port, udp, tcp);
    }
    throw DaemonError(DaemonErrc::PortsUnavailable,
                      "no free port in " + std::to_string(config_.portMin) + ".." +
                          std::to_string(config_.portMax) + " on " + local.toString());
}

// The port to keep when some set or offer still holds it, or when it is free to bind again;
// else a new one (the Contact then changes, which the log says).
std::shared_ptr<ReservedPort> SecurityManager::serverPort(const ipsec::IpAddress& local,
                                                          std::optional<uint16_t> keep) {
    std::erase_if(servers_, [](const auto& entry) { return entry.second.expired(); });
    std::shared_ptr<ReservedPort> port;
    if (keep) {
        auto key = std::make_pair(local.toString(), *keep);
        if (auto found = servers_.find(key); found != servers_.end()) port = found->second.lock();
        if (!port) {
            int udp = bound(local, SOCK_DGRAM, *keep);
            int tcp = udp < 0 ? -1 : bound(local, SOCK_STREAM, *keep);
            if (tcp >= 0) {
                port = std::make_shared<ReservedPort>(*keep, udp, tcp);
            } else {
                if (udp >= 0) ::close(udp);
                log::warning("protected server port " + std::to_string(*keep) +
                             " is taken: the new SA set gets another one");
            }
        }
    }
    if (!port) port = std::make_shared<ReservedPort>(bindPort(local));
    servers_[std::make_pair(local.toString(), port->port())] = port;
    return port;
}

SecurityOffer SecurityManager::reserve(const std::string& local, const std::string& remote,
                                       std::optional<uint16_t> keepServerPort) {
    auto localAddress = ipsec::IpAddress::fromText(local);
    auto remoteAddress = ipsec::IpAddress::fromText(remote);
    auto client = bindPort(localAddress);
    auto server = serverPort(localAddress, keepServerPort);
    Pending pending{xfrm_.reserveSpis(localAddress, remoteAddress), std::move(client),
                    std::move(server)};
    SecurityOffer offer{pending.client.port(), pending.server->port(), pending.spis.spiClient,
                        pending.spis.spiServer};
    pending_.emplace(offer.spiUc, std::move(pending));
    return offer;
}

void SecurityManager::release(const SecurityOffer& offer) noexcept {
    auto it = pending_.find(offer.spiUc);
    if (it == pending_.end()) return;
    try {
        xfrm_.release(it->second.spis);
    } catch (const std::exception& e) {
        log::debug(std::string("releasing SPIs: ") + e.what());
    }
    pending_.erase(it);
}

std::unique_ptr<InstalledSet> SecurityManager::install(const SaSetView& set,
                                                       const std::string& local, ByteView ck,
                                                       ByteView ik) {
    auto it = pending_.find(set.ours.spiUc);
    if (it == pending_.end())
        throw DaemonError(DaemonErrc::Failed,
                          "no reservation for SPI " + std::to_string(set.ours.spiUc));
    Pending pending = std::move(it->second);
    pending_.erase(it);

    ipsec::SaSetSpec spec;
    spec.side = ipsec::Side::Ue;
    spec.ue = ipsec::IpAddress::fromText(local);
    spec.pcscf = ipsec::IpAddress::fromText(set.pcscfAddress);
    spec.portUc = set.ours.portUc;
    spec.portUs = set.ours.portUs;
    spec.spiUc = set.ours.spiUc;
    spec.spiUs = set.ours.spiUs;
    spec.portPc = set.theirs.portC;
    spec.portPs = set.theirs.portS;
    spec.spiPc = set.theirs.spiC;
    spec.spiPs = set.theirs.spiS;
    spec.integrity = toKernel(set.theirs.alg);
    spec.encryption = toKernel(set.theirs.ealg);
    spec.lifetime.hardSeconds = static_cast<uint64_t>(set.lifetime.count());

    auto installed = std::make_unique<InstalledSet>(
        InstalledSet{xfrm_.install(pending.spis, spec, ck, ik), std::move(pending.client),
                     std::move(pending.server), 0});
    installed->expiresUnix =
        static_cast<uint64_t>(time(nullptr)) + static_cast<uint64_t>(set.lifetime.count());
    return installed;
}

void SecurityManager::setLifetime(InstalledSet& set, Seconds lifetime) {
    xfrm_.setLifetime(set.sa, {static_cast<uint64_t>(lifetime.count()), 0});
    set.expiresUnix =
        static_cast<uint64_t>(time(nullptr)) + static_cast<uint64_t>(lifetime.count());
}

std::array<ipsec::SaCounters, 4> SecurityManager::counters(const InstalledSet& set) {
    return xfrm_.counters(set.sa);
}

void SecurityManager::remove(InstalledSet& set) noexcept {
    try {
        xfrm_.remove(set.sa);
    } catch (const std::exception& e) {
        log::error(std::string("removing an SA set: ") + e.what());
    }
}

int SecurityManager::duplicatePending(uint16_t port, bool tcp, bool listen) {
    for (auto& [spi, pending] : pending_) {
        if (pending.client.port() == port) return pending.client.duplicate(tcp, listen);
        if (pending.server->port() == port) return pending.server->duplicate(tcp, listen);
    }
    return -1;
}

}  // namespace imsaka::daemon
