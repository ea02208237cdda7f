// reg-event bodies for benchmarks and tests of what a hostile network can send.
#pragma once

#include <cstddef>
#include <string>

namespace imsaka::testing {

// A partial reginfo document of about `bytes` (never more) full of terminated registrations
// of strangers: the NOTIFY body that once grew BarredUris without bound.
inline std::string hostileReginfo(size_t bytes, unsigned version) {
    std::string body = "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"" +
                       std::to_string(version) + "\" state=\"partial\">";
    for (unsigned i = 0; body.size() + 100 < bytes; ++i)
        body += "<registration aor=\"sip:u" + std::to_string(i) + "_" + std::to_string(version) +
                "@ims.example.net\" id=\"r" + std::to_string(i) + "\" state=\"terminated\"/>";
    return body + "</reginfo>";
}

}  // namespace imsaka::testing
