// What imsaka-register reads from the network: a datagram parsed whole, the same bytes as a
// TCP stream cut into messages (in two reads, split where the first byte says), and the
// answer it would send to a request.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sip_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace imsaka::reg;
    const std::string input(reinterpret_cast<const char*>(data), size);
    try {
        Message message = parseMessage(input);
        if (message.isRequest) parseMessage(buildResponse(input, 200, "OK"));
    } catch (const SipMessageError&) {
    }
    try {
        StreamFramer framer;
        size_t cut = size > 0 ? data[0] % (size + 1) : 0;
        framer.append(input.substr(0, cut));
        while (framer.next()) {
        }
        framer.append(input.substr(cut));
        while (auto message = framer.next()) {
            try {
                parseMessage(*message);
            } catch (const SipMessageError&) {
            }
        }
    } catch (const SipMessageError&) {
    }
    return 0;
}
