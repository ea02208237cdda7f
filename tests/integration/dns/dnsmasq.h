// dnsmasq as the test network's DNS server: the zone of the P-CSCF tests (NAPTR, SRV, A and
// AAAA records) served on loopback, in the network namespace the test runs in.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace imsaka::dnstest {

inline constexpr uint16_t kDnsPort = 5353;
inline constexpr const char* kDnsServer = "127.0.0.1:5353";

// The zone, as dnsmasq options. Names under .test and 3gppnetwork.org are answered from it
// alone (NXDOMAIN for the rest of those domains); nothing is forwarded anywhere.
//   ims.test     NAPTR: SIPS+D2T (order 5, to be ignored), SIP+D2U (10), SIP+D2T (20)
//                SRV _sip._udp: pcscf1:5060 (priority 10), pcscf2:5062 (priority 20)
//                SRV _sip._tcp: pcscf2:5070
//                pcscf1 = 192.0.2.11 and 2001:db8:ff::11, pcscf2 = 192.0.2.12
//   srv.test     no NAPTR; SRV _sip._tcp: pcscf3:5080 (192.0.2.13)
//   plain.test   no NAPTR, no SRV; A 192.0.2.14, AAAA 2001:db8::14
//   weighted.test  SRV _sip._udp, one priority: light (weight 1, 192.0.2.21) and heavy
//                (weight 99, 192.0.2.22)
//   pcscf.ims.mnc001.mcc001.3gppnetwork.org (the virtual card's EF_P-CSCF): NAPTR SIP+D2U
//                to SRV _sip._udp.ims.mnc001...: pcscf5:5090 (192.0.2.15)
std::vector<std::string> testZone();

// Fails (throws) with a clear message unless the test is in a network namespace of its own
// (loopback as its only interface): it must never serve DNS on the host's loopback.
void requirePrivateNetwork();

class Dnsmasq {
  public:
    // Starts dnsmasq on 127.0.0.1:kDnsPort with the zone, and waits until it serves.
    explicit Dnsmasq(const std::vector<std::string>& zone = testZone());
    ~Dnsmasq();
    Dnsmasq(const Dnsmasq&) = delete;
    Dnsmasq& operator=(const Dnsmasq&) = delete;
    // What dnsmasq logged (each query it answered), for failure messages.
    std::string log() const;
    // SIGSTOP / SIGCONT: a server that has gone silent, and back.
    void pause();
    void resume();
    // Whether queries wait unread in dnsmasq's socket (/proc/net/udp), i.e. one was sent.
    static bool queriesWaiting();

  private:
    pid_t pid_ = -1;
    std::string dir_;
};

}  // namespace imsaka::dnstest
