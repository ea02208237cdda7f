#include "descriptor_budget.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace imsaka::daemon {
namespace {

// LimitNOFILE= of the unit as shipped, or 0 when it sets none.
uint64_t unitFileLimit() {
    std::ifstream unit(IMSAKA_SOURCE_DIR "/systemd/imsakad.service.in");
    std::string line;
    while (std::getline(unit, line))
        if (line.rfind("LimitNOFILE=", 0) == 0) return std::stoull(line.substr(12));
    return 0;
}

TEST(DescriptorBudget, TwelvePerRegistrationOnTopOfTheDaemonsOwn) {
    DaemonConfig config;
    EXPECT_EQ(descriptorsNeeded(config), 64u + 12u * 64u);
    config.maxRegistrations = 200;
    EXPECT_EQ(descriptorsNeeded(config), 64u + 12u * 200u);
}

TEST(DescriptorBudget, TheUnitGivesWhatTheDefaultCapsNeed) {
    auto limit = unitFileLimit();
    ASSERT_GT(limit, 0u) << "systemd/imsakad.service.in sets no LimitNOFILE=";
    EXPECT_GE(limit, descriptorsNeeded(DaemonConfig{}));
}

}  // namespace
}  // namespace imsaka::daemon
