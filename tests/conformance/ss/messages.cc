#include "messages.h"

#include <openssl/rand.h>

#include <stdexcept>

#include "imsaka/common/bytes.h"

namespace imsaka::conformance {
namespace {

void append(std::string& text, std::string_view name, std::string_view value) {
    text.append(name).append(": ").append(value).append("\r\n");
}

void finish(std::string& text, std::string_view contentType, std::string_view body) {
    if (!body.empty()) append(text, "Content-Type", contentType);
    append(text, "Content-Length", std::to_string(body.size()));
    text += "\r\n";
    text += body;
}

std::string escapeXml(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

std::string buildResponse(const SipMessage& request, int status, std::string_view reason,
                          std::string_view toTag, const Headers& extra,
                          std::string_view contentType, std::string_view body) {
    std::string text = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    for (const auto& via : request.lines("Via")) append(text, "Via", via);
    append(text, "From", request.first("From").value_or(""));
    std::string to = request.first("To").value_or("");
    const auto toParameters = parseNameAddr(to).parameters;
    if (!findParameter(toParameters, "tag") && !toTag.empty()) to += ";tag=" + std::string(toTag);
    append(text, "To", to);
    append(text, "Call-ID", request.first("Call-ID").value_or(""));
    append(text, "CSeq", request.first("CSeq").value_or(""));
    for (const auto& header : extra) append(text, header.name, header.value);
    finish(text, contentType, body);
    return text;
}

std::string buildRequest(std::string_view method, std::string_view requestUri,
                         const Headers& headers, std::string_view contentType,
                         std::string_view body) {
    std::string text = std::string(method) + " " + std::string(requestUri) + " SIP/2.0\r\n";
    for (const auto& header : headers) append(text, header.name, header.value);
    finish(text, contentType, body);
    return text;
}

std::string randomToken(size_t bytes) {
    Bytes random(bytes);
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
    return toHex(random);
}

std::string reginfoDocument(uint32_t version,
                            const std::vector<ReginfoRegistration>& registrations) {
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"" +
        std::to_string(version) + "\" state=\"full\">\n";
    for (const auto& registration : registrations) {
        xml += " <registration aor=\"" + escapeXml(registration.aor) + "\" id=\"" +
               escapeXml(registration.id) + "\" state=\"" + registration.state + "\">\n";
        for (const auto& contact : registration.contacts) {
            xml += "  <contact id=\"" + escapeXml(contact.id) + "\" state=\"" + contact.state +
                   "\" event=\"" + contact.event + "\"";
            if (contact.expires) xml += " expires=\"" + std::to_string(*contact.expires) + "\"";
            if (!contact.callId.empty()) xml += " callid=\"" + escapeXml(contact.callId) + "\"";
            if (contact.cseq) xml += " cseq=\"" + std::to_string(*contact.cseq) + "\"";
            xml += ">\n   <uri>" + escapeXml(contact.uri) + "</uri>\n  </contact>\n";
        }
        xml += " </registration>\n";
    }
    return xml + "</reginfo>\n";
}

}  // namespace imsaka::conformance
