#include "imsaka/ipsec/address.h"

#include <arpa/inet.h>

#include <algorithm>

#include "imsaka/ipsec/error.h"

namespace imsaka::ipsec {

IpAddress::IpAddress(int family, std::span<const uint8_t> bytes) : family_(family) {
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    std::string copy(text);
    std::array<uint8_t, 16> buffer{};
    if (inet_pton(AF_INET, copy.c_str(), buffer.data()) == 1)
        return IpAddress(AF_INET, std::span(buffer).first(4));
    if (inet_pton(AF_INET6, copy.c_str(), buffer.data()) == 1) return IpAddress(AF_INET6, buffer);
    return std::nullopt;
}

IpAddress IpAddress::fromText(std::string_view text) {
    auto address = parse(text);
    if (!address)
        throw XfrmError(XfrmErrorCode::InvalidArgument, "address",
                        "not an IPv4 or IPv6 address: '" + std::string(text) + "'");
    return *address;
}

IpAddress IpAddress::fromBytes(int family, std::span<const uint8_t> bytes) {
    size_t expected = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    if (expected == 0 || bytes.size() < expected)
        throw XfrmError(XfrmErrorCode::InvalidArgument, "address", "bad family or length");
    return IpAddress(family, bytes.first(expected));
}

bool IpAddress::isV6() const noexcept {
    return family_ == AF_INET6;
}

std::span<const uint8_t> IpAddress::bytes() const noexcept {
    return std::span(bytes_).first(isV6() ? 16 : 4);
}

std::string IpAddress::toString() const {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family_, bytes_.data(), text, sizeof text);
    return text;
}

}  // namespace imsaka::ipsec
