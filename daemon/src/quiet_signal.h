// Sending a signal fails once the bus connection is gone. A signal announces what already
// happened, so its failure must neither interrupt that nor leave a destructor (an exception
// from a destructor aborts the daemon with its SAs still in the kernel): it is logged, and
// the event loop notices the lost connection by itself and ends the daemon in order.
#pragma once

#include <exception>
#include <string>

#include "log.h"

namespace imsaka::daemon {

template <typename Emit>
void emitQuietly(const char* what, Emit&& emit) noexcept {
    try {
        emit();
    } catch (const std::exception& e) {
        log::debug(std::string(what) + " not sent: " + e.what());
    } catch (...) {
        log::debug(std::string(what) + " not sent");
    }
}

}  // namespace imsaka::daemon
