// What the simulator receives from the network (libosip2 parsing, the raw Authorization,
// the digest, Contact, Path, reginfo for answers): any datagram gives a response, nothing,
// or SimError. One simulator for the whole run, so that state (challenges, bindings,
// subscriptions) carries from input to input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "simulator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace imsaka::scscfsim;
    static Simulator simulator(SimOptions{}, [](const std::string&) {});
    try {
        simulator.receive(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const SimError&) {
    }
    return 0;
}
