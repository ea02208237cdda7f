// The daemon's named errors and the one table that maps the parts' errors onto the D-Bus
// error names of the contract (org.imsaka.Error.*, see doc/dbus-api.md).
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace imsaka::daemon {

enum class DaemonErrc {
    InvalidArguments,
    NotAllowed,
    NotFound,
    WrongState,
    QuotaExceeded,
    CardAbsent,
    PinRequired,
    PinBlocked,
    WrongPin,
    WrongPuk,
    PukBlocked,
    MacFailure,
    CardError,
    PcscUnavailable,
    MalformedHeader,
    KernelError,
    PortsUnavailable,
    ResolutionFailed,  // a P-CSCF name gave no usable address
    FileDescriptorsExhausted,
    OutboundNotAccepted,
    Failed,
};

// "org.imsaka.Error.CardAbsent" and so on.
std::string_view dbusErrorName(DaemonErrc code);

class DaemonError : public std::runtime_error {
  public:
    DaemonError(DaemonErrc code, const std::string& what) : std::runtime_error(what), code_(code) {}
    DaemonErrc code() const noexcept { return code_; }

  private:
    DaemonErrc code_;
};

// FileDescriptorsExhausted, for an errno of EMFILE or ENFILE while making `what`.
DaemonError descriptorsExhausted(const std::string& what);

// Classifies any exception of the project's parts (cardio::CardError, ipsec::XfrmError,
// sip errors, EngineError, ConfigError, DaemonError); anything else becomes Failed.
DaemonError classify(std::exception_ptr error);

}  // namespace imsaka::daemon
