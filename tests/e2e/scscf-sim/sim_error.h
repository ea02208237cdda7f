// The simulator's named error.
#pragma once

#include <stdexcept>
#include <string>

namespace imsaka::scscfsim {

enum class SimErrc {
    BadMessage,      // a received message libosip2 cannot parse, or one without a required part
    UnknownCommand,  // a stdin line that is not a command
    BadOption,       // a command-line value out of range
    Io,              // a socket operation failed
};

class SimError : public std::runtime_error {
  public:
    SimError(SimErrc code, const std::string& what) : std::runtime_error(what), code_(code) {}
    SimErrc code() const { return code_; }

  private:
    SimErrc code_;
};

}  // namespace imsaka::scscfsim
