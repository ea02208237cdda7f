// An IPv4 or IPv6 address as the kernel's XFRM structures hold it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace imsaka::ipsec {

class IpAddress {
  public:
    // Accepts dotted IPv4 and textual IPv6 (no brackets, no zone).
    static std::optional<IpAddress> parse(std::string_view text);
    // As parse, but throws XfrmError(InvalidArgument) on bad text.
    static IpAddress fromText(std::string_view text);
    static IpAddress fromBytes(int family, std::span<const uint8_t> bytes);

    int family() const noexcept { return family_; }  // AF_INET or AF_INET6
    bool isV6() const noexcept;
    std::span<const uint8_t> bytes() const noexcept;  // 4 or 16 bytes
    uint8_t prefixLength() const noexcept { return isV6() ? 128 : 32; }
    std::string toString() const;
    bool operator==(const IpAddress&) const = default;

  private:
    IpAddress(int family, std::span<const uint8_t> bytes);
    int family_;
    std::array<uint8_t, 16> bytes_{};
};

}  // namespace imsaka::ipsec
