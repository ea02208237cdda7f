// XFRM request builders and answer parsers: pure functions over bytes, no socket.
#pragma once

#include <linux/xfrm.h>

#include <optional>
#include <vector>

#include "imsaka/ipsec/xfrm.h"
#include "netlink.h"

namespace imsaka::ipsec::detail {

// One direction of traffic between two ports: the selector of an SA and of its policy.
// A port of 0 is any port; anySource / anyDestination make that end any address (of the
// other end's family).
struct Flow {
    IpAddress source = IpAddress::fromText("0.0.0.0");
    IpAddress destination = IpAddress::fromText("0.0.0.0");
    uint16_t sourcePort = 0;
    uint16_t destinationPort = 0;
    bool anySource = false;
    bool anyDestination = false;
};

// One transport-mode ESP SA.
struct SaDescription {
    Flow flow;
    uint32_t spi = 0;
    uint32_t reqid = 0;
    Integrity integrity = Integrity::HmacSha1_96;
    Encryption encryption = Encryption::Null;
    ByteView integrityKey;
    ByteView encryptionKey;
    Lifetime lifetime;
};

// A policy with one transport-mode ESP template carrying reqid. A blocking policy drops
// what it matches; its template only marks it as ours.
struct PolicyDescription {
    Flow flow;
    uint8_t direction = XFRM_POLICY_OUT;
    uint32_t reqid = 0;
    uint32_t priority = 0;
    bool block = false;
};

// NEWSA, or UPDSA when update (filling a larval SA, or changing a lifetime).
Message saMessage(const SaDescription& sa, bool update);
Message allocSpiMessage(const IpAddress& source, const IpAddress& destination, uint32_t reqid,
                        uint32_t minSpi, uint32_t maxSpi);
Message deleteSaMessage(const IpAddress& destination, uint32_t spi);
Message getSaMessage(const IpAddress& destination, uint32_t spi);
Message policyMessage(const PolicyDescription& policy);
Message deletePolicyMessage(const PolicyDescription& policy);
Message getPolicyMessage(const PolicyDescription& policy);
Message deletePolicyByIndexMessage(uint32_t index, uint8_t direction);

// What the kernel says about an SA (an answer to GETSA or ALLOCSPI, one entry of a dump).
struct SaInfo {
    IpAddress destination = IpAddress::fromText("0.0.0.0");
    uint32_t spi = 0;  // host order
    uint8_t protocol = 0;
    uint32_t reqid = 0;
    SaStatus status;
};
std::optional<SaInfo> parseSa(const SecureBytes& message);

struct PolicyInfo {
    uint32_t index = 0;
    uint8_t direction = 0;
    bool block = false;
    Flow flow;  // the selector; an end with prefix length 0 is any address
    std::vector<uint32_t> templateReqids;
};
std::optional<PolicyInfo> parsePolicy(const SecureBytes& message);

// An XFRM_MSG_EXPIRE notification.
std::optional<ExpiryEvent> parseExpire(const SecureBytes& message);

}  // namespace imsaka::ipsec::detail
