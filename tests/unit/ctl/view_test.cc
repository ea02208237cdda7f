#include "view.h"

#include <gtest/gtest.h>

namespace imsaka::ctl {
namespace {

TEST(SnakeCase, SplitsPropertyNamesAtCapitals) {
    EXPECT_EQ(snakeCase("PcscfAddresses"), "pcscf_addresses");
    EXPECT_EQ(snakeCase("PortUc"), "port_uc");
    EXPECT_EQ(snakeCase("Impi"), "impi");
    EXPECT_EQ(snakeCase("MaxRegistrationsPerUser"), "max_registrations_per_user");
}

TEST(VariantToJson, KeepsStringsNumbersAndArrays) {
    EXPECT_EQ(toJson(sdbus::Variant(std::string("ready"))), "ready");
    EXPECT_EQ(toJson(sdbus::Variant(sdbus::ObjectPath("/org/imsaka/card/0"))),
              "/org/imsaka/card/0");
    EXPECT_EQ(toJson(sdbus::Variant(uint8_t{3})), 3);
    EXPECT_EQ(toJson(sdbus::Variant(uint16_t{65535})), 65535);
    EXPECT_EQ(toJson(sdbus::Variant(uint32_t{4000000000u})), 4000000000u);
    EXPECT_EQ(toJson(sdbus::Variant(uint64_t{1799999999999ull})), 1799999999999ull);
    EXPECT_EQ(toJson(sdbus::Variant(true)), true);
    EXPECT_EQ(toJson(sdbus::Variant(std::vector<std::string>{"sip:a@b", "tel:+1"})),
              json::parse(R"(["sip:a@b","tel:+1"])"));
    EXPECT_EQ(toJson(sdbus::Variant(std::vector<std::string>{})), json::array());
}

TEST(VariantToJson, HeaderListsArePairs) {
    using Pairs = std::vector<sdbus::Struct<std::string, std::string>>;
    EXPECT_EQ(toJson(sdbus::Variant(Pairs{{"User-Agent", "x/1"}})),
              json::parse(R"([["User-Agent","x/1"]])"));
}

TEST(VariantToJson, NamesATypeItDoesNotKnow) {
    auto value = toJson(sdbus::Variant(std::map<std::string, int32_t>{{"a", 1}}));
    EXPECT_EQ(value, json::parse(R"({"unsupported_type":"a{si}"})"));
}

TEST(ObjectPath, TakesANumberOrAPathOfTheRightKind) {
    EXPECT_EQ(objectPath(ObjectKind::Card, "3"), "/org/imsaka/card/3");
    EXPECT_EQ(objectPath(ObjectKind::Card, "/org/imsaka/card/12"), "/org/imsaka/card/12");
    EXPECT_EQ(objectPath(ObjectKind::Registration, "0"), "/org/imsaka/registration/0");
    EXPECT_THROW(objectPath(ObjectKind::Card, "/org/imsaka/registration/1"), UsageError);
    EXPECT_THROW(objectPath(ObjectKind::Card, "one"), UsageError);
    EXPECT_THROW(objectPath(ObjectKind::Card, ""), UsageError);
    EXPECT_THROW(objectPath(ObjectKind::Card, "-1"), UsageError);
    EXPECT_THROW(objectPath(ObjectKind::Registration, "1x"), UsageError);
}

TEST(PathLess, OrdersNumbersByValue) {
    EXPECT_TRUE(pathLess("/org/imsaka/card/2", "/org/imsaka/card/10"));
    EXPECT_FALSE(pathLess("/org/imsaka/card/10", "/org/imsaka/card/2"));
    EXPECT_TRUE(pathLess("/org/imsaka/registration/1", "/org/imsaka/registration/1/sa/0"));
    EXPECT_TRUE(pathLess("/org/imsaka/registration/1/sa/9", "/org/imsaka/registration/1/sa/10"));
    EXPECT_FALSE(pathLess("/org/imsaka/card/1", "/org/imsaka/card/1"));
}

ManagedObjects sampleObjects() {
    ManagedObjects objects;
    objects[sdbus::ObjectPath("/org/imsaka")]["org.imsaka.Manager1"]["Version"] =
        sdbus::Variant(std::string("0.1.0"));
    for (int n : {10, 2}) {
        auto& card = objects[sdbus::ObjectPath("/org/imsaka/card/" + std::to_string(n))];
        card[kCardInterface]["Reader"] = sdbus::Variant("Virtual PCD 00 0" + std::to_string(n));
        card[kCardInterface]["PinRetries"] = sdbus::Variant(uint8_t{3});
        card["org.freedesktop.DBus.Properties"];
    }
    objects[sdbus::ObjectPath("/org/imsaka/registration/1")][kRegistrationInterface]["State"] =
        sdbus::Variant(std::string("registered"));
    objects[sdbus::ObjectPath("/org/imsaka/registration/1/sa/0")][kSaSetInterface]["SpiUc"] =
        sdbus::Variant(uint32_t{1000});
    objects[sdbus::ObjectPath("/org/imsaka/registration/11/sa/0")][kSaSetInterface]["SpiUc"] =
        sdbus::Variant(uint32_t{2000});
    return objects;
}

TEST(ObjectsWith, ListsObjectsOfOneInterfaceInNumberOrder) {
    auto cards = objectsWith(sampleObjects(), kCardInterface);
    ASSERT_EQ(cards.size(), 2u);
    EXPECT_EQ(cards[0], json::parse(R"({"path":"/org/imsaka/card/2",
        "pin_retries":3,"reader":"Virtual PCD 00 02"})"));
    EXPECT_EQ(cards[1]["path"], "/org/imsaka/card/10");
    EXPECT_TRUE(objectsWith(sampleObjects(), "org.imsaka.Nothing1").empty());
}

TEST(SaSetsOf, TakesOnlyTheSetsBelowThatRegistration) {
    auto sets = saSetsOf(sampleObjects(), "/org/imsaka/registration/1");
    ASSERT_EQ(sets.size(), 1u);
    EXPECT_EQ(sets[0]["path"], "/org/imsaka/registration/1/sa/0");
    EXPECT_EQ(sets[0]["spi_uc"], 1000);
    EXPECT_EQ(objectsWith(sampleObjects(), kSaSetInterface).size(), 2u);
}

TEST(CountersToJson, NamesEachField) {
    std::vector<Counter> counters{Counter("A", "out", 4660u, 3ull, 1200ull),
                                  Counter("B", "in", 1000u, 0ull, 0ull)};
    EXPECT_EQ(toJson(counters), json::parse(R"([
        {"sa":"A","direction":"out","spi":4660,"packets":3,"bytes":1200},
        {"sa":"B","direction":"in","spi":1000,"packets":0,"bytes":0}])"));
}

TEST(MonitorEvents, AddedLeavesOutTheStandardInterfaces) {
    Interfaces interfaces;
    interfaces[kCardInterface]["State"] = sdbus::Variant(std::string("absent"));
    interfaces["org.freedesktop.DBus.Properties"];
    auto event = addedEvent("T", sdbus::ObjectPath("/org/imsaka/card/0"), interfaces);
    EXPECT_EQ(event, json::parse(R"({"time":"T","event":"added","path":"/org/imsaka/card/0",
        "interfaces":{"org.imsaka.Card1":{"state":"absent"}}})"));
    auto removed = removedEvent("T", sdbus::ObjectPath("/org/imsaka/card/0"),
                                {"org.freedesktop.DBus.Introspectable", kCardInterface});
    EXPECT_EQ(removed["interfaces"], json::parse(R"(["org.imsaka.Card1"])"));
}

TEST(MonitorEvents, ChangedCarriesNewValuesAndInvalidatedNames) {
    Properties changed{{"PinState", sdbus::Variant(std::string("verified"))}};
    auto event = changedEvent("T", "/org/imsaka/card/0", kCardInterface, changed, {"Impus"});
    EXPECT_EQ(event["changed"], json::parse(R"({"pin_state":"verified"})"));
    EXPECT_EQ(event["invalidated"], json::parse(R"(["impus"])"));
    EXPECT_FALSE(changedEvent("T", "/p", "i", changed, {}).contains("invalidated"));
}

TEST(MonitorEvents, DaemonEventsSayWhoOwnsTheName) {
    EXPECT_EQ(daemonEvent("T", true, ":1.7"),
              json::parse(R"({"time":"T","event":"daemon-started","owner":":1.7"})"));
    EXPECT_EQ(daemonEvent("T", false, ":1.7"),
              json::parse(R"({"time":"T","event":"daemon-stopped"})"));
    EXPECT_EQ(startedEvent("T", ""),
              json::parse(R"({"time":"T","event":"started","daemon_running":false})"));
    EXPECT_EQ(startedEvent("T", ":1.2")["owner"], ":1.2");
    EXPECT_EQ(refreshDueEvent("T", "/org/imsaka/registration/0", "expiry")["reason"], "expiry");
}

}  // namespace
}  // namespace imsaka::ctl
