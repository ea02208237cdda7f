#include "messages.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace imsaka::ipsec::detail {
namespace {

constexpr unsigned kTruncationBits = 96;  // both integrity algorithms are -96

xfrm_address_t kernelAddress(const IpAddress& address) {
    xfrm_address_t result{};
    std::memcpy(&result, address.bytes().data(), address.bytes().size());
    return result;
}

uint16_t family(const IpAddress& address) {
    return static_cast<uint16_t>(address.family());
}

xfrm_selector selector(const Flow& flow) {
    xfrm_selector sel{};
    if (!flow.anySource) sel.saddr = kernelAddress(flow.source);
    if (!flow.anyDestination) sel.daddr = kernelAddress(flow.destination);
    sel.sport = htons(flow.sourcePort);
    sel.sport_mask = flow.sourcePort ? 0xffff : 0;
    sel.dport = htons(flow.destinationPort);
    sel.dport_mask = flow.destinationPort ? 0xffff : 0;
    sel.family = family(flow.anySource ? flow.destination : flow.source);
    sel.prefixlen_s = flow.anySource ? 0 : flow.source.prefixLength();
    sel.prefixlen_d = flow.anyDestination ? 0 : flow.destination.prefixLength();
    sel.proto = 0;  // any: UDP and TCP share the protected ports
    return sel;
}

// Byte and packet limits must be XFRM_INF explicitly (0 would expire on the first packet);
// time limits use 0 for none.
xfrm_lifetime_cfg lifetimeConfig(const Lifetime& lifetime) {
    xfrm_lifetime_cfg config{};
    config.soft_byte_limit = XFRM_INF;
    config.hard_byte_limit = XFRM_INF;
    config.soft_packet_limit = XFRM_INF;
    config.hard_packet_limit = XFRM_INF;
    config.hard_add_expires_seconds = lifetime.hardSeconds;
    config.soft_add_expires_seconds = lifetime.softSeconds;
    return config;
}

void copyName(char (&target)[64], std::string_view name) {
    std::memset(target, 0, sizeof target);
    std::memcpy(target, name.data(), std::min(name.size(), sizeof target - 1));
}

void addIntegrity(Message& message, Integrity integrity, ByteView key) {
    SecureBytes attribute(sizeof(xfrm_algo_auth) + key.size(), 0);
    xfrm_algo_auth header{};
    copyName(header.alg_name, kernelName(integrity));
    header.alg_key_len = static_cast<unsigned>(key.size() * 8);
    header.alg_trunc_len = kTruncationBits;
    std::memcpy(attribute.data(), &header, sizeof header);
    std::copy(key.begin(), key.end(), attribute.begin() + sizeof header);
    message.attribute(XFRMA_ALG_AUTH_TRUNC, attribute.data(), attribute.size());
}

void addEncryption(Message& message, Encryption encryption, ByteView key) {
    SecureBytes attribute(sizeof(xfrm_algo) + key.size(), 0);
    xfrm_algo header{};
    copyName(header.alg_name, kernelName(encryption));
    header.alg_key_len = static_cast<unsigned>(key.size() * 8);
    std::memcpy(attribute.data(), &header, sizeof header);
    std::copy(key.begin(), key.end(), attribute.begin() + sizeof header);
    message.attribute(XFRMA_ALG_CRYPT, attribute.data(), attribute.size());
}

xfrm_usersa_id saId(const IpAddress& destination, uint32_t spi) {
    xfrm_usersa_id id{};
    id.daddr = kernelAddress(destination);
    id.spi = htonl(spi);
    id.family = family(destination);
    id.proto = IPPROTO_ESP;
    return id;
}

std::string spiText(uint32_t spi) {
    return "SPI " + std::to_string(spi);
}

}  // namespace

Message saMessage(const SaDescription& sa, bool update) {
    Message message(update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, 0,
                    (update ? "update SA " : "add SA ") + spiText(sa.spi));
    xfrm_usersa_info info{};
    info.sel = selector(sa.flow);
    info.id.daddr = kernelAddress(sa.flow.destination);
    info.id.spi = htonl(sa.spi);
    info.id.proto = IPPROTO_ESP;
    info.saddr = kernelAddress(sa.flow.source);
    info.lft = lifetimeConfig(sa.lifetime);
    info.reqid = sa.reqid;
    info.family = family(sa.flow.destination);
    info.mode = XFRM_MODE_TRANSPORT;
    info.replay_window = 32;
    message.appendFixed(info);
    addIntegrity(message, sa.integrity, sa.integrityKey);
    addEncryption(message, sa.encryption, sa.encryptionKey);
    return message;
}

Message allocSpiMessage(const IpAddress& source, const IpAddress& destination, uint32_t reqid,
                        uint32_t minSpi, uint32_t maxSpi) {
    Message message(XFRM_MSG_ALLOCSPI, 0, "allocate SPI");
    xfrm_userspi_info request{};
    request.info.id.daddr = kernelAddress(destination);
    request.info.id.proto = IPPROTO_ESP;
    request.info.saddr = kernelAddress(source);
    request.info.family = family(destination);
    request.info.mode = XFRM_MODE_TRANSPORT;
    request.info.reqid = reqid;
    request.min = minSpi;
    request.max = maxSpi;
    message.appendFixed(request);
    return message;
}

Message deleteSaMessage(const IpAddress& destination, uint32_t spi) {
    Message message(XFRM_MSG_DELSA, 0, "delete SA " + spiText(spi));
    message.appendFixed(saId(destination, spi));
    return message;
}

Message getSaMessage(const IpAddress& destination, uint32_t spi) {
    Message message(XFRM_MSG_GETSA, 0, "read SA " + spiText(spi));
    message.appendFixed(saId(destination, spi));
    return message;
}

