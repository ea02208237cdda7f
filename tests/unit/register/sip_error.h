// The SipMessageError a call throws, for the tests' assertions.
#pragma once

#include <optional>

#include "sip_message.h"

namespace imsaka::reg {

// The error `call` threw, or nothing when it did not throw one.
template <typename Call>
std::optional<SipMessageError> sipErrorOf(Call&& call) {
    try {
        call();
    } catch (const SipMessageError& error) {
        return error;
    }
    return std::nullopt;
}

}  // namespace imsaka::reg
