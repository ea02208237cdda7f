// The daemon's last word on its kernel state. Registrations remove their own SA sets when
// they close; the sweep then removes whatever still carries one of our reqids (a larval SPI
// reservation, a set a failed removal left). Once the daemon owns its network namespace,
// the same sweep runs from the std::terminate handler, so that an exception nobody catches
// on any thread (the loop, a card worker, the PC/SC monitor) or a noexcept violation does
// not leave SAs and policies behind when the process aborts.
#pragma once

#include "imsaka/ipsec/xfrm.h"

namespace imsaka::daemon {

// Removes every SA and policy of ours in this network namespace; logs what it found
// (`when` says at which moment). Never throws.
void sweepKernelState(const ipsec::XfrmOptions& options, const char* when) noexcept;

// From now on std::terminate logs the reason, sweeps, then aborts.
void sweepKernelStateOnTerminate(const ipsec::XfrmOptions& options);

}  // namespace imsaka::daemon
