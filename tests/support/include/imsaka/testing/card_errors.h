// The code of the CardError a call throws, so tests can compare named errors directly.
#pragma once

#include <gtest/gtest.h>

#include "imsaka/cardio/error.h"

namespace imsaka::testing {

template <typename Call>
cardio::CardErrc errorOf(Call&& call) {
    try {
        call();
    } catch (const cardio::CardError& e) {
        return e.code();
    }
    ADD_FAILURE() << "no CardError";
    return cardio::CardErrc::InvalidArgument;
}

}  // namespace imsaka::testing
