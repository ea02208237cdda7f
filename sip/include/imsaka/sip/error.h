// Errors of the SIP codecs: each codec throws its own type, carrying a code, a message
// and the byte offset in the input where the problem was found.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace imsaka::sip {

template <typename Code>
class CodecError : public std::runtime_error {
  public:
    CodecError(Code code, std::string message, size_t position)
        : std::runtime_error(message + " (at offset " + std::to_string(position) + ")"),
          code_(code),
          position_(position),
          message_(std::move(message)) {}
    Code code() const noexcept { return code_; }
    // The description without the position.
    const std::string& message() const noexcept { return message_; }
    // Byte offset in the text given to the parser (0 for errors not tied to a place).
    size_t position() const noexcept { return position_; }

  private:
    Code code_;
    size_t position_;
    std::string message_;
};

}  // namespace imsaka::sip
