// Byte buffers shared by every part: plain bytes, and bytes that hold secrets.
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imsaka {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// Overwrites every buffer it releases, so that keys and responses (K, OPc, CK, IK,
// RES) do not outlive their use, including the old buffers a vector leaves behind
// when it grows.
template <typename T>
struct WipingAllocator {
    using value_type = T;
    WipingAllocator() noexcept = default;
    template <typename U>
    WipingAllocator(const WipingAllocator<U>&) noexcept {}
    T* allocate(size_t count) { return static_cast<T*>(::operator new(count * sizeof(T))); }
    void deallocate(T* pointer, size_t count) noexcept {
        OPENSSL_cleanse(pointer, count * sizeof(T));
        ::operator delete(pointer);
    }
    template <typename U>
    bool operator==(const WipingAllocator<U>&) const noexcept {
        return true;
    }
};

using SecureBytes = std::vector<uint8_t, WipingAllocator<uint8_t>>;

inline SecureBytes secureCopy(ByteView bytes) {
    return SecureBytes(bytes.begin(), bytes.end());
}

// Lowercase hex without separators.
std::string toHex(ByteView bytes);

// Accepts upper or lower case, and ignores spaces and colons between byte pairs.
// Returns nothing when the text is not whole bytes of hex.
std::optional<Bytes> fromHex(std::string_view text);

}  // namespace imsaka
