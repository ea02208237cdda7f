// APDU transport: the raw exchange a reader offers, and the rules of ISO 7816-3/-4 that
// turn it into one command and its full response (61xx GET RESPONSE, 6Cxx resend), the
// same for T=0 cards, T=1 cards and readers that return data directly.
#pragma once

#include <cstdint>
#include <optional>

#include "imsaka/common/bytes.h"

namespace imsaka::cardio {

// One raw exchange with the card: a command APDU out, the response APDU (data and SW1 SW2)
// back. Implemented over PC/SC, and by scripted transports in tests.
class Transport {
  public:
    virtual ~Transport() = default;
    virtual SecureBytes transmit(ByteView command) = 0;
};

struct Command {
    uint8_t cla = 0;
    uint8_t ins = 0;
    uint8_t p1 = 0;
    uint8_t p2 = 0;
    SecureBytes data;            // may hold a PIN
    std::optional<uint16_t> le;  // expected length; 0 means "up to 256"

    // Short APDU encoding (cases 1 to 4).
    SecureBytes encode() const;
};

struct Response {
    SecureBytes data;  // may hold RES, CK, IK
    uint16_t sw = 0;
    bool ok() const { return sw == 0x9000; }
    uint8_t sw1() const { return static_cast<uint8_t>(sw >> 8); }
    uint8_t sw2() const { return static_cast<uint8_t>(sw & 0xFF); }
};

// Sends one command and follows the card's procedure bytes to the end: 61xx (or 9Fxx)
// fetches the data with GET RESPONSE on the same CLA, as often as the card asks; 6Cxx
// resends the command with the length the card gives. Counts raw exchanges in *exchanges.
Response exchange(Transport& transport, const Command& command, uint64_t* exchanges = nullptr);

}  // namespace imsaka::cardio
