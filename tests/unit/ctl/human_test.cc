#include "human.h"

#include <gtest/gtest.h>

#include <sstream>

namespace imsaka::ctl {
namespace {

constexpr std::time_t kNow = 1795264800;  // 2026-11-21 12:40:00 UTC

TEST(FormatDuration, UsesTheTwoLargestUnits) {
    EXPECT_EQ(formatDuration(0), "0s");
    EXPECT_EQ(formatDuration(59), "59s");
    EXPECT_EQ(formatDuration(599), "9m59s");
    EXPECT_EQ(formatDuration(7500), "2h05m");
    EXPECT_EQ(formatDuration(600000), "6d22h");
}

TEST(FormatExpiry, ShowsUtcTimeAndHowFarAway) {
    EXPECT_EQ(formatExpiry(0, kNow), "-");
    EXPECT_EQ(formatExpiry(kNow + 599, kNow), "2026-11-21 12:49:59 UTC (in 9m59s)");
    EXPECT_EQ(formatExpiry(kNow - 12, kNow), "2026-11-21 12:39:48 UTC (12s ago)");
}

TEST(FormatSpi, ShowsDecimalAndHex) {
    EXPECT_EQ(formatSpi(4660), "4660 (0x00001234)");
    EXPECT_EQ(formatSpi(4294967295u), "4294967295 (0xffffffff)");
}

std::string render(const std::function<void(std::ostream&)>& print) {
    std::ostringstream out;
    print(out);
    return out.str();
}

TEST(PrintCards, OneAlignedRowPerCard) {
    auto cards = json::parse(R"([
        {"path":"/org/imsaka/card/0","reader":"Virtual PCD 00 00","state":"ready",
         "application":"isim","impi":"user@ims.example.net"},
        {"path":"/org/imsaka/card/1","reader":"Virtual PCD 00 01","state":"absent",
         "application":"","impi":""}])");
    EXPECT_EQ(render([&](std::ostream& out) { printCards(out, cards); }),
              "CARD  READER             STATE   APP   IMPI\n"
              "0     Virtual PCD 00 00  ready   isim  user@ims.example.net\n"
              "1     Virtual PCD 00 01  absent  -     -\n");
    EXPECT_EQ(render([&](std::ostream& out) { printCards(out, json::array()); }),
              "No cards (no reader the daemon uses).\n");
}

TEST(PrintCard, ListsIdentitiesOnePerLineAndPinAndPukWithRetries) {
    auto card = json::parse(R"({"path":"/org/imsaka/card/0","reader":"Virtual PCD 00 00",
        "state":"ready","application":"isim","impi":"user@ims.example.net",
        "impus":["sip:user@ims.example.net","tel:+15551234"],"home_domain":"ims.example.net",
        "pcscf_addresses":[],"pin_state":"verified","pin_kind":"application","pin_retries":3,
        "puk_retries":10,"last_error":""})");
    EXPECT_EQ(render([&](std::ostream& out) { printCard(out, card); }),
              "Card /org/imsaka/card/0\n"
              "  Reader       Virtual PCD 00 00\n"
              "  State        ready\n"
              "  Application  isim\n"
              "  IMPI         user@ims.example.net\n"
              "  IMPUs        sip:user@ims.example.net\n"
              "               tel:+15551234\n"
              "  Home domain  ims.example.net\n"
              "  P-CSCFs      -\n"
              "  PIN          verified, 3 tries left\n"
              "  PUK          10 tries left\n");
}

TEST(PrintCard, SaysWhenTheUniversalPinGuardsTheCard) {
    auto card = json::parse(R"({"path":"/org/imsaka/card/0","state":"pin-required",
        "pin_state":"required","pin_kind":"universal","pin_retries":1,"puk_retries":0})");
    auto text = render([&](std::ostream& out) { printCard(out, card); });
    EXPECT_NE(text.find("  PIN          required, 1 try left (universal PIN)\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("  PUK          -\n"), std::string::npos) << text;
}

TEST(PrintCard, ShowsTheLastErrorOnlyWhenThereIsOne) {
    auto card = json::parse(R"({"path":"/org/imsaka/card/1","state":"error",
        "pin_state":"unknown","pin_retries":0,"last_error":"card removed"})");
    auto text = render([&](std::ostream& out) { printCard(out, card); });
    EXPECT_NE(text.find("  PIN          unknown\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  Last error   card removed\n"), std::string::npos) << text;
}

