// Throwing DigestError from the digest sources.
#pragma once

#include <string>

#include "imsaka/sip/digest.h"

namespace imsaka::sip {

[[noreturn]] inline void fail(DigestErrc code, std::string what, size_t position) {
    throw DigestError(code, std::move(what), position);
}

[[noreturn]] inline void fail(DigestErrc code, std::string what) {
    throw DigestError(code, std::move(what));
}

}  // namespace imsaka::sip
