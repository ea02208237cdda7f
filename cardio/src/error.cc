#include "imsaka/cardio/error.h"

#include <cstdio>

namespace imsaka::cardio {

std::string_view toString(CardErrc code) {
    switch (code) {
        case CardErrc::PcscUnavailable:
            return "pcsc-unavailable";
        case CardErrc::ReaderNotFound:
            return "reader-not-found";
        case CardErrc::NoCard:
            return "no-card";
        case CardErrc::CardRemoved:
            return "card-removed";
        case CardErrc::CardReset:
            return "card-reset";
        case CardErrc::PcscFailure:
            return "pcsc-failure";
        case CardErrc::NoApplication:
            return "no-application";
        case CardErrc::FileNotFound:
            return "file-not-found";
        case CardErrc::RecordNotFound:
            return "record-not-found";
        case CardErrc::PinRequired:
            return "pin-required";
        case CardErrc::PinBlocked:
            return "pin-blocked";
        case CardErrc::WrongPin:
            return "wrong-pin";
        case CardErrc::PinNotRequired:
            return "pin-not-required";
        case CardErrc::PinNotBlocked:
            return "pin-not-blocked";
        case CardErrc::WrongPuk:
            return "wrong-puk";
        case CardErrc::PukBlocked:
            return "puk-blocked";
        case CardErrc::MacFailure:
            return "mac-failure";
        case CardErrc::ContextNotSupported:
            return "context-not-supported";
        case CardErrc::UnexpectedStatus:
            return "unexpected-status";
        case CardErrc::MalformedResponse:
            return "malformed-response";
        case CardErrc::InvalidArgument:
            return "invalid-argument";
    }
    return "unknown";
}

namespace {
std::string message(CardErrc code, const std::string& where, const std::string& detail,
                    std::optional<uint16_t> statusWord) {
    std::string text = std::string(toString(code)) + " in " + where;
    if (statusWord) {
        char sw[8];
        std::snprintf(sw, sizeof sw, "%04X", *statusWord);
        text += " (status ";
        text += sw;
        text += ")";
    }
    if (!detail.empty()) text += ": " + detail;
    return text;
}
}  // namespace

CardError::CardError(CardErrc code, std::string where, std::string detail,
                     std::optional<uint16_t> statusWord)
    : std::runtime_error(message(code, where, detail, statusWord)),
      code_(code),
      where_(std::move(where)),
      statusWord_(statusWord) {}

}  // namespace imsaka::cardio
