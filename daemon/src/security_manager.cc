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
#include "tcp_connections.h"

namespace imsaka::daemon {

ipsec::XfrmOptions xfrmOptions(const DaemonConfig& config) {
    ipsec::XfrmOptions options;
    options.minSpi = config.spiMin;
    options.maxSpi = config.spiMax;
    return options;
}

namespace {

// A socket bound to the port, or -1 when the port is taken. Running out of descriptors and
// an address the host does not have are errors of their own: no other port would do better.
int bound(const ipsec::IpAddress& local, int type, uint16_t port) {
    int fd = socket(local.family(), type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) throw descriptorsExhausted("a protected port");
        return -1;
    }
    auto address = socketAddress(local, port);
    if (bind(fd, address.get(), address.length) != 0) {
        int error = errno;
        ::close(fd);
        if (error == EADDRNOTAVAIL)
            throw DaemonError(
                DaemonErrc::InvalidArguments,
                "local address " + local.toString() + " is not an address of this host (any more)");
        return -1;
    }
    return fd;
}

bool isConnected(int fd) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    return getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0;
}

// A new TCP socket bound to the address and port of `connected`, beside its connection
// (SO_REUSEADDR on both: neither listens). -1 with errno set when that cannot be.
int boundBeside(int connected) {
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    const int on = 1;
    if (getsockname(connected, reinterpret_cast<sockaddr*>(&local), &length) != 0 ||
        setsockopt(connected, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
        return -1;
    int fd = socket(local.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&local), length) != 0) {
        int error = errno;
        ::close(fd);
        errno = error;
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

// How long a retiring set waits for its TCP connections to close, and how often it looks.
constexpr auto kRetireAtMost = std::chrono::seconds(3);
constexpr auto kRetireLookEvery = std::chrono::milliseconds(20);

std::string hexSpi(uint32_t spi) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", spi);
    return text;
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

void ReservedPort::shutdownConnection() noexcept {
    // Not connected (ENOTCONN) or listening: nothing to end.
    if (tcp_ >= 0 && !listening_) ::shutdown(tcp_, SHUT_RDWR);
}

void ReservedPort::abortConnection() noexcept {
    if (tcp_ < 0 || listening_) return;
    // A zero linger makes the last close reset the connection at once (RST, while the SAs
    // still stand) instead of leaving an orphan that retransmits its FIN.
    linger now{1, 0};
    setsockopt(tcp_, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    ::close(tcp_);
    tcp_ = -1;
}

int ReservedPort::duplicate(bool tcp, bool listen) {
    if (!tcp) return fcntl(udp_, F_DUPFD_CLOEXEC, 0);
    if (listen && !listening_) {
        if (::listen(tcp_, 16) != 0) return -1;
        listening_ = true;
    }
    // A connected socket cannot connect again: a new connection from this port (to a second
    // challenge's port_ps, which keeps our ports) gets a socket of its own, bound beside the
    // old connection, which stays with whoever still holds it.
    if (!listening_ && isConnected(tcp_)) {
        int fresh = boundBeside(tcp_);
        if (fresh < 0) return -1;
        ::close(tcp_);
        tcp_ = fresh;
    }
    return fcntl(tcp_, F_DUPFD_CLOEXEC, 0);
}

SecurityManager::SecurityManager(const DaemonConfig& config, EventLoop& loop)
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
      nextPort_(config.portMin),
      renewEvery_(ipsec::Xfrm::reservationLifetime() / 3),
      renewal_(loop, [this] { renewReservations(); }),
      retirement_(loop, [this] { removeQuietSets(); }) {}

SecurityManager::~SecurityManager() {
    for (auto& retiring : retiring_) {
        retiring.set->client.abortConnection();
        remove(*retiring.set);
    }
}

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
                    std::move(server), Clock::now()};
    SecurityOffer offer{pending.client.port(), pending.server->port(), pending.spis.spiClient,
                        pending.spis.spiServer};
    pending_.emplace(offer.spiUc, std::move(pending));
    armRenewal();
    return offer;
}

void SecurityManager::renew(uint32_t spiUc) noexcept {
    auto it = pending_.find(spiUc);
    if (it == pending_.end()) return;
    try {
        xfrm_.renew(it->second.spis);
    } catch (const std::exception& e) {
        // The offer cannot be kept: installing it will fail, and the registration's attempt
        // with it, which then starts again with a new offer.
        log::warning("SPI reservation " + hexSpi(spiUc) + " lost: " + e.what());
    }
    it->second.renewedAt = Clock::now();
}

// Reservations on offer (sent in a Security-Client, waiting for the 401) outlive the
// kernel's larval SAs: each is made again every third of their lifetime.
void SecurityManager::renewReservations() {
    auto now = Clock::now();
    std::vector<uint32_t> due;
    for (const auto& [spi, pending] : pending_)
        if (now - pending.renewedAt >= renewEvery_) due.push_back(spi);
    for (uint32_t spi : due) renew(spi);
    armRenewal();
}

void SecurityManager::armRenewal() {
    if (pending_.empty()) {
        renewal_.cancel();
        return;
    }
    auto next = Clock::time_point::max();
    for (const auto& [spi, pending] : pending_) next = std::min(next, pending.renewedAt);
    renewal_.armAt(next + renewEvery_);
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
    armRenewal();
}

SecurityOffer SecurityManager::reclaim(std::unique_ptr<InstalledSet> set) {
    const auto& spec = set->sa.spec();
    remove(*set);
    Pending pending{xfrm_.reserveSpis(spec.ue, spec.pcscf, spec.spiUc, spec.spiUs),
                    std::move(set->client), std::move(set->server), Clock::now()};
    SecurityOffer offer{pending.client.port(), pending.server->port(), pending.spis.spiClient,
                        pending.spis.spiServer};
    pending_.emplace(offer.spiUc, std::move(pending));
    armRenewal();
    return offer;
}

std::unique_ptr<InstalledSet> SecurityManager::install(const SaSetView& set,
                                                       const std::string& local, ByteView ck,
                                                       ByteView ik) {
    auto it = pending_.find(set.ours.spiUc);
    if (it == pending_.end())
        throw DaemonError(DaemonErrc::Failed,
                          "no reservation for SPI " + std::to_string(set.ours.spiUc));
    // A renewal the loop could not make in time (a stalled or suspended host): make it now.
    if (Clock::now() - it->second.renewedAt >= renewEvery_) renew(set.ours.spiUc);
    giveWay(set);
    Pending pending = std::move(it->second);
    pending_.erase(it);
    armRenewal();
    try {
        return installReserved(pending, set, local, ck, ik);
    } catch (...) {
        // Whatever failed, the reservation goes: a kernel failure took it already (and is
        // refused here), an invalid argument left its larval SAs in the kernel.
        try {
            xfrm_.release(pending.spis);
        } catch (const std::exception&) {
        }
        throw;
    }
}

std::unique_ptr<InstalledSet> SecurityManager::installReserved(Pending& pending,
                                                               const SaSetView& set,
                                                               const std::string& local,
                                                               ByteView ck, ByteView ik) {
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

namespace {

bool connectionsBusy(const InstalledSet& set) {
    const auto& spec = set.sa.spec();
    std::array<uint16_t, 2> ports{spec.portUc, spec.portUs};
    return tcpConnectionsBusy(spec.ue, ports);
}

}  // namespace

void SecurityManager::retire(std::unique_ptr<InstalledSet> set) noexcept {
    if (!set) return;
    set->client.shutdownConnection();
    if (!connectionsBusy(*set)) {
        remove(*set);
        return;
    }
    log::debug("SA set " + hexSpi(set->sa.spec().spiUc) +
               " stays until its TCP connections are closed");
    try {
        retiring_.push_back({std::move(set), Clock::now() + kRetireAtMost});
        if (!retirement_.armed()) retirement_.armIn(kRetireLookEvery);
    } catch (const std::exception& e) {
        log::error(std::string("retiring an SA set: ") + e.what());
    }
}

void SecurityManager::removeQuietSets() {
    auto now = Clock::now();
    std::erase_if(retiring_, [&](Retiring& retiring) {
        bool overdue = now >= retiring.until;
        if (!overdue && connectionsBusy(*retiring.set)) return false;
        if (overdue) {
            log::notice("SA set " + hexSpi(retiring.set->sa.spec().spiUc) +
                        " removed with TCP connections still open on its ports");
            retiring.set->client.abortConnection();
        }
        remove(*retiring.set);
        return true;
    });
    if (!retiring_.empty()) retirement_.armIn(kRetireLookEvery);
}

// A retiring set whose SAs hold the P-CSCF SPIs a new set needs (the P-CSCF reuses them once
// it has dropped its side) goes at once: the registration moving on comes first.
void SecurityManager::giveWay(const SaSetView& set) noexcept {
    std::erase_if(retiring_, [&](Retiring& retiring) {
        const auto& old = retiring.set->sa.spec();
        bool samePeer = old.pcscf.toString() == set.pcscfAddress;
        bool sharedSpi = false;
        for (uint32_t spi : {set.theirs.spiC, set.theirs.spiS})
            sharedSpi = sharedSpi || spi == old.spiPc || spi == old.spiPs;
        if (!samePeer || !sharedSpi) return false;
        retiring.set->client.abortConnection();
        remove(*retiring.set);
        return true;
    });
}

int SecurityManager::duplicatePending(uint16_t port, bool tcp, bool listen) {
    for (auto& [spi, pending] : pending_) {
        if (pending.client.port() == port) return pending.client.duplicate(tcp, listen);
        if (pending.server->port() == port) return pending.server->duplicate(tcp, listen);
    }
    return -1;
}

}  // namespace imsaka::daemon
