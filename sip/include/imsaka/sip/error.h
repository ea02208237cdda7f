// Errors of the SIP codecs: each codec throws its own type, carrying a code, a message
// and, for errors in a parsed input, the byte offset where the problem was found.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace imsaka::sip {

template <typename Code>
class CodecError : public std::runtime_error {
  public:
    // An error in a parsed input, at a byte offset.
    CodecError(Code code, std::string message, size_t position)
        : std::runtime_error(message + " (at offset " + std::to_string(position) + ")"),
          code_(code),
          position_(position),
          hasPosition_(true),
          message_(std::move(message)) {}
    // An error not tied to a place in an input (bad arguments, nothing acceptable).
    CodecError(Code code, std::string message)
        : std::runtime_error(message), code_(code), message_(std::move(message)) {}
    Code code() const noexcept { return code_; }
    // The description without the position.
    const std::string& message() const noexcept { return message_; }
    bool hasPosition() const noexcept { return hasPosition_; }
    // Byte offset in the text given to the parser (0 when hasPosition() is false).
    size_t position() const noexcept { return position_; }

  private:
    Code code_;
    size_t position_ = 0;
    bool hasPosition_ = false;
    std::string message_;
};

}  // namespace imsaka::sip
