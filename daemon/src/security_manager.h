// Ports and SPIs for the next SA set, and the kernel side of installed sets, through one
// ipsec::Xfrm on the loop's thread (each request is a short netlink round trip).
//
// A port is reserved by binding a UDP and a TCP socket to it on the local address; the
// daemon keeps both for as long as the port belongs to a set, so nobody else on the host
// can take it, and hands duplicates to the application (OpenSocket).
//
// SPIs are reserved in the kernel as larval SAs, which it drops after
// net.core.xfrm_acq_expires seconds; a reservation on offer is renewed well before that,
// for as long as it is neither installed nor released.
//
// A set that goes is first retired: the TCP connection from its port_uc is shut down, and
// the SAs stay until no TCP connection on its ports has anything left to send, so that FINs
// and retransmissions leave through the SAs rather than in clear. After 3 s (a peer that
// dropped its SAs never acknowledges), or when a new set needs its P-CSCF SPIs, the
// connection is reset through the SAs and the set removed.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event_loop.h"
#include "imsaka/daemon/config.h"
#include "imsaka/daemon/engine.h"
#include "imsaka/ipsec/xfrm.h"

namespace imsaka::daemon {

// A UDP and a TCP socket bound to one port; closed when it goes.
class ReservedPort {
  public:
    ReservedPort() = default;
    ReservedPort(uint16_t port, int udp, int tcp) : port_(port), udp_(udp), tcp_(tcp) {}
    ~ReservedPort();
    ReservedPort(ReservedPort&& other) noexcept;
    ReservedPort& operator=(ReservedPort&& other) noexcept;
    ReservedPort(const ReservedPort&) = delete;
    ReservedPort& operator=(const ReservedPort&) = delete;

    uint16_t port() const noexcept { return port_; }
    // A duplicate for the application: "udp", or "tcp" (listening when listen is set; a
    // fresh socket on the same port when the one held is connected already).
    int duplicate(bool tcp, bool listen);
    // Ends the TCP connection made from this port, if any (the application holds the same
    // socket): its FIN goes out now.
    void shutdownConnection() noexcept;
    // Closes the daemon's TCP socket of this port with a reset: when it is the last holder,
    // the connection ends at once instead of retransmitting.
    void abortConnection() noexcept;

  private:
    void close() noexcept;
    uint16_t port_ = 0;
    int udp_ = -1;
    int tcp_ = -1;
    bool listening_ = false;
};

// An installed SA set and the two ports it protects. port_us is shared with the other sets
// of the registration (TS 33.203 7.4 keeps it across re-authentications).
struct InstalledSet {
    ipsec::SaSet sa;
    ReservedPort client;                   // port_uc
    std::shared_ptr<ReservedPort> server;  // port_us
    uint64_t expiresUnix = 0;
};

// What makes SAs and policies ours (reqids) and the SPI range, from the configuration.
ipsec::XfrmOptions xfrmOptions(const DaemonConfig& config);

class SecurityManager {
  public:
    SecurityManager(const DaemonConfig& config, EventLoop& loop);
    ~SecurityManager();  // removes retiring sets at once
    SecurityManager(const SecurityManager&) = delete;
    SecurityManager& operator=(const SecurityManager&) = delete;

    // Removes what a previous run left in the kernel; logs the counts.
    void removeLeftovers();

    // Throws DaemonError(PortsUnavailable) or an ipsec::XfrmError. serverPort: the protected
    // server port to keep (TS 33.203 7.4), shared with whatever set or offer holds it.
    SecurityOffer reserve(const std::string& local, const std::string& remote,
                          std::optional<uint16_t> serverPort = std::nullopt);
    void release(const SecurityOffer& offer) noexcept;
    // Removes an installed set's SAs and policies but keeps its ports, and its SPIs reserved
    // again, for a new set made from the same offer (a second challenge to the REGISTER it
    // protected). Throws when the SPIs cannot be had again; the set is gone either way.
    SecurityOffer reclaim(std::unique_ptr<InstalledSet> set);
    // Takes the reservation of set.ours; ck and ik are 16 bytes.
    std::unique_ptr<InstalledSet> install(const SaSetView& set, const std::string& local,
                                          ByteView ck, ByteView ik);
    void setLifetime(InstalledSet& set, Seconds lifetime);
    std::array<ipsec::SaCounters, 4> counters(const InstalledSet& set);
    void remove(InstalledSet& set) noexcept;
    // Removes the set once its protected TCP connections are closed (see above); at once
    // when it has none.
    void retire(std::unique_ptr<InstalledSet> set) noexcept;
    // Kernel expiry notifications of our SAs: poll expiryFd(), then dispatchExpiry() logs them.
    int expiryFd() const { return expiry_.fd(); }
    void dispatchExpiry() { expiry_.dispatch(); }
    // A duplicate of a reserved (not yet installed) port's socket; -1 when unknown.
    int duplicatePending(uint16_t port, bool tcp, bool listen);

  private:
    using Clock = std::chrono::steady_clock;
    ReservedPort bindPort(const ipsec::IpAddress& local);
    struct Pending;
    std::unique_ptr<InstalledSet> installReserved(Pending& pending, const SaSetView& set,
                                                  const std::string& local, ByteView ck,
                                                  ByteView ik);
    void renewReservations();
    void renew(uint32_t spiUc) noexcept;
    void armRenewal();
    void removeQuietSets();
    void giveWay(const SaSetView& set) noexcept;
    std::shared_ptr<ReservedPort> serverPort(const ipsec::IpAddress& local,
                                             std::optional<uint16_t> keep);

    const DaemonConfig& config_;
    ipsec::Xfrm xfrm_;
    ipsec::XfrmExpiryWatcher expiry_;
    uint16_t nextPort_;
    struct Pending {
        ipsec::SpiReservation spis;
        ReservedPort client;
        std::shared_ptr<ReservedPort> server;
        Clock::time_point renewedAt;
    };
    std::map<uint32_t, Pending> pending_;  // by spiUc
    Clock::duration renewEvery_;           // a third of the kernel's larval SA lifetime
    Timer renewal_;
    struct Retiring {
        std::unique_ptr<InstalledSet> set;
        Clock::time_point until;
    };
    std::vector<Retiring> retiring_;
    Timer retirement_;
    // Server ports in use, by local address and port, to share with a new set.
    std::map<std::pair<std::string, uint16_t>, std::weak_ptr<ReservedPort>> servers_;
};

}  // namespace imsaka::daemon