Message policyMessage(const PolicyDescription& policy) {
    Message message(XFRM_MSG_NEWPOLICY, 0, "add policy");
    xfrm_userpolicy_info info{};
    info.sel = selector(policy.flow);
    info.lft = lifetimeConfig({});
    info.priority = policy.priority;
    info.dir = policy.direction;
    info.action = policy.block ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
    info.share = XFRM_SHARE_ANY;
    message.appendFixed(info);
    xfrm_user_tmpl tmpl{};
    if (!policy.flow.anyDestination) tmpl.id.daddr = kernelAddress(policy.flow.destination);
    tmpl.id.proto = IPPROTO_ESP;
    tmpl.family = info.sel.family;
    if (!policy.flow.anySource) tmpl.saddr = kernelAddress(policy.flow.source);
    tmpl.reqid = policy.reqid;
    tmpl.mode = XFRM_MODE_TRANSPORT;
    tmpl.share = XFRM_SHARE_ANY;
    tmpl.aalgos = ~0u;
    tmpl.ealgos = ~0u;
    tmpl.calgos = ~0u;
    message.attribute(XFRMA_TMPL, tmpl);
    return message;
}

namespace {

// A policy named by its selector and direction, or by its index when the selector is empty.
Message policyIdMessage(uint16_t type, std::string what, const xfrm_selector& sel, uint32_t index,
                        uint8_t direction) {
    Message message(type, 0, std::move(what));
    xfrm_userpolicy_id id{};
    id.sel = sel;
    id.index = index;
    id.dir = direction;
    message.appendFixed(id);
    return message;
}

}  // namespace

Message deletePolicyMessage(const PolicyDescription& policy) {
    return policyIdMessage(XFRM_MSG_DELPOLICY, "delete policy", selector(policy.flow), 0,
                           policy.direction);
}

Message getPolicyMessage(const PolicyDescription& policy) {
    return policyIdMessage(XFRM_MSG_GETPOLICY, "read policy", selector(policy.flow), 0,
                           policy.direction);
}

Message deletePolicyByIndexMessage(uint32_t index, uint8_t direction) {
    return policyIdMessage(XFRM_MSG_DELPOLICY, "delete policy " + std::to_string(index), {}, index,
                           direction);
}

std::optional<SaInfo> parseSa(const SecureBytes& message) {
    const auto* info = payloadOf<xfrm_usersa_info>(message);
    if (!info || (info->family != AF_INET && info->family != AF_INET6)) return std::nullopt;
    const auto* raw = reinterpret_cast<const uint8_t*>(&info->id.daddr);
    SaInfo sa;
    sa.destination = IpAddress::fromBytes(info->family, std::span(raw, sizeof info->id.daddr));
    sa.spi = ntohl(info->id.spi);
    sa.protocol = info->id.proto;
    sa.reqid = info->reqid;
    sa.status.counters = {info->curlft.packets, info->curlft.bytes};
    sa.status.addedAt = info->curlft.add_time;
    sa.status.lifetime = {info->lft.hard_add_expires_seconds, info->lft.soft_add_expires_seconds};
    return sa;
}

std::optional<PolicyInfo> parsePolicy(const SecureBytes& message) {
    const auto* info = payloadOf<xfrm_userpolicy_info>(message);
    if (!info) return std::nullopt;
    PolicyInfo policy;
    policy.index = info->index;
    policy.direction = info->dir;
    policy.block = info->action == XFRM_POLICY_BLOCK;
    const xfrm_selector& sel = info->sel;
    if (sel.family == AF_INET || sel.family == AF_INET6) {
        auto address = [&](const xfrm_address_t& raw) {
            const auto* bytes = reinterpret_cast<const uint8_t*>(&raw);
            return IpAddress::fromBytes(sel.family, std::span(bytes, sizeof raw));
        };
        policy.flow.source = address(sel.saddr);
        policy.flow.destination = address(sel.daddr);
        policy.flow.anySource = sel.prefixlen_s == 0;
        policy.flow.anyDestination = sel.prefixlen_d == 0;
        policy.flow.sourcePort = sel.sport_mask ? ntohs(sel.sport) : 0;
        policy.flow.destinationPort = sel.dport_mask ? ntohs(sel.dport) : 0;
    }
    forEachAttribute(message, sizeof *info, [&](uint16_t type, const uint8_t* data, size_t size) {
        if (type != XFRMA_TMPL) return;
        for (size_t offset = 0; offset + sizeof(xfrm_user_tmpl) <= size;
             offset += sizeof(xfrm_user_tmpl)) {
            xfrm_user_tmpl tmpl;
            std::memcpy(&tmpl, data + offset, sizeof tmpl);
            policy.templateReqids.push_back(tmpl.reqid);
        }
    });
    return policy;
}

std::optional<ExpiryEvent> parseExpire(const SecureBytes& message) {
    const auto* expire = payloadOf<xfrm_user_expire>(message);
    if (!expire || message.size() < kMessageHeaderSize) return std::nullopt;
    nlmsghdr header;
    std::memcpy(&header, message.data(), sizeof header);
    if (header.nlmsg_type != XFRM_MSG_EXPIRE) return std::nullopt;
    const xfrm_usersa_info& info = expire->state;
    if (info.family != AF_INET && info.family != AF_INET6) return std::nullopt;
    const auto* raw = reinterpret_cast<const uint8_t*>(&info.id.daddr);
    return ExpiryEvent{IpAddress::fromBytes(info.family, std::span(raw, sizeof info.id.daddr)),
                       ntohl(info.id.spi), info.reqid, expire->hard != 0};
}

}  // namespace imsaka::ipsec::detail
