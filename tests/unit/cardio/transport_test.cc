#include <gtest/gtest.h>

#include "imsaka/cardio/error.h"
#include "scripted_transport.h"

namespace imsaka::cardio {
namespace {

using testing::hex;
using testing::ScriptedTransport;

Command readRecord(uint8_t cla, uint8_t length) {
    return {.cla = cla, .ins = 0xB2, .p1 = 1, .p2 = 4, .data = {}, .le = length};
}

TEST(Exchange, ReturnsDataAndStatusDirectlyOnT1) {
    ScriptedTransport card;
    card.expect("00b2010404", "0102030490 00");
    uint64_t exchanges = 0;
    Response r = exchange(card, readRecord(0x00, 4), &exchanges);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(toHex(r.data), "01020304");
    EXPECT_EQ(exchanges, 1u);
}

TEST(Exchange, FetchesDataWithGetResponseOnTheSameClass) {
    ScriptedTransport card;
    card.expect("0288008103aabbcc00", "6110")
        .expect("02c0000010", "00112233445566778899aabbccddeeff9000");
    uint64_t exchanges = 0;
    Command authenticate{
        .cla = 0x02, .ins = 0x88, .p1 = 0, .p2 = 0x81, .data = {0xaa, 0xbb, 0xcc}, .le = 0};
    Response r = exchange(card, authenticate, &exchanges);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.data.size(), 16u);
    EXPECT_EQ(exchanges, 2u);
    EXPECT_TRUE(card.done());
}

TEST(Exchange, FollowsRepeated61xxAndConcatenates) {
    ScriptedTransport card;
    card.expect("00b2010400", "6102")
        .expect("00c0000002", "aabb6101")
        .expect("00c0000001", "cc9000");
    Response r = exchange(card, readRecord(0x00, 0));
    EXPECT_EQ(toHex(r.data), "aabbcc");
    EXPECT_TRUE(r.ok());
}

TEST(Exchange, ResendsWithTheLengthThe6CxxAsksFor) {
    ScriptedTransport card;
    card.expect("00b2010410", "6c05").expect("00b2010405", "01020304059000");
    Response r = exchange(card, readRecord(0x00, 0x10));
    EXPECT_EQ(toHex(r.data), "0102030405");
}

TEST(Exchange, KeepsWarningStatusWordsForTheCaller) {
    ScriptedTransport card;
    card.expect("0020000100", "63c2");
    Response r = exchange(card, {.cla = 0, .ins = 0x20, .p1 = 0, .p2 = 1, .data = {}, .le = 0});
    EXPECT_EQ(r.sw, 0x63C2);
}

TEST(Exchange, RejectsAResponseShorterThanAStatusWord) {
    ScriptedTransport card;
    card.expect("00b2010404", "90");
    try {
        exchange(card, readRecord(0x00, 4));
        FAIL() << "no error";
    } catch (const CardError& e) {
        EXPECT_EQ(e.code(), CardErrc::MalformedResponse);
    }
}

TEST(Exchange, GivesUpOnACardThatAnswers61xxForEver) {
    ScriptedTransport card;
    card.expect("00b2010400", "6101");
    for (int i = 0; i < 64; ++i) card.expect("00c0000001", "ff6101");
    EXPECT_THROW(exchange(card, readRecord(0x00, 0)), CardError);
}

TEST(Exchange, RejectsASecond6CxxForTheSameCommand) {
    ScriptedTransport card;
    card.expect("00b2010410", "6c05").expect("00b2010405", "6c04");
    EXPECT_THROW(exchange(card, readRecord(0x00, 0x10)), CardError);
}

TEST(CommandEncoding, CoversTheFourCases) {
    EXPECT_EQ(
        toHex(Command{.cla = 0, .ins = 0x70, .p1 = 0x80, .p2 = 1, .data = {}, .le = {}}.encode()),
        "00708001");
    EXPECT_EQ(toHex(Command{.cla = 0, .ins = 0xB0, .p1 = 0, .p2 = 0, .data = {}, .le = 0}.encode()),
              "00b0000000");
    EXPECT_EQ(toHex(Command{.cla = 0, .ins = 0xA4, .p1 = 0, .p2 = 0x0C, .data = {0x3f, 0}, .le = {}}
                        .encode()),
              "00a4000c023f00");
    EXPECT_EQ(
        toHex(Command{.cla = 1, .ins = 0xA4, .p1 = 4, .p2 = 4, .data = {0xa0}, .le = 0}.encode()),
        "01a4040401a000");
}

}  // namespace
}  // namespace imsaka::cardio
