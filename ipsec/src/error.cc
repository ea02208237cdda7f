#include "imsaka/ipsec/error.h"

namespace imsaka::ipsec {

const char* toString(XfrmErrorCode code) {
    switch (code) {
        case XfrmErrorCode::InvalidArgument:
            return "invalid argument";
        case XfrmErrorCode::KernelLacksEsp:
            return "kernel lacks ESP";
        case XfrmErrorCode::KernelLacksAlgorithm:
            return "kernel lacks the algorithm";
        case XfrmErrorCode::PermissionDenied:
            return "permission denied";
        case XfrmErrorCode::SpiUnavailable:
            return "no free SPI in range";
        case XfrmErrorCode::ReservationExpired:
            return "SPI reservation expired";
        case XfrmErrorCode::AlreadyExists:
            return "already exists";
        case XfrmErrorCode::NotFound:
            return "not found";
        case XfrmErrorCode::Netlink:
            return "netlink failure";
    }
    return "unknown";
}

XfrmError::XfrmError(XfrmErrorCode code, std::string where, const std::string& message, int error)
    : std::runtime_error(where + ": " + message),
      code_(code),
      where_(std::move(where)),
      error_(error) {}

}  // namespace imsaka::ipsec
