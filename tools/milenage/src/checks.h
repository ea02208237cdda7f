// Argument checks shared by the algorithm implementations.
#pragma once

#include <imsaka/milenage/milenage.h>

#include <string>

namespace imsaka::milenage {

inline void requireLength(ByteView value, size_t length, const char* name) {
    if (value.size() != length) {
        throw MilenageError(MilenageError::Code::BadLength,
                            std::string(name) + " must be " + std::to_string(length) +
                                " bytes, got " + std::to_string(value.size()));
    }
}

}  // namespace imsaka::milenage
