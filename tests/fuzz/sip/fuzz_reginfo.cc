// reginfo bodies: parse, then look for our contact and what each event asks of us.
#include <cstdlib>

#include "imsaka/sip/reginfo.h"

using namespace imsaka::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view xml(reinterpret_cast<const char*>(data), size);
    Reginfo reginfo;
    try {
        reginfo = parseReginfo(xml);
    } catch (const ReginfoError& error) {
        if (error.position() > size) std::abort();
        return 0;
    }
    // Identities and contacts as the engine compares them.
    for (const auto& registration : reginfo.registrations) {
        if (canonicalUri(registration.aor).empty()) std::abort();
        for (const auto& contact : registration.contacts) (void)canonicalUri(contact.uri);
    }
    OurContact byUri{"sip:[5555::aaa:bbb:ccc:ddd]:1357", {}, {}};
    OurContact byInstance{"", "<urn:gsma:imei:35209900-176148-1>", 1};
    for (const auto* ours : {&byUri, &byInstance}) {
        if (const auto* contact = findOurContact(reginfo, *ours)) {
            (void)actionFor(*contact);
            if (contact->uri.empty()) std::abort();
        }
    }
    return 0;
}
