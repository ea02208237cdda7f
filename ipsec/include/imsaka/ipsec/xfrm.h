// The TS 33.203 SA set (four transport-mode ESP SAs and their four policies) in the
// kernel, through XFRM netlink.
//
// Flow on the UE: reserveSpis() before the initial REGISTER (its SPIs go into
// Security-Client), install() on the 401 as a temporary set, setLifetime() when the 200 OK
// makes it established, counters() to see the first message on it, remove() when it is
// replaced. A P-CSCF (or a test peer) installs the mirror set the same way with side Pcscf.
//
// Ownership: every SA and every policy template carries a reqid from the configured range,
// the only mark of ours. removeOwnState() removes what carries it and nothing else.
//
// Cleartext on the protected ports: beside the four policies that steer each direction
// into its SA, a set has four guard policies, one per local protected port and direction,
// that match any peer at a lower precedence and block (TS 33.203: what reaches the
// protected ports unprotected is discarded, and nothing leaves them unprotected). Sets that
// share a local port share its guards; the last one removed takes them.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>

#include "imsaka/common/bytes.h"
#include "imsaka/ipsec/address.h"
#include "imsaka/ipsec/error.h"
#include "imsaka/ipsec/keys.h"

namespace imsaka::ipsec {

struct XfrmOptions {
    // Reqids [reqidBase, reqidBase + reqidCount) are ours ("IM" in the top bytes).
    uint32_t reqidBase = 0x494d0000;
    uint32_t reqidCount = 0x10000;
    // SPIs the kernel may choose for our inbound SAs; minSpi must be at least 256.
    uint32_t minSpi = 0x100;
    uint32_t maxSpi = 0xffffffff;
    // XFRM policy priority of our policies (lower wins); the guards take the next value, so
    // this must be below 2^32-1.
    uint32_t policyPriority = 0;
};

// Seconds after installation; 0 means no limit. The kernel reports soft expiry first.
struct Lifetime {
    uint64_t hardSeconds = 0;
    uint64_t softSeconds = 0;
};

enum class Side { Ue, Pcscf };

// The two inbound SPIs the kernel chose for the local end: spiClient protects traffic to
// the local client port (spi_uc on a UE), spiServer traffic to the local server port.
// They live as larval SAs for net.core.xfrm_acq_expires seconds (30 by default), unless
// renewed (Xfrm::renew) before that.
struct SpiReservation {
    IpAddress local;
    IpAddress remote;
    uint32_t spiClient = 0;
    uint32_t spiServer = 0;
    uint32_t reqidClient = 0;
    uint32_t reqidServer = 0;
};

// The four SAs of the 33.203 table, seen from the UE:
//   A out UE:port_uc -> P:port_ps spi_ps      B in P:port_ps -> UE:port_uc spi_uc
//   C in  P:port_pc -> UE:port_us spi_us      D out UE:port_us -> P:port_pc spi_pc
// On the P-CSCF the same SAs exist with the directions swapped.
enum class SaId { A = 0, B = 1, C = 2, D = 3 };

struct SaSetSpec {
    Side side = Side::Ue;
    IpAddress ue = IpAddress::fromText("0.0.0.0");
    IpAddress pcscf = IpAddress::fromText("0.0.0.0");
    uint16_t portUc = 0, portUs = 0, portPc = 0, portPs = 0;
    uint32_t spiUc = 0, spiUs = 0, spiPc = 0, spiPs = 0;
    Integrity integrity = Integrity::HmacSha1_96;
    Encryption encryption = Encryption::Null;
    Lifetime lifetime;
};

struct SaCounters {
    uint64_t packets = 0;
    uint64_t bytes = 0;
};

struct SaStatus {
    SaCounters counters;
    uint64_t addedAt = 0;  // Unix seconds, by the kernel's clock
    Lifetime lifetime;     // as configured, counted from addedAt
};

// An installed set. It holds the derived ESP keys (wiped when it goes) because the
// kernel needs the whole SA again to change its lifetime.
class SaSet {
  public:
    const SaSetSpec& spec() const noexcept { return spec_; }
    uint32_t spi(SaId id) const noexcept;
    uint32_t reqid(SaId id) const noexcept;
    bool inbound(SaId id) const noexcept;

  private:
    friend class Xfrm;
    SaSetSpec spec_;
    std::array<uint32_t, 4> reqids_{};
    uint32_t guardReqid_ = 0;  // marks the guard policies this set added as ours
    SecureBytes integrityKey_;
    SecureBytes encryptionKey_;
};

struct OwnStateCount {
    size_t ownSas = 0, ownPolicies = 0, otherSas = 0, otherPolicies = 0;
};

// One XFRM netlink connection, in the network namespace of the thread that creates it.
// Every request waits for the kernel's answer; failures throw XfrmError.
class Xfrm {
  public:
    explicit Xfrm(XfrmOptions options = {});
    ~Xfrm();
    Xfrm(const Xfrm&) = delete;
    Xfrm& operator=(const Xfrm&) = delete;
    Xfrm(Xfrm&&) noexcept;
    Xfrm& operator=(Xfrm&&) noexcept;

