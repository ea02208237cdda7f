// What the engine's benchmarks share: picking an action out of a result, a header of a
// request, and a response echoing a request's Call-ID and CSeq.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imsaka/daemon/engine.h"

namespace imsaka::daemon::bench {

template <typename T>
const T& first(const Actions& actions) {
    for (const auto& action : actions) {
        if (const auto* found = std::get_if<T>(&action)) return *found;
    }
    throw std::logic_error("expected action missing");
}

inline std::string headerOf(const OutgoingRegister& request, std::string_view name) {
    for (const auto& [key, value] : request.headers) {
        if (key == name) return value;
    }
    return {};
}

inline SipResponse answer(uint16_t status, const OutgoingRegister& request,
                          std::vector<Header> extra) {
    SipResponse response{status, std::move(extra)};
    response.headers.emplace_back("Call-ID", headerOf(request, "Call-ID"));
    response.headers.emplace_back("CSeq", headerOf(request, "CSeq"));
    return response;
}

}  // namespace imsaka::daemon::bench
