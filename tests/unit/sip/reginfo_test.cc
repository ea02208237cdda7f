#include "imsaka/sip/reginfo.h"

#include <gtest/gtest.h>

namespace imsaka::sip {
namespace {

// A full-state NOTIFY body after an initial registration (RFC 3680 section 6 shape, with
// the IMS unknown-params of RFC 5626 and the registered contact of the IMS example flow).
constexpr std::string_view kFull = R"(<?xml version="1.0"?>
<reginfo xmlns="urn:ietf:params:xml:ns:reginfo"
         xmlns:gr="urn:ietf:params:xml:ns:gruuinfo" version="0" state="full">
  <registration aor="sip:user1_public1@home1.net" id="a7" state="active">
    <contact id="76" state="active" event="registered" expires="600000"
             duration-registered="0" q="0.5" callid="apb03a0s09dkjdfglkj49111" cseq="2">
      <uri>sip:[5555::aaa:bbb:ccc:ddd]:1357;comp=sigcomp</uri>
      <display-name>Alice</display-name>
      <unknown-param name="+sip.instance">"&lt;urn:gsma:imei:35209900-176148-1&gt;"</unknown-param>
      <unknown-param name="reg-id">1</unknown-param>
      <gr:pub-gruu uri="sip:user1@home1.net;gr=urn:uuid:x"/>
    </contact>
    <contact id="77" state="active" event="created" expires="3600">
      <uri>sip:[5555::eee:fff]:5060</uri>
    </contact>
  </registration>
  <registration aor="tel:+358504821437" id="a8" state="init"/>
</reginfo>)";

std::string partial(std::string_view state, std::string_view event, std::string_view extra = "") {
    return R"(<ri:reginfo xmlns:ri="urn:ietf:params:xml:ns:reginfo" version="3" state="partial">)"
           R"(<ri:registration aor="sip:user1_public1@home1.net" id="a7" state="active">)"
           R"(<ri:contact id="76" state=")" +
           std::string(state) + R"(" event=")" + std::string(event) + "\"" + std::string(extra) +
           R"(><ri:uri>sip:[5555::aaa:bbb:ccc:ddd]:1357</ri:uri></ri:contact>)"
           R"(</ri:registration></ri:reginfo>)";
}

TEST(Reginfo, ReadsAFullDocument) {
    auto reginfo = parseReginfo(kFull);
    EXPECT_EQ(reginfo.version, 0u);
    EXPECT_TRUE(reginfo.full);
    ASSERT_EQ(reginfo.registrations.size(), 2u);
    const auto& registration = reginfo.registrations[0];
    EXPECT_EQ(registration.aor, "sip:user1_public1@home1.net");
    EXPECT_EQ(registration.state, RegistrationState::Active);
    ASSERT_EQ(registration.contacts.size(), 2u);
    const auto& contact = registration.contacts[0];
    EXPECT_EQ(contact.id, "76");
    EXPECT_EQ(contact.state, ContactState::Active);
    EXPECT_EQ(contact.event, ContactEvent::Registered);
    EXPECT_EQ(contact.expires, 600000u);
    EXPECT_EQ(contact.durationRegistered, 0u);
    EXPECT_EQ(contact.cseq, 2u);
    EXPECT_EQ(contact.q, "0.5");
    EXPECT_EQ(contact.callId, "apb03a0s09dkjdfglkj49111");
    EXPECT_EQ(contact.uri, "sip:[5555::aaa:bbb:ccc:ddd]:1357;comp=sigcomp");
    EXPECT_EQ(contact.displayName, "Alice");
    EXPECT_EQ(contact.unknownParam("+SIP.INSTANCE"), "\"<urn:gsma:imei:35209900-176148-1>\"");
    EXPECT_EQ(contact.unknownParam("reg-id"), "1");
    EXPECT_EQ(registration.contacts[1].event, ContactEvent::Created);
    EXPECT_EQ(reginfo.registrations[1].state, RegistrationState::Init);
    EXPECT_TRUE(reginfo.registrations[1].contacts.empty());
}