json sampleRegistration() {
    return json::parse(R"({"path":"/org/imsaka/registration/0","state":"registered",
        "owner":":1.42","card":"/org/imsaka/card/0","impi":"user@ims.example.net",
        "impu":"sip:user@ims.example.net","instance_id":"<urn:uuid:1>","reg_id":0,
        "transport":"udp","local_address":"192.0.2.1","pcscf_address":"192.0.2.10",
        "port_uc":5100,"port_us":5101,"port_pc":6100,"port_ps":6101,"expires":1795265399,
        "associated_uris":["sip:user@ims.example.net"],"barred_uris":[],
        "deregistered_uris":["tel:+15550000001"],
        "service_route":["<sip:scscf.ims.example.net;lr>"],"public_gruu":"",
        "temporary_gruu":"","last_error":"",
        "sa_sets":[{"path":"/org/imsaka/registration/0/sa/0","state":"established",
                    "integrity":"hmac-sha-1-96","encryption":"null","expires":1795265429}]})");
}

TEST(PrintRegistrations, OneRowWithRelativeExpiry) {
    json list = json::array({sampleRegistration()});
    EXPECT_EQ(
        render([&](std::ostream& out) { printRegistrations(out, list, kNow); }),
        "REG  STATE       IMPU                      P-CSCF      TRANSPORT  EXPIRES   OWNER\n"
        "0    registered  sip:user@ims.example.net  192.0.2.10  udp        in 9m59s  :1.42\n");
}

TEST(PrintRegistration, ShowsPortsExpiryUrisAndSaSets) {
    auto registration = sampleRegistration();
    auto text = render([&](std::ostream& out) { printRegistration(out, registration, kNow); });
    EXPECT_EQ(text,
              "Registration /org/imsaka/registration/0\n"
              "  State            registered\n"
              "  Owner            :1.42\n"
              "  Card             /org/imsaka/card/0\n"
              "  IMPI             user@ims.example.net\n"
              "  IMPU             sip:user@ims.example.net\n"
              "  Instance         <urn:uuid:1>\n"
              "  Reg-id           -\n"
              "  Transport        udp\n"
              "  Local address    192.0.2.1\n"
              "  P-CSCF           192.0.2.10\n"
              "  Ports            uc 5100  us 5101  pc 6100  ps 6101\n"
              "  Expires          2026-11-21 12:49:59 UTC (in 9m59s)\n"
              "  Associated URIs  sip:user@ims.example.net\n"
              "  Barred URIs      -\n"
              "  Deregistered     tel:+15550000001\n"
              "  Service-Route    <sip:scscf.ims.example.net;lr>\n"
              "  Public GRUU      -\n"
              "  Temporary GRUU   -\n"
              "  SA sets\n"
              "    /org/imsaka/registration/0/sa/0  established  hmac-sha-1-96 / null  "
              "expires 2026-11-21 12:50:29 UTC (in 10m29s)\n");
}

TEST(PrintRegistration, ShowsAFlowsOutboundItsFeatureTagsAndHeaders) {
    auto registration = sampleRegistration();
    registration["reg_id"] = 2u;
    registration["outbound"] = true;
    registration["feature_tags"] = json::parse(R"(["+g.3gpp.smsip"])");
    registration["headers"] = json::parse(R"([["P-Access-Network-Info","IEEE-802.11"]])");
    auto text = render([&](std::ostream& out) { printRegistration(out, registration, kNow); });
    EXPECT_NE(text.find("  Reg-id           2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  Outbound         yes\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  Feature tags     +g.3gpp.smsip\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  Headers          P-Access-Network-Info: IEEE-802.11\n"),
              std::string::npos)
        << text;
}

TEST(PrintRegistration, SaysSoWhenThereIsNoSaSetYet) {
    auto registration = sampleRegistration();
    registration["sa_sets"] = json::array();
    registration["last_error"] = "403 Forbidden";
    auto text = render([&](std::ostream& out) { printRegistration(out, registration, kNow); });
    EXPECT_TRUE(
        text.ends_with("  Last error       403 Forbidden\n"
                       "  SA sets          -\n"))
        << text;
}

