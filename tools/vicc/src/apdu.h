// Short command APDUs (ISO 7816-4) and the status words this card answers.
#pragma once

#include <imsaka/common/bytes.h>

#include <cstdint>
#include <optional>

namespace imsaka::vicc {

namespace sw {
inline constexpr uint16_t kOk = 0x9000;
inline constexpr uint16_t kWrongLength = 0x6700;
inline constexpr uint16_t kChannelNotSupported = 0x6881;
inline constexpr uint16_t kPinVerifyFailed = 0x63C0;  // low nibble: retries left
inline constexpr uint16_t kWrongFileType = 0x6981;
inline constexpr uint16_t kSecurityNotSatisfied = 0x6982;
inline constexpr uint16_t kPinBlocked = 0x6983;
inline constexpr uint16_t kPinDisabled = 0x6984;  // referenced data invalidated
inline constexpr uint16_t kConditionsNotSatisfied = 0x6985;
inline constexpr uint16_t kNoCurrentEf = 0x6986;
inline constexpr uint16_t kFunctionNotSupported = 0x6A81;
inline constexpr uint16_t kFileNotFound = 0x6A82;
inline constexpr uint16_t kRecordNotFound = 0x6A83;
inline constexpr uint16_t kBadP1P2 = 0x6A86;
inline constexpr uint16_t kWrongData = 0x6A80;
inline constexpr uint16_t kNoSuchKey = 0x6A88;  // referenced data not found
inline constexpr uint16_t kOffsetBeyondEnd = 0x6B00;
inline constexpr uint16_t kUnknownIns = 0x6D00;
inline constexpr uint16_t kBadCla = 0x6E00;
inline constexpr uint16_t kMacFailure = 0x9862;
inline constexpr uint16_t kContextNotSupported = 0x9864;
inline constexpr uint16_t kUnknownSwFault = 0x6F42;
inline constexpr uint16_t kMoreData = 0x6100;  // low byte: bytes waiting
inline constexpr uint16_t kWrongLe = 0x6C00;   // low byte: the right Le
}  // namespace sw

struct Command {
    uint8_t cla = 0;
    uint8_t ins = 0;
    uint8_t p1 = 0;
    uint8_t p2 = 0;
    SecureBytes data;          // empty for cases 1 and 2 (may hold a PIN)
    std::optional<size_t> le;  // Le 00 means 256
    bool hasData() const { return !data.empty(); }
};

// Nothing when the length does not match any short APDU case.
std::optional<Command> parseCommand(ByteView apdu);

// Data followed by SW1 SW2. Responses may carry RES, CK and IK, hence SecureBytes.
SecureBytes withStatus(ByteView data, uint16_t status);
SecureBytes statusOnly(uint16_t status);

// Channel number from the class byte: 0x00-0x03 (channels 0-3) and 0x40-0x4F
// (channels 4-19); nothing for any other class (secure messaging or proprietary).
std::optional<int> channelOf(uint8_t cla);

}  // namespace imsaka::vicc
