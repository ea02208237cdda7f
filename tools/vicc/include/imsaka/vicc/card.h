// A virtual UICC with an ISIM and a USIM (ETSI TS 102 221, 3GPP TS 31.102/31.103),
// pure logic: command APDU bytes in, response APDU bytes out. No I/O, no clock.
#pragma once

#include <imsaka/common/bytes.h>
#include <imsaka/vicc/profile.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace imsaka::vicc {

// Misbehaviour a test can switch on; every one leaves the card's state untouched.
enum class Fault {
    None,
    GarbageAuth,    // AUTHENTICATE answers random bytes with 9000
    TruncatedAuth,  // AUTHENTICATE answers a DB TLV that ends early
    UnknownSw,      // AUTHENTICATE answers 6F42
    TruncatedDir,   // EF_DIR records hold an application template cut short
};

// "garbage-auth", "truncated-auth", "unknown-sw", "truncated-dir" or "none".
std::optional<Fault> parseFault(std::string_view name);

class Card {
  public:
    // Copies what it needs from the profile (the keys go into the algorithm).
    explicit Card(const Profile& profile, Fault fault = Fault::None);
    ~Card();
    Card(const Card&) = delete;
    Card& operator=(const Card&) = delete;

    // The ATR announces T=0 or T=1 only, as the profile's protocol says.
    Bytes atr() const;
    Bytes powerOn();  // returns the ATR
    Bytes reset();    // warm reset; returns the ATR
    void powerOff();
    bool powered() const;

    // One command APDU (short form) to its response APDU, status word last. The
    // response may hold RES, CK and IK, hence SecureBytes.
    SecureBytes transmit(ByteView command);

    // State that survives power cycles, for tests and diagnostics.
    uint64_t highestAcceptedSqn() const;
    int pinRetriesLeft() const;
    int pukRetriesLeft() const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace imsaka::vicc