TEST(Reginfo, ReadsTheRfc3680Example) {
    // RFC 3680 section 6, the NOTIFY body after a registration and an expiry.
    auto reginfo = parseReginfo(R"(<?xml version="1.0"?>
    <reginfo xmlns="urn:ietf:params:xml:ns:reginfo"
             version="0" state="full">
      <registration aor="sip:user@example.com" id="as9"
                    state="active">
        <contact id="76" state="active" event="registered"
                 duration-registered="7322"
                 q="0.8">
                 <uri>sip:user@pc887.example.com</uri>
        </contact>
        <contact id="77" state="terminated" event="expired"
                 duration-registered="3600"
                 q="0.5">
                 <uri>sip:user@university.edu</uri>
        </contact>
      </registration>
    </reginfo>)");
    ASSERT_EQ(reginfo.registrations.size(), 1u);
    const auto& contacts = reginfo.registrations[0].contacts;
    ASSERT_EQ(contacts.size(), 2u);
    EXPECT_EQ(contacts[0].uri, "sip:user@pc887.example.com");
    EXPECT_EQ(contacts[0].durationRegistered, 7322u);
    EXPECT_EQ(contacts[1].state, ContactState::Terminated);
    EXPECT_EQ(contacts[1].event, ContactEvent::Expired);
    EXPECT_EQ(contacts[1].q, "0.5");
    OurContact ours{"sip:user@University.EDU:5060", {}, {}};
    ASSERT_NE(findOurContact(reginfo, ours, "sip:user@example.com"), nullptr);
    EXPECT_EQ(findOurContact(reginfo, ours)->id, "77");
}

TEST(Reginfo, ReadsEveryContactEventWithAnyNamespacePrefix) {
    const std::pair<std::string_view, ContactEvent> events[] = {
        {"registered", ContactEvent::Registered}, {"created", ContactEvent::Created},
        {"refreshed", ContactEvent::Refreshed},   {"shortened", ContactEvent::Shortened},
        {"expired", ContactEvent::Expired},       {"deactivated", ContactEvent::Deactivated},
        {"probation", ContactEvent::Probation},   {"unregistered", ContactEvent::Unregistered},
        {"rejected", ContactEvent::Rejected},
    };
    for (auto [name, event] : events) {
        auto reginfo = parseReginfo(partial("terminated", name));
        EXPECT_FALSE(reginfo.full);
        EXPECT_EQ(reginfo.version, 3u);
        ASSERT_EQ(reginfo.registrations.at(0).contacts.size(), 1u) << name;
        EXPECT_EQ(reginfo.registrations[0].contacts[0].event, event);
        EXPECT_EQ(reginfo.registrations[0].contacts[0].state, ContactState::Terminated);
        EXPECT_EQ(toString(event), name);
    }
}

TEST(Reginfo, TellsWhatEachEventAsksOfUs) {
    auto actionOf = [](std::string_view state, std::string_view event) {
        return actionFor(parseReginfo(partial(state, event)).registrations[0].contacts[0]);
    };
    EXPECT_EQ(actionOf("active", "refreshed"), ContactAction::None);
    EXPECT_EQ(actionOf("active", "shortened"), ContactAction::Reauthenticate);
    EXPECT_EQ(actionOf("terminated", "deactivated"), ContactAction::RegisterAgain);
    EXPECT_EQ(actionOf("terminated", "probation"), ContactAction::RegisterAgain);
    EXPECT_EQ(actionOf("terminated", "expired"), ContactAction::RegisterAgain);
    EXPECT_EQ(actionOf("terminated", "rejected"), ContactAction::Stop);
    EXPECT_EQ(actionOf("terminated", "unregistered"), ContactAction::Stop);
    auto probation = parseReginfo(partial("terminated", "probation", " retry-after=\"30\""));
    EXPECT_EQ(probation.registrations[0].contacts[0].retryAfter, 30u);
}

TEST(Reginfo, FindsOurContactByUriOrInstance) {
    auto reginfo = parseReginfo(kFull);
    OurContact byUri{"<sip:[5555::AAA:bbb:ccc:ddd]:1357;transport=udp>", {}, {}};
    const ReginfoContact* found = findOurContact(reginfo, byUri);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->id, "76");
    OurContact defaultPort{"sip:[5555::eee:fff]", {}, {}};
    ASSERT_NE(findOurContact(reginfo, defaultPort), nullptr);
    EXPECT_EQ(findOurContact(reginfo, defaultPort)->id, "77");
    OurContact otherPort{"sip:[5555::aaa:bbb:ccc:ddd]:1358", {}, {}};
    EXPECT_EQ(findOurContact(reginfo, otherPort), nullptr);

    OurContact byInstance{"sip:ignored", "<urn:gsma:imei:35209900-176148-1>", 1};
    found = findOurContact(reginfo, byInstance, "sip:user1_public1@home1.net");
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->id, "76");
    byInstance.regId = 2;
    EXPECT_EQ(findOurContact(reginfo, byInstance), nullptr);
    byInstance.regId.reset();
    EXPECT_EQ(findOurContact(reginfo, byInstance, "tel:+358504821437"), nullptr);
}

