// The one error type of the ipsec part.
#pragma once

#include <stdexcept>
#include <string>

namespace imsaka::ipsec {

enum class XfrmErrorCode {
    InvalidArgument,       // a parameter the kernel would reject, caught before asking it
    KernelLacksEsp,        // the kernel has XFRM but no ESP (CONFIG_INET_ESP / INET6_ESP)
    KernelLacksAlgorithm,  // ESP is there, the crypto module for an algorithm is not
    PermissionDenied,      // CAP_NET_ADMIN is missing
    SpiUnavailable,        // the kernel found no free SPI in the configured range
    ReservationExpired,  // the larval SAs of a SPI reservation are gone (net.core.xfrm_acq_expires)
    AlreadyExists,       // an SA or policy with the same identity is already installed
    NotFound,            // the SA asked about is not (or no longer) in the kernel
    Netlink,             // any other failure of the socket or of a kernel answer
};

const char* toString(XfrmErrorCode code);

// what() reads "<where>: <message>"; where names the operation (for example
// "install SA A" or "allocate SPI").
class XfrmError : public std::runtime_error {
  public:
    XfrmError(XfrmErrorCode code, std::string where, const std::string& message, int error = 0);
    XfrmErrorCode code() const noexcept { return code_; }
    const std::string& where() const noexcept { return where_; }
    // The errno the kernel answered, or 0 when the error was found before asking it.
    int systemError() const noexcept { return error_; }

  private:
    XfrmErrorCode code_;
    std::string where_;
    int error_;
};

}  // namespace imsaka::ipsec
