// RFC 3263 clause 4 as the Procedure follows it, against zones in memory.
#include <gtest/gtest.h>

#include "fake_dns.h"

namespace imsaka::resolver::test {
namespace {

NaptrRecord naptr(uint16_t order, uint16_t preference, std::string service, std::string replacement,
                  std::string flags = "s") {
    return NaptrRecord{
        order, preference, std::move(flags), std::move(service), "", std::move(replacement)};
}

Target udp(std::string address, uint16_t port = 5060) {
    return Target{std::move(address), port, Transport::Udp};
}
Target tcp(std::string address, uint16_t port = 5060) {
    return Target{std::move(address), port, Transport::Tcp};
}

std::vector<Target> resolve(FakeDns& dns, Request request, RandomSource random = fixedRandom(0)) {
    Procedure procedure(std::move(request), std::move(random));
    dns.run(procedure);
    EXPECT_TRUE(procedure.done());
    return procedure.targets();
}

TEST(Rfc3263, IpLiteralsAreUsedAsTheyAreWithoutAnyQuery) {
    FakeDns dns;
    EXPECT_EQ(resolve(dns, {"192.0.2.10", {}, {}}), std::vector{udp("192.0.2.10")});
    EXPECT_EQ(resolve(dns, {"2001:db8::10", 5080, Transport::Tcp}),
              std::vector{tcp("2001:db8::10", 5080)});
    EXPECT_TRUE(dns.asked.empty());
}

TEST(Rfc3263, AMalformedNameFailsWithoutAnyQuery) {
    FakeDns dns;
    for (const char* name : {"", "pcscf..ims", "-pcscf.ims", "pcscf_1.ims", "a b", "1.2.3.4.5:5"}) {
        Procedure procedure({name, {}, {}}, fixedRandom(0));
        EXPECT_TRUE(procedure.start().empty()) << name;
        EXPECT_TRUE(procedure.done()) << name;
        EXPECT_TRUE(procedure.targets().empty()) << name;
        EXPECT_NE(procedure.failure().find("neither a host name nor an IP literal"),
                  std::string::npos)
            << procedure.failure();
    }
}

TEST(Rfc3263, NaptrRecordsAreTriedByOrderThenPreference) {
    FakeDns dns;
    dns.naptr("ims.test", {naptr(20, 10, "SIP+D2T", "_sip._tcp.ims.test"),
                           naptr(10, 20, "SIP+D2U", "_sip._udp.second.ims.test"),
                           naptr(10, 10, "SIP+D2U", "_sip._udp.first.ims.test.")});
    dns.srv("_sip._udp.first.ims.test", {{0, 0, 5061, "p1.ims.test"}});
    dns.srv("_sip._udp.second.ims.test", {{0, 0, 5062, "p2.ims.test"}});
    dns.srv("_sip._tcp.ims.test", {{0, 0, 5063, "p1.ims.test"}});
    dns.a("p1.ims.test", {"192.0.2.1"});
    dns.a("p2.ims.test", {"192.0.2.2"});
    EXPECT_EQ(
        resolve(dns, {"ims.test", {}, {}}),
        (std::vector{udp("192.0.2.1", 5061), udp("192.0.2.2", 5062), tcp("192.0.2.1", 5063)}));
    ASSERT_GE(dns.asked.size(), 4u);
    EXPECT_EQ(dns.asked[0], (Query{RecordType::Naptr, "ims.test"}));
    EXPECT_EQ(dns.asked[1], (Query{RecordType::Srv, "_sip._udp.first.ims.test"}));
    EXPECT_EQ(dns.asked[2], (Query{RecordType::Srv, "_sip._udp.second.ims.test"}));
    EXPECT_EQ(dns.asked[3], (Query{RecordType::Srv, "_sip._tcp.ims.test"}));
}

TEST(Rfc3263, OnlySipOverUdpOrTcpNaptrRecordsWithTheSFlagAreUsed) {
    auto usable =
        usableNaptr({naptr(10, 10, "SIPS+D2T", "_sips._tcp.ims.test"),
                     naptr(10, 20, "SIP+D2S", "_sip._sctp.ims.test"),
                     naptr(10, 30, "SIP+D2U", "p.ims.test", "a"),
                     naptr(10, 40, "E2U+sip", "!^.*$!sip:x@y!", "u"), naptr(10, 50, "SIP+D2U", "."),
                     naptr(30, 10, "sip+d2t", "_sip._tcp.ims.test", "S"),
                     naptr(20, 10, "SIP+D2U", "_sip._udp.ims.test")},
                    {Transport::Udp, Transport::Tcp});
    ASSERT_EQ(usable.size(), 2u);
    EXPECT_EQ(usable[0].replacement, "_sip._udp.ims.test");
    EXPECT_EQ(naptrTransport(usable[0]), Transport::Udp);
    EXPECT_EQ(usable[1].replacement, "_sip._tcp.ims.test");
    EXPECT_EQ(naptrTransport(usable[1]), Transport::Tcp);
    // A client of one transport keeps that transport's records only.
    auto tcpOnly = usableNaptr(usable, {Transport::Tcp});
    ASSERT_EQ(tcpOnly.size(), 1u);
    EXPECT_EQ(naptrTransport(tcpOnly[0]), Transport::Tcp);
}

TEST(Rfc3263, NaptrRecordsOfOtherServicesAloneMeanTheSrvNamesOfEachTransport) {
    FakeDns dns;
    dns.naptr("ims.test", {naptr(10, 10, "SIPS+D2T", "_sips._tcp.ims.test")});
    dns.srv("_sip._tcp.ims.test", {{0, 0, 5060, "p.ims.test"}});
    dns.a("p.ims.test", {"192.0.2.5"});
    EXPECT_EQ(resolve(dns, {"ims.test", {}, {}}), std::vector{tcp("192.0.2.5")});
}

TEST(Rfc3263, WithoutNaptrTheUdpThenTheTcpSrvNameIsAsked) {
    FakeDns dns;
    dns.srv("_sip._udp.ims.test", {{0, 0, 5070, "u.ims.test"}});
    dns.srv("_sip._tcp.ims.test", {{0, 0, 5071, "t.ims.test"}});
    dns.a("u.ims.test", {"192.0.2.7"});
    dns.a("t.ims.test", {"192.0.2.8"});
    EXPECT_EQ(resolve(dns, {"ims.test", {}, {}}),
              (std::vector{udp("192.0.2.7", 5070), tcp("192.0.2.8", 5071)}));
    EXPECT_EQ(dns.asked[1], (Query{RecordType::Srv, "_sip._udp.ims.test"}));
    EXPECT_EQ(dns.asked[2], (Query{RecordType::Srv, "_sip._tcp.ims.test"}));
}

TEST(Rfc3263, WithoutSrvTheNamesOwnAddressesOnTheDefaultPort) {
    FakeDns dns;
    dns.aaaa("pcscf.ims.test", {"2001:db8::1"});
    dns.a("pcscf.ims.test", {"192.0.2.1", "192.0.2.2"});
    EXPECT_EQ(resolve(dns, {"pcscf.ims.test", {}, {}}),
              (std::vector{udp("2001:db8::1"), udp("192.0.2.1"), udp("192.0.2.2")}));
    // The transport the NAPTR record chose stays.
    FakeDns viaNaptr;
    viaNaptr.naptr("pcscf.ims.test", {naptr(10, 10, "SIP+D2T", "_sip._tcp.pcscf.ims.test")});
    viaNaptr.a("pcscf.ims.test", {"192.0.2.1"});
    EXPECT_EQ(resolve(viaNaptr, {"pcscf.ims.test", {}, {}}), std::vector{tcp("192.0.2.1")});
}

TEST(Rfc3263, AnExplicitTransportAsksItsSrvNameWithoutNaptr) {
    FakeDns dns;
    dns.naptr("ims.test", {naptr(10, 10, "SIP+D2U", "_sip._udp.ims.test")});
    dns.srv("_sip._udp.ims.test", {{0, 0, 5060, "u.ims.test"}});
    dns.srv("_sip._tcp.ims.test", {{0, 0, 5080, "t.ims.test"}});
    dns.a("u.ims.test", {"192.0.2.7"});
    dns.a("t.ims.test", {"192.0.2.8"});
    EXPECT_EQ(resolve(dns, {"ims.test", {}, Transport::Tcp}), std::vector{tcp("192.0.2.8", 5080)});
    EXPECT_EQ(dns.asked.front(), (Query{RecordType::Srv, "_sip._tcp.ims.test"}));
}

TEST(Rfc3263, AnExplicitPortAsksOnlyTheNamesAddresses) {
    FakeDns dns;
    dns.naptr("pcscf.ims.test", {naptr(10, 10, "SIP+D2U", "_sip._udp.pcscf.ims.test")});
    dns.srv("_sip._udp.pcscf.ims.test", {{0, 0, 5060, "other.ims.test"}});
    dns.a("pcscf.ims.test", {"192.0.2.1"});
    EXPECT_EQ(resolve(dns, {"pcscf.ims.test.", 5090, {}}), std::vector{udp("192.0.2.1", 5090)});
    for (const auto& query : dns.asked)
        EXPECT_TRUE(query.type == RecordType::A || query.type == RecordType::Aaaa);
}

TEST(Rfc3263, IPv6AddressesOfAHostComeBeforeItsIPv4OnesAndHostsKeepTheSrvOrder) {
    FakeDns dns;
    dns.srv("_sip._udp.ims.test", {{20, 0, 5060, "b.ims.test"}, {10, 0, 5060, "a.ims.test"}});
    dns.a("a.ims.test", {"192.0.2.1"});
    dns.aaaa("a.ims.test", {"2001:db8::a"});
    dns.a("b.ims.test", {"192.0.2.2"});
    dns.aaaa("b.ims.test", {"2001:db8::b"});
    EXPECT_EQ(
        resolve(dns, {"ims.test", {}, Transport::Udp}),
        (std::vector{udp("2001:db8::a"), udp("192.0.2.1"), udp("2001:db8::b"), udp("192.0.2.2")}));
}

TEST(Rfc3263, SrvTargetsOfDotMeanTheServiceIsNotOfferedAndNothingElseIsTried) {
    FakeDns dns;
    dns.srv("_sip._udp.ims.test", {{0, 0, 0, "."}});
    dns.a("ims.test", {"192.0.2.1"});
    Procedure procedure({"ims.test", {}, Transport::Udp}, fixedRandom(0));
    dns.run(procedure);
    EXPECT_TRUE(procedure.targets().empty());
    EXPECT_NE(procedure.failure().find("no target offers SIP"), std::string::npos)
        << procedure.failure();
}

TEST(Rfc3263, DuplicateTargetsAppearOnceAndHostsAreBounded) {
    FakeDns dns;
    std::vector<SrvRecord> many;
    for (int i = 0; i < 40; ++i)
        many.push_back({static_cast<uint16_t>(i), 0, 5060, "h" + std::to_string(i) + ".ims.test"});
    dns.srv("_sip._udp.ims.test", many);
    for (int i = 0; i < 40; ++i) dns.a("h" + std::to_string(i) + ".ims.test", {"192.0.2.1"});
    EXPECT_EQ(resolve(dns, {"ims.test", {}, Transport::Udp}), std::vector{udp("192.0.2.1")});
    size_t addressQueries = 0;
    for (const auto& query : dns.asked)
        if (query.type == RecordType::A) ++addressQueries;
    EXPECT_EQ(addressQueries, Procedure::kMaxHosts);
}

TEST(Rfc3263, AFailureNamesEveryQueryThatGaveNothing) {
    FakeDns dns;
    dns.fail(RecordType::Naptr, "ims.test", "Timeout while contacting DNS servers");
    Procedure procedure({"ims.test", {}, {}}, fixedRandom(0));
    dns.run(procedure);
    EXPECT_TRUE(procedure.targets().empty());
    const auto& why = procedure.failure();
    EXPECT_NE(why.find("no address for ims.test"), std::string::npos) << why;
    EXPECT_NE(why.find("NAPTR ims.test: Timeout"), std::string::npos) << why;
    EXPECT_NE(why.find("SRV _sip._udp.ims.test"), std::string::npos) << why;
    EXPECT_NE(why.find("SRV _sip._tcp.ims.test"), std::string::npos) << why;
    EXPECT_NE(why.find("A ims.test"), std::string::npos) << why;
    EXPECT_NE(why.find("AAAA ims.test"), std::string::npos) << why;
}

TEST(Rfc3263, AnswersToQueriesNeverAskedAreIgnored) {
    Procedure procedure({"ims.test", {}, {}}, fixedRandom(0));
    auto first = procedure.start();
    ASSERT_EQ(first.size(), 1u);
    Answer stray;
    stray.status = Answer::Status::Records;
    stray.addresses = {"192.0.2.66"};
    EXPECT_TRUE(procedure.answer({RecordType::A, "evil.test"}, stray).empty());
    EXPECT_FALSE(procedure.done());
}

TEST(Rfc3263, HostNames) {
    for (const char* good : {"pcscf.ims.mnc001.mcc001.3gppnetwork.org", "p-1.x", "localhost",
                             "pcscf.ims.test.", "A1.B2"})
        EXPECT_TRUE(isHostName(good)) << good;
    std::string longLabel(64, 'a');
    std::string longName;
    for (int i = 0; i < 64; ++i) longName += "abc.";
    for (std::string bad :
         {std::string(""), std::string("."), std::string("a..b"), std::string("a-.b"),
          std::string("192.0.2.1"), std::string("::1"), longLabel + ".test", longName,
          std::string("a_b.test"), std::string("a.b/c")})
        EXPECT_FALSE(isHostName(bad)) << bad;
    EXPECT_EQ(toString(Target{"2001:db8::1", 5060, Transport::Tcp}), "[2001:db8::1]:5060/tcp");
    EXPECT_EQ(toString(Target{"192.0.2.1", 5080, Transport::Udp}), "192.0.2.1:5080/udp");
}

}  // namespace
}  // namespace imsaka::resolver::test
