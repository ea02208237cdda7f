// Small text helpers the simulator's two halves share.
#pragma once

#include <openssl/rand.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imsaka/common/bytes.h"
#include "sim_error.h"
#include "sip_message.h"

namespace imsaka::scscfsim {

// Tags, branches, opaque values and Call-IDs.
inline std::string randomHex(size_t bytes) {
    std::vector<uint8_t> buffer(bytes);
    if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1)
        throw SimError(SimErrc::Io, "RAND_bytes failed");
    return toHex(buffer);
}

// host:port, IPv6 in brackets.
inline std::string hostPort(const Endpoint& endpoint) {
    bool v6 = endpoint.host.find(':') != std::string::npos;
    return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

// Delta-seconds (RFC 3261 25.1), at most 2^32-1; nothing when not that.
inline std::optional<uint32_t> parseSeconds(std::string_view text) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value > 0xffffffffULL) return std::nullopt;
    return static_cast<uint32_t>(value);
}

}  // namespace imsaka::scscfsim
