// The UICC procedures over any Transport: EF_DIR, choosing and selecting the ISIM or USIM
// (on a logical channel when the card grants one), identity files, PIN and AUTHENTICATE.
// No PC/SC here; Card adds connections, transactions and recovery.
#pragma once

#include <string_view>
#include <vector>

#include "imsaka/cardio/codec.h"
#include "imsaka/cardio/transport.h"
#include "imsaka/cardio/types.h"

namespace imsaka::cardio {

enum class AppPreference { IsimThenUsim, UsimOnly };

struct SessionOptions {
    AppPreference preference = AppPreference::IsimThenUsim;
    bool useLogicalChannel = true;
};

class UiccSession {
  public:
    UiccSession(Transport& transport, SessionOptions options);
    UiccSession(const UiccSession&) = delete;
    UiccSession& operator=(const UiccSession&) = delete;

    // Reads EF_DIR, chooses the application, opens a logical channel when allowed and the
    // card grants one, and selects the application there.
    void open();
    // Selects the application again on the same channel (needed on the basic channel, which
    // other connections to the card may have moved).
    void reselect();
    // Closes the logical channel, if any. Errors are ignored: the card may be gone.
    void close() noexcept;

    const std::vector<Application>& applications() const { return applications_; }
    const Application& application() const { return application_; }
    uint8_t channel() const { return channel_; }
    bool onBasicChannel() const { return channel_ == 0; }

    Identities readIdentities();
    // The PIN that guards the application (its FCP says which: PIN 01 or the universal
    // PIN), from VERIFY and UNBLOCK PIN without data, which count nothing down.
    PinStatus pinStatus();
    // Verifies that PIN (4 to 8 digits), but only when the card says verification is
    // needed: a disabled or verified PIN throws PinNotRequired and a blocked one PinBlocked
    // before any PIN is sent. A wrong PIN throws WrongPin.
    PinStatus verifyPin(std::string_view pin);
    // UNBLOCK PIN with the PUK (8 digits) and a new PIN (4 to 8 digits), only when the PIN is
    // blocked (else PinNotBlocked, nothing sent). A wrong PUK throws WrongPuk; none left,
    // PukBlocked. Success sets the new PIN and counts as its verification.
    PinStatus unblockPin(std::string_view puk, std::string_view newPin);
    // AUTHENTICATE in the 3G/IMS context; RAND and AUTN must be 16 bytes each.
    AuthResult authenticate(ByteView rand, ByteView autn);

    // Raw APDU exchanges so far (including GET RESPONSE and resends).
    uint64_t exchanges() const { return exchanges_; }

  private:
    Response run(Command command);
    FileControl select(uint16_t fileId, const char* what);
    SecureBytes readBinary(const FileControl& file, const char* what);
    std::vector<SecureBytes> readRecords(const FileControl& file, const char* what);
    std::vector<Application> readDir();
    uint8_t openChannel();
    Identities readIsimIdentities();
    Identities readUsimIdentities();
    uint8_t pinReference() const;
    // VERIFY (20) or UNBLOCK PIN (2C) without data: the state of the PIN or the PUK.
    Response askCounter(uint8_t instruction);

    Transport& transport_;
    SessionOptions options_;
    std::vector<Application> applications_;
    Application application_;
    uint8_t channel_ = 0;
    std::optional<PinReference> pin_;
    uint64_t exchanges_ = 0;
};

// The CLA byte of interindustry commands on a logical channel (0-3: 0n; 4-19: 4x).
uint8_t classForChannel(uint8_t channel);

// Maps a status word that is not 9000 to the named error of the card part.
[[noreturn]] void throwForStatus(uint16_t sw, const std::string& where);

}  // namespace imsaka::cardio