TEST(PrintSaSets, ShowsBothSidesAndTheCountersOfEachSa) {
    auto sets = json::parse(R"([{"path":"/org/imsaka/registration/0/sa/0","state":"temporary",
        "integrity":"hmac-md5-96","encryption":"aes-cbc","local_address":"192.0.2.1",
        "pcscf_address":"192.0.2.10","spi_uc":1000,"spi_us":1001,"spi_pc":2000,"spi_ps":2001,
        "port_uc":5100,"port_us":5101,"port_pc":6100,"port_ps":6101,"expires":1795265040,
        "counters":[{"sa":"A","direction":"out","spi":2001,"packets":1,"bytes":812},
                    {"sa":"B","direction":"in","spi":1000,"packets":0,"bytes":0}]},
        {"path":"/org/imsaka/registration/0/sa/1","state":"established",
         "counters_error":"org.imsaka.Error.NotFound: gone"}])");
    auto text = render([&](std::ostream& out) { printSaSets(out, sets, kNow); });
    EXPECT_EQ(text,
              "SA set /org/imsaka/registration/0/sa/0\n"
              "  State       temporary\n"
              "  Algorithms  hmac-md5-96 / aes-cbc\n"
              "  UE          192.0.2.1  port-c 5100  port-s 5101  spi-c 1000  spi-s 1001\n"
              "  P-CSCF      192.0.2.10  port-c 6100  port-s 6101  spi-c 2000  spi-s 2001\n"
              "  Expires     2026-11-21 12:44:00 UTC (in 4m00s)\n"
              "  SA  DIR  SPI                PACKETS  BYTES\n"
              "  A   out  2001 (0x000007d1)  1        812\n"
              "  B   in   1000 (0x000003e8)  0        0\n"
              "\n"
              "SA set /org/imsaka/registration/0/sa/1\n"
              "  State       established\n"
              "  Algorithms  - / -\n"
              "  UE          -  port-c 0  port-s 0  spi-c 0  spi-s 0\n"
              "  P-CSCF      -  port-c 0  port-s 0  spi-c 0  spi-s 0\n"
              "  Expires     -\n"
              "  Counters unavailable: org.imsaka.Error.NotFound: gone\n");
}

TEST(MonitorLine, OneReadableLinePerEvent) {
    EXPECT_EQ(monitorLine(json::parse(R"({"time":"T","event":"added","path":"/org/imsaka/card/0",
        "interfaces":{"org.imsaka.Card1":{"reader":"Virtual PCD 00 00","state":"absent"}}})")),
              "T added /org/imsaka/card/0 Card1 state=absent");
    EXPECT_EQ(monitorLine(json::parse(R"({"time":"T","event":"changed",
        "path":"/org/imsaka/card/0","interface":"org.imsaka.Card1",
        "changed":{"impus":["sip:a","tel:1"],"last_error":"","reader":"A B"},
        "invalidated":["state"]})")),
              "T changed /org/imsaka/card/0 Card1 impus=[sip:a,tel:1] last_error=\"\" "
              "reader=\"A B\" state=?");
    EXPECT_EQ(monitorLine(json::parse(R"({"time":"T","event":"removed",
        "path":"/org/imsaka/registration/0/sa/1","interfaces":["org.imsaka.SecurityAssociation1"]})")),
              "T removed /org/imsaka/registration/0/sa/1 SecurityAssociation1");
    EXPECT_EQ(monitorLine(json::parse(R"({"time":"T","event":"refresh-due",
        "path":"/org/imsaka/registration/0","reason":"expiry"})")),
              "T refresh-due /org/imsaka/registration/0 reason=expiry");
    EXPECT_EQ(monitorLine(startedEvent("T", ":1.9")), "T started owner=:1.9");
    EXPECT_EQ(monitorLine(startedEvent("T", "")), "T started (imsakad is not running)");
    EXPECT_EQ(monitorLine(json::parse(R"({"time":"T","event":"daemon-started","owner":":1.9"})")),
              "T daemon-started owner=:1.9");
}

}  // namespace
}  // namespace imsaka::ctl
