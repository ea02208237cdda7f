#include "access.h"

#include <gtest/gtest.h>
#include <pwd.h>

namespace imsaka::daemon {
namespace {

// Uses the host's user database: root and nobody/nogroup exist on every Debian system.
constexpr uid_t kNobody = 65534;

TEST(Access, RootMayAlwaysAuthenticate) {
    DaemonConfig config;
    EXPECT_TRUE(mayAuthenticate(0, config));
}

TEST(Access, OthersMayNotAuthenticateByDefaultEvenInTheGroup) {
    ASSERT_NE(getpwuid(kNobody), nullptr) << "the host has no user nobody";
    DaemonConfig config;
    config.group = "nogroup";
    EXPECT_TRUE(userInGroup(kNobody, "nogroup"));
    EXPECT_FALSE(mayAuthenticate(kNobody, config));
}

TEST(Access, GroupMembersMayAuthenticateWhenTheConfigurationSaysSo) {
    DaemonConfig config;
    config.group = "nogroup";
    config.authenticate = AuthenticateAccess::Group;
    EXPECT_TRUE(mayAuthenticate(kNobody, config));
    config.group = "root";
    EXPECT_FALSE(mayAuthenticate(kNobody, config));
}

TEST(Access, ThePinIsRootsUnlessTheConfigurationOpensItToTheGroup) {
    DaemonConfig config;
    config.group = "nogroup";
    EXPECT_TRUE(mayUsePin(0, config));
    EXPECT_FALSE(mayUsePin(kNobody, config));
    config.pin = AuthenticateAccess::Group;
    EXPECT_TRUE(mayUsePin(kNobody, config));
    EXPECT_FALSE(mayAuthenticate(kNobody, config));  // each switch on its own
    config.group = "root";
    EXPECT_FALSE(mayUsePin(kNobody, config));
}

TEST(Access, UnknownUsersAndGroupsAreNotMembers) {
    EXPECT_FALSE(userInGroup(kNobody, "no-such-group-imsaka-test"));
    EXPECT_FALSE(userInGroup(4000000000u, "nogroup"));
}

}  // namespace
}  // namespace imsaka::daemon
