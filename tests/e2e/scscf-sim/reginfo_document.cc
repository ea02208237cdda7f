#include "reginfo_document.h"

#include <pugixml.hpp>
#include <sstream>

namespace imsaka::scscfsim {
namespace {

void addUnknownParam(pugi::xml_node contact, const char* name, std::string value) {
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
    auto param = contact.append_child("unknown-param");
    param.append_attribute("name") = name;
    param.text() = value.c_str();
}

}  // namespace

std::string buildReginfo(uint32_t version, const std::vector<ReginfoRegistrationEntry>& entries) {
    pugi::xml_document document;
    auto declaration = document.append_child(pugi::node_declaration);
    declaration.append_attribute("version") = "1.0";
    declaration.append_attribute("encoding") = "UTF-8";
    auto reginfo = document.append_child("reginfo");
    reginfo.append_attribute("xmlns") = "urn:ietf:params:xml:ns:reginfo";
    reginfo.append_attribute("version") = version;
    reginfo.append_attribute("state") = "full";
    for (const auto& entry : entries) {
        auto registration = reginfo.append_child("registration");
        registration.append_attribute("aor") = entry.aor.c_str();
        registration.append_attribute("id") = entry.id.c_str();
        registration.append_attribute("state") = entry.state.c_str();
        for (const auto& contactEntry : entry.contacts) {
            auto contact = registration.append_child("contact");
            contact.append_attribute("id") = contactEntry.id.c_str();
            contact.append_attribute("state") = contactEntry.state.c_str();
            contact.append_attribute("event") = contactEntry.event.c_str();
            if (contactEntry.expires) contact.append_attribute("expires") = *contactEntry.expires;
            if (!contactEntry.callId.empty()) {
                contact.append_attribute("callid") = contactEntry.callId.c_str();
                contact.append_attribute("cseq") = contactEntry.cseq;
            }
            contact.append_child("uri").text() = contactEntry.uri.c_str();
            if (contactEntry.instance)
                addUnknownParam(contact, "+sip.instance", *contactEntry.instance);
            if (contactEntry.regId) addUnknownParam(contact, "reg-id", *contactEntry.regId);
        }
    }
    std::ostringstream out;
    document.save(out, "", pugi::format_raw);
    return out.str();
}

}  // namespace imsaka::scscfsim
