// RFC 2782's ordering of SRV records, with the random source fixed or counted.
#include <gtest/gtest.h>

#include <map>

#include "fake_dns.h"

namespace imsaka::resolver::test {
namespace {

std::vector<std::string> targetsOf(const std::vector<SrvRecord>& records) {
    std::vector<std::string> names;
    for (const auto& record : records) names.push_back(record.target);
    return names;
}

TEST(SrvOrder, LowerPriorityComesFirstWhateverTheWeight) {
    std::vector<SrvRecord> records{
        {20, 100, 5060, "late"}, {10, 0, 5060, "early"}, {15, 5, 5060, "middle"}};
    EXPECT_EQ(targetsOf(orderSrv(records, fixedRandom(1000))),
              (std::vector<std::string>{"early", "middle", "late"}));
}

TEST(SrvOrder, WithinAPriorityTheRunningSumOfWeightsPicks) {
    std::vector<SrvRecord> records{{10, 60, 5060, "a"}, {10, 40, 5060, "b"}};
    // Sum 100: a covers 0..60, b 61..100.
    EXPECT_EQ(targetsOf(orderSrv(records, fixedRandom(10))), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(targetsOf(orderSrv(records, fixedRandom(60))), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(targetsOf(orderSrv(records, fixedRandom(61))), (std::vector<std::string>{"b", "a"}));
    EXPECT_EQ(targetsOf(orderSrv(records, fixedRandom(100))), (std::vector<std::string>{"b", "a"}));
}

TEST(SrvOrder, WeightZeroRecordsComeFirstInTheSumSoTheyAreRarelyPickedFirst) {
    std::vector<SrvRecord> records{{10, 10, 5060, "weighted"}, {10, 0, 5060, "zero"}};
    EXPECT_EQ(targetsOf(orderSrv(records, fixedRandom(0))),
              (std::vector<std::string>{"zero", "weighted"}));
    EXPECT_EQ(targetsOf(orderSrv(records, fixedRandom(1))),
              (std::vector<std::string>{"weighted", "zero"}));
}

TEST(SrvOrder, TheRandomSourceIsAskedForAValueUpToTheRemainingSum) {
    std::vector<SrvRecord> records{{10, 3, 5060, "a"}, {10, 5, 5060, "b"}, {20, 7, 5060, "c"}};
    std::vector<uint32_t> bounds;
    orderSrv(records, [&](uint32_t bound) {
        bounds.push_back(bound);
        return 0u;
    });
    // Priority 10: sum 8, then 5 (a taken); priority 20: 7.
    EXPECT_EQ(bounds, (std::vector<uint32_t>{8, 5, 7}));
}

TEST(SrvOrder, WeightsShareTheFirstPlaceInProportion) {
    std::vector<SrvRecord> records{{10, 3, 5060, "three"}, {10, 1, 5060, "one"}};
    auto random = defaultRandom();
    std::map<std::string, int> first;
    for (int i = 0; i < 4000; ++i) ++first[orderSrv(records, random).front().target];
    // RFC 2782 draws from 0 to the sum (4) inclusive and takes the first record whose
    // running sum reaches the draw. The records stand by target: "one" takes draws 0..1,
    // "three" 2..4, so 2/5 and 3/5 (the first record's extra draw is the RFC's, which
    // gives weight-0 records their small chance). Expected 1600 and 2400; 6 standard
    // deviations (about 31 each) either side are allowed.
    EXPECT_NEAR(first["one"], 1600, 190);
    EXPECT_NEAR(first["three"], 2400, 190);
}

TEST(SrvOrder, DotTargetsAreDropped) {
    EXPECT_TRUE(orderSrv({{0, 0, 0, "."}}, fixedRandom(0)).empty());
    EXPECT_EQ(targetsOf(orderSrv({{0, 0, 0, "."}, {1, 0, 5060, "x"}}, fixedRandom(0))),
              (std::vector<std::string>{"x"}));
}

}  // namespace
}  // namespace imsaka::resolver::test