TEST(Reginfo, NamesEachErrorAndWhereItIs) {
    // Errors about an element point at its '<'.
    const size_t contactAt = partial("active", "registered").find("<ri:contact");
    struct Case {
        std::string xml;
        ReginfoErrc code;
        size_t position;
    };
    const Case cases[] = {
        {"", ReginfoErrc::MalformedXml, 0},
        {"<reginfo", ReginfoErrc::MalformedXml, 7},  // where pugixml finds the tag cut off
        {R"(<reginfo version="1" state="full"/>)", ReginfoErrc::NotReginfo, 0},
        {R"(<x:reginfo xmlns:x="urn:other" version="1" state="full"/>)", ReginfoErrc::NotReginfo,
         0},
        {R"(<presence xmlns="urn:ietf:params:xml:ns:reginfo"/>)", ReginfoErrc::NotReginfo, 0},
        {R"( <reginfo xmlns="urn:ietf:params:xml:ns:reginfo" state="full"/>)",
         ReginfoErrc::MissingAttribute, 1},
        {R"(<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="-1" state="full"/>)",
         ReginfoErrc::BadValue, 0},
        {R"(<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="whole"/>)",
         ReginfoErrc::BadValue, 0},
        {R"(<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="full">)"
         R"(<registration aor="sip:a" id="1" state="dormant"/></reginfo>)",
         ReginfoErrc::BadValue, 73},
        {R"(<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="full">)"
         R"(<registration id="1" state="active"/></reginfo>)",
         ReginfoErrc::MissingAttribute, 73},
        {partial("active", "renewed"), ReginfoErrc::BadValue, contactAt},
        {partial("active", "registered", " expires=\"soon\""), ReginfoErrc::BadValue, contactAt},
        {partial("active", "registered", " q=\"2\""), ReginfoErrc::BadValue, contactAt},
        {R"(<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="full">)"
         R"(<registration aor="sip:a" id="1" state="active">)"
         R"(<contact id="c" state="active" event="created"/></registration></reginfo>)",
         ReginfoErrc::MissingElement, 121},
        {std::string(64 << 10, ' ') + "x", ReginfoErrc::TooLarge, 64 << 10},
    };
    for (const auto& c : cases) {
        try {
            parseReginfo(c.xml);
            ADD_FAILURE() << "accepted " << c.xml.substr(0, 200);
        } catch (const ReginfoError& error) {
            EXPECT_EQ(error.code(), c.code) << c.xml.substr(0, 200) << ": " << error.what();
            EXPECT_EQ(error.position(), c.position) << c.xml.substr(0, 200);
        }
    }
}

TEST(Reginfo, ElementsWhoseChildrenAreReadHaveAtMost64Attributes) {
    auto withAttributes = [](int count) {
        std::string attributes;
        for (int i = 0; i < count; ++i) attributes += " x" + std::to_string(i) + "=\"\"";
        return R"(<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="full">)"
               R"(<registration aor="sip:a" id="1" state="active")" +
               attributes + "/></reginfo>";
    };
    EXPECT_NO_THROW(parseReginfo(withAttributes(64 - 3)));  // with aor, id and state
    try {
        parseReginfo(withAttributes(64 - 2));
        ADD_FAILURE() << "65 attributes accepted";
    } catch (const ReginfoError& error) {
        EXPECT_EQ(error.code(), ReginfoErrc::TooLarge);
        EXPECT_EQ(error.position(), 73u);
    }
}

TEST(CanonicalUri, ComparesAddressesOfRecordAndBindingsAsUris) {
    EXPECT_EQ(canonicalUri("sip:[2001:0DB8:0:0::2]:6101;transport=tcp"),
              canonicalUri("<sip:[2001:db8::2]:6101>"));
    EXPECT_EQ(canonicalUri("sip:[2001:db8::2]:6101"), "sip:[2001:db8::2]:6101");
    EXPECT_EQ(canonicalUri("SIP:User@Home1.NET"), "sip:User@home1.net:5060");
    EXPECT_NE(canonicalUri("sip:user@home1.net"), canonicalUri("sip:User@home1.net"))
        << "the user part is case-sensitive (RFC 3261 19.1.4)";
    EXPECT_EQ(canonicalUri("sips:a@b"), "sips:a@b:5061");
    EXPECT_EQ(canonicalUri("tel:+1-555-(000).0001;phone-context=x"), "tel:+15550000001");
    EXPECT_NE(canonicalUri("sip:[2001:db8::2]:6101"), canonicalUri("sip:[2001:db8::3]:6101"));
}

TEST(Reginfo, DoesNotExpandEntitiesFromADoctype) {
    std::string xml =
        R"(<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>)"
        R"(<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="1" state="full">)"
        R"(<registration aor="sip:a" id="1" state="active"><contact id="c" state="active" )"
        R"(event="created"><uri>&b;</uri></contact></registration></reginfo>)";
    try {
        auto reginfo = parseReginfo(xml);
        // Unknown entities are left as they are, never expanded.
        EXPECT_EQ(reginfo.registrations[0].contacts[0].uri, "&b;");
    } catch (const ReginfoError& error) {
        EXPECT_EQ(error.code(), ReginfoErrc::MalformedXml);
    }
}

}  // namespace
}  // namespace imsaka::sip
