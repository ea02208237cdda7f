// The registration event package body (RFC 3680, application/reginfo+xml), as an S-CSCF
// sends it in reg-event NOTIFY requests (TS 24.229 5.1.1.3), and the contact that is ours.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imsaka/sip/error.h"

namespace imsaka::sip {

enum class ReginfoErrc {
    MalformedXml,      // not well-formed XML
    NotReginfo,        // the root is not reginfo in the urn:ietf:params:xml:ns:reginfo namespace
    MissingAttribute,  // a required attribute (version, state, aor, id, event) is absent
    BadValue,          // an attribute or element value outside what RFC 3680 allows
    MissingElement,    // a contact without its uri
    TooLarge,          // larger than we accept
};

class ReginfoError : public CodecError<ReginfoErrc> {
  public:
    using CodecError::CodecError;
};

enum class RegistrationState { Init, Active, Terminated };
enum class ContactState { Active, Terminated };
enum class ContactEvent {
    Registered,
    Created,
    Refreshed,
    Shortened,
    Expired,
    Deactivated,
    Probation,
    Unregistered,
    Rejected,
};
std::string_view toString(RegistrationState state);
std::string_view toString(ContactState state);
std::string_view toString(ContactEvent event);

struct ReginfoContact {
    std::string id;
    ContactState state = ContactState::Active;
    ContactEvent event = ContactEvent::Registered;
    std::optional<uint32_t> expires;     // seconds
    std::optional<uint32_t> retryAfter;  // seconds, with probation
    std::optional<uint32_t> durationRegistered;
    std::string uri;
    std::optional<std::string> displayName;
    std::optional<std::string> q;
    std::optional<std::string> callId;
    std::optional<uint32_t> cseq;
    // <unknown-param name="...">value</unknown-param>, such as +sip.instance and reg-id.
    std::vector<std::pair<std::string, std::string>> unknownParams;

    std::optional<std::string_view> unknownParam(std::string_view name) const;
};

struct ReginfoRegistration {
    std::string aor;
    std::string id;
    RegistrationState state = RegistrationState::Init;
    std::vector<ReginfoContact> contacts;
};

struct Reginfo {
    uint32_t version = 0;
    bool full = true;  // state="full"; false for "partial"
    std::vector<ReginfoRegistration> registrations;
};

// Accepts documents of up to 64 KiB whose reginfo, registration and contact elements
// have at most 64 attributes each (TooLarge otherwise); the work is linear in the size.
// Positions in errors are byte offsets in the text.
Reginfo parseReginfo(std::string_view xml);

// A URI reduced to what names an address of record or a binding, as text to compare: for
// sip and sips, the scheme, user, host (lower case; an IPv6 reference in its canonical form)
// and port (5060 or 5061 when absent); for others (tel), the scheme and the rest without
// parameters. Angle brackets around the URI are ignored.
std::string canonicalUri(std::string_view uri);

// How we recognise our own contact: by +sip.instance when we registered one (RFC 5626),
// else by the Contact URI we registered (compared as canonicalUri: parameters ignored).
struct OurContact {
    std::string uri;
    std::optional<std::string> instanceId;  // e.g. "<urn:gsma:imei:...>", with or without <>
    std::optional<uint32_t> regId;
};

bool isOurContact(const ReginfoContact& contact, const OurContact& ours);
// Our contact in the registration of the given AoR (any registration when aor is empty).
const ReginfoContact* findOurContact(const Reginfo& reginfo, const OurContact& ours,
                                     std::string_view aor = {});

// What TS 24.229 5.1.1.3 (and RFC 3680 3.6 where 24.229 is silent) asks of the UE for an
// event on its own contact.
enum class ContactAction {
    None,            // registered, created, refreshed: nothing to do
    Reauthenticate,  // shortened: re-register, which re-authenticates, before the new expiry
    RegisterAgain,   // deactivated, expired; probation after retryAfter: initial registration
    Stop,            // rejected (do not register again on our own), unregistered (asked for)
};
ContactAction actionFor(const ReginfoContact& contact);

}  // namespace imsaka::sip
