// The P-CSCF's side of the IPsec SA sets (TS 33.203 7.1), installed by the system simulator
// with iproute2 in the test network's namespace, independently of the daemon's XFRM code.
// Seen from the P-CSCF, one set is:
//   in   UE:port_uc -> P:port_ps  spi_ps   requests of the UE (and UDP responses, 33.203)
//   out  P:port_ps -> UE:port_uc  spi_uc   responses on the UE's TCP connection
//   out  P:port_pc -> UE:port_us  spi_us   requests to the UE; UDP responses
//   in   UE:port_us -> P:port_pc  spi_pc   responses on the P-CSCF's TCP connection
// each with a policy of the same selector (any protocol, so UDP and TCP).
#pragma once

#include <cstdint>
#include <string>

#include "imsaka/common/bytes.h"

namespace imsaka::conformance {

struct SaSet {
    int id = 0;
    std::string ue, pcscf;  // addresses
    uint32_t spiUc = 0, spiUs = 0;
    uint16_t portUc = 0, portUs = 0;
    uint32_t spiPc = 0, spiPs = 0;
    uint16_t portPc = 0, portPs = 0;
    std::string integrity;   // hmac-sha-1-96 | hmac-md5-96
    std::string encryption;  // null | aes-cbc | des-ede3-cbc
    std::string describe() const;
};

class PcscfSecurity {
  public:
    // Starts from an empty SA database and policy set in the namespace.
    explicit PcscfSecurity(std::string netns);
    ~PcscfSecurity();  // flushes what it installed
    PcscfSecurity(const PcscfSecurity&) = delete;
    PcscfSecurity& operator=(const PcscfSecurity&) = delete;

    // The four SAs and policies, keyed as TS 33.203 Annex I says: hmac-md5-96 with IK,
    // hmac-sha-1-96 with IK || 32 zero bits, aes-cbc with CK, des-ede3-cbc with CK1||CK2||CK1.
    // The keys go to `ip -batch` on its standard input, never on a command line.
    void install(const SaSet& set, ByteView ck, ByteView ik);
    void remove(const SaSet& set);
    // `ip -s xfrm state` and `ip xfrm policy` of the namespace, for failure messages.
    std::string dump() const;

  private:
    void batch(const std::string& commands) const;
    std::string netns_;
    uint32_t nextReqid_ = 100;
};

// `ip xfrm state` output with the keys left out, for logs.
std::string withoutKeys(const std::string& ipXfrmState);

}  // namespace imsaka::conformance
