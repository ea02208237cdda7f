// VERIFY PIN and UNBLOCK PIN (TS 102 221 11.1.9 and 11.1.13) on the card's one PIN: PIN 01,
// or the universal PIN 11 in its place (then PIN 01 is disabled).
#include <openssl/crypto.h>

#include <algorithm>

#include "card_impl.h"

namespace imsaka::vicc {
namespace {

constexpr uint8_t kApplicationPin = 0x01;

SecureBytes retriesStatus(int retries) {
    if (retries == 0) return statusOnly(sw::kPinBlocked);
    return statusOnly(static_cast<uint16_t>(sw::kPinVerifyFailed | retries));
}

bool equal(ByteView given, const SecureBytes& expected) {
    return given.size() == expected.size() &&
           CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

// A PIN block: 4 to 8 ASCII digits, then FF up to 8 bytes.
bool wellFormedPin(ByteView block) {
    auto digits = std::find(block.begin(), block.end(), uint8_t{0xFF});
    size_t count = static_cast<size_t>(digits - block.begin());
    return count >= 4 &&
           std::all_of(block.begin(), digits, [](uint8_t c) { return c >= '0' && c <= '9'; }) &&
           std::all_of(digits, block.end(), [](uint8_t c) { return c == 0xFF; });
}

}  // namespace

SecureBytes paddedPin(const std::string& digits) {
    SecureBytes pin(digits.begin(), digits.end());
    pin.resize(8, 0xFF);
    return pin;
}

// With data, checks the PIN; without, reports its state: 9000 when verified or disabled,
// 63Cx when verification is needed, 6983 when blocked.
SecureBytes Card::Impl::verify(const Command& command) {
    if (command.p1 != 0x00) return statusOnly(sw::kBadP1P2);
    if (command.p2 != pinKeyReference()) {
        // On a universal PIN card PIN 01 exists, disabled; nothing else does.
        if (command.p2 != kApplicationPin) return statusOnly(sw::kNoSuchKey);
        if (!command.hasData()) return statusOnly(sw::kOk);
        return statusOnly(command.data.size() == 8 ? sw::kPinDisabled : sw::kWrongLength);
    }
    if (!command.hasData()) {
        if (pinRetries == 0) return statusOnly(sw::kPinBlocked);
        if (!pinRequired()) return statusOnly(sw::kOk);
        return retriesStatus(pinRetries);
    }
    if (command.data.size() != 8) return statusOnly(sw::kWrongLength);
    if (pinRetries == 0) return statusOnly(sw::kPinBlocked);
    if (equal(command.data, pin)) {
        pinRetries = pinRetriesMax;
        pinVerified = true;
        return statusOnly(sw::kOk);
    }
    pinVerified = false;
    --pinRetries;
    return retriesStatus(pinRetries);
}

// Without data, reports the PUK's tries left (63Cx, or 6983 once they are used up); with
// the PUK and a new PIN, sets the PIN, resets both counters and counts it as verified.
SecureBytes Card::Impl::unblock(const Command& command) {
    if (command.p1 != 0x00) return statusOnly(sw::kBadP1P2);
    if (command.p2 != pinKeyReference()) return statusOnly(sw::kNoSuchKey);
    if (!command.hasData()) return retriesStatus(pukRetries);
    if (command.data.size() != 16) return statusOnly(sw::kWrongLength);
    if (pukRetries == 0) return statusOnly(sw::kPinBlocked);
    ByteView given(command.data.data(), 8);
    ByteView newPin(command.data.data() + 8, 8);
    if (!wellFormedPin(newPin)) return statusOnly(sw::kWrongData);
    if (!equal(given, puk)) {
        --pukRetries;
        return retriesStatus(pukRetries);
    }
    pin.assign(newPin.begin(), newPin.end());
    pinRetries = pinRetriesMax;
    pukRetries = pukRetriesMax;
    pinVerified = true;
    return statusOnly(sw::kOk);
}

}  // namespace imsaka::vicc