    const XfrmOptions& options() const noexcept { return options_; }

    // Asks the kernel for two new inbound SPIs (XFRM_MSG_ALLOCSPI) in the configured range.
    SpiReservation reserveSpis(const IpAddress& local, const IpAddress& remote);
    // The same for two given SPIs of the range (0: any), e.g. those of a set just removed
    // whose offer a new set repeats; fails when another SA holds one of them.
    SpiReservation reserveSpis(const IpAddress& local, const IpAddress& remote, uint32_t spiClient,
                               uint32_t spiServer);
    // Gives reserved SPIs back before they expire by themselves.
    void release(const SpiReservation& reservation);
    // Keeps a reservation alive: its larval SAs are made again with the same SPIs and
    // reqids, for another reservationLifetime(). Call it more often than that while the
    // SPIs are on offer. Throws SpiUnavailable (someone took an SPI after the kernel dropped
    // it) or ReservationExpired; the reservation is then of no use.
    void renew(const SpiReservation& reservation);
    // How long the kernel keeps a reservation (net.core.xfrm_acq_expires of the caller's
    // network namespace; 30 s when unreadable).
    static std::chrono::seconds reservationLifetime();

    // Installs the four SAs and four policies, whole or not at all: on any failure what was
    // added (and the reservation) is removed again and the first failure is thrown. The
    // local SPIs of spec must be those of the reservation; ck and ik are 16 bytes each.
    // A reservation serves one install (or one release) of the Xfrm that made it; after a
    // kernel failure, reserve again. InvalidArgument errors change nothing.
    SaSet install(const SpiReservation& reservation, const SaSetSpec& spec, ByteView ck,
                  ByteView ik);
    // Changes the lifetime of all four SAs in place (same SPIs, counters kept); the new
    // limits count from now. Each SA changes on its own: after a failure, call it again.
    void setLifetime(SaSet& set, Lifetime lifetime);
    // Per SA, in SaId order; NotFound when an SA is gone (expired or removed).
    std::array<SaCounters, 4> counters(const SaSet& set);
    std::array<SaStatus, 4> status(const SaSet& set);
    SaStatus status(const SaSet& set, SaId id);
    // Removes the SAs and policies of the set that still carry its reqids, and its guard
    // policies unless another set of ours still protects their port; parts already gone are
    // not an error, and what another owner put on the same SPI or selector stays.
    void remove(const SaSet& set);

    // After a crash: removes every SA and policy carrying one of our reqids, nothing else.
    // Returns how many SAs and policies went.
    OwnStateCount removeOwnState();
    // Counts SAs and policies in this namespace, ours and others.
    OwnStateCount countState();

  private:
    uint32_t nextReqid();
    void takeReservation(const SpiReservation& reservation, const char* where);
    void deleteLarvalSas(const SpiReservation& reservation);
    void addGuards(const SaSet& set);
    void removeUnusedGuards(const SaSet& set);
    class Channel;
    XfrmOptions options_;
    std::unique_ptr<Channel> channel_;
    std::set<uint32_t> openReservations_;  // by reqidClient
};

struct ExpiryEvent {
    IpAddress destination;
    uint32_t spi = 0;
    uint32_t reqid = 0;
    bool hard = false;
};

// Kernel expiry notifications (XFRMNLGRP_EXPIRE) for our SAs, in the namespace of the
// creating thread. fd() can go into the caller's poll loop; dispatch() then reads what is
// pending without blocking.
class XfrmExpiryWatcher {
  public:
    using Callback = std::function<void(const ExpiryEvent&)>;
    XfrmExpiryWatcher(XfrmOptions options, Callback callback);
    ~XfrmExpiryWatcher();
    XfrmExpiryWatcher(const XfrmExpiryWatcher&) = delete;
    XfrmExpiryWatcher& operator=(const XfrmExpiryWatcher&) = delete;

    int fd() const;
    // Delivers every pending event of ours; returns how many.
    size_t dispatch();
    // Waits up to timeout for events, then dispatches them.
    size_t waitAndDispatch(std::chrono::milliseconds timeout);

  private:
    class Socket;
    XfrmOptions options_;
    Callback callback_;
    std::unique_ptr<Socket> socket_;
};

}  // namespace imsaka::ipsec
