#include "kernel_sweep.h"

#include <atomic>
#include <cstdlib>
#include <exception>
#include <string>

#include "log.h"

namespace imsaka::daemon {

namespace {

ipsec::XfrmOptions terminateOptions;
std::atomic<bool> terminating{false};

std::string uncaughtReason() {
    auto current = std::current_exception();
    if (!current) return "std::terminate without an exception";
    try {
        std::rethrow_exception(current);
    } catch (const std::exception& e) {
        return std::string("uncaught exception: ") + e.what();
    } catch (...) {
        return "uncaught exception of an unknown type";
    }
}

[[noreturn]] void onTerminate() {
    // A second thread (or a failure inside the sweep) only waits for the abort.
    if (terminating.exchange(true)) std::abort();
    try {
        log::error("fatal: " + uncaughtReason() + "; removing our SAs and policies, then aborting");
    } catch (...) {
    }
    sweepKernelState(terminateOptions, "before aborting");
    std::abort();
}

}  // namespace

void sweepKernelState(const ipsec::XfrmOptions& options, const char* when) noexcept {
    try {
        auto removed = ipsec::Xfrm(options).removeOwnState();
        if (removed.ownSas || removed.ownPolicies)
            log::notice("removed " + std::to_string(removed.ownSas) + " SAs and " +
                        std::to_string(removed.ownPolicies) + " policies of ours " + when);
    } catch (const std::exception& e) {
        log::error(std::string("removing our SAs and policies ") + when + ": " + e.what());
    } catch (...) {
        log::error(std::string("removing our SAs and policies ") + when + ": unknown failure");
    }
}

void sweepKernelStateOnTerminate(const ipsec::XfrmOptions& options) {
    terminateOptions = options;
    std::set_terminate(&onTerminate);
}

}  // namespace imsaka::daemon
