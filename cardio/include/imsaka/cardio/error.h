// The named errors of the card part, each with where it happened.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace imsaka::cardio {

enum class CardErrc {
    PcscUnavailable,      // no pcscd, or it went away
    ReaderNotFound,       // no reader of that name (or no reader at all)
    NoCard,               // the reader is empty
    CardRemoved,          // the card left during the operation
    CardReset,            // another party reset the card (handled internally by Card)
    PcscFailure,          // any other PC/SC failure
    NoApplication,        // neither ISIM nor USIM on the card
    FileNotFound,         // 6A82
    RecordNotFound,       // 6A83
    PinRequired,          // 6982: security status not satisfied
    PinBlocked,           // 6983
    WrongPin,             // 63Cx after VERIFY with data
    PinNotRequired,       // VERIFY refused here: the PIN is disabled or verified already
    PinNotBlocked,        // UNBLOCK PIN refused here: the PIN is not blocked
    WrongPuk,             // 63Cx after UNBLOCK PIN with data
    PukBlocked,           // 6983 to UNBLOCK PIN: no PUK tries left
    MacFailure,           // 9862: the network failed authentication
    ContextNotSupported,  // 9864
    UnexpectedStatus,     // a status word this operation does not expect
    MalformedResponse,    // truncated or garbled data from the card
    InvalidArgument,      // bad input from the caller (RAND/AUTN length, PIN format)
};

std::string_view toString(CardErrc code);

class CardError : public std::runtime_error {
  public:
    CardError(CardErrc code, std::string where, std::string detail = {},
              std::optional<uint16_t> statusWord = std::nullopt);

    CardErrc code() const { return code_; }
    // The operation or parser that failed, such as "AUTHENTICATE" or "EF_DIR record 2".
    const std::string& where() const { return where_; }
    std::optional<uint16_t> statusWord() const { return statusWord_; }

  private:
    CardErrc code_;
    std::string where_;
    std::optional<uint16_t> statusWord_;
};

}  // namespace imsaka::cardio
