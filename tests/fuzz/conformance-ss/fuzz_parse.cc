// What the system simulator reads from the UE: any bytes are a message, a stream prefix, or
// a SipSyntaxError, and every helper the checks use on a parsed message either returns or
// throws SipSyntaxError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks.h"
#include "sip_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace imsaka::conformance;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)completeMessageLength(text);
    } catch (const SipSyntaxError&) {
    }
    try {
        auto message = SipMessage::parse(text);
        for (const auto& header : message.headers()) {
            try {
                (void)parseNameAddr(header.value);
                (void)parseVia(header.value);
                (void)parseCredentials(header.value);
                (void)parseSecurityMechanisms(header.value);
                (void)parseUri(parseNameAddr(header.value).uri);
            } catch (const SipSyntaxError&) {
            }
        }
        Inbound inbound{message, Transport::Udp, {}, {}, -1, {}, size, 0};
        RegisterExpectation expected;
        (void)checkRegister(inbound, expected);
    } catch (const SipSyntaxError&) {
    }
    return 0;
}
