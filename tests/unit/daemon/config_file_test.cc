// What a configuration file can hold that must never pass silently: lines of any length,
// bytes that are not text, keys set twice, values that name nothing on this host or do not
// fit together. Each stops parsing with a named error that says file, key, line and reason.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "imsaka/daemon/config.h"

namespace imsaka::daemon {
namespace {

ConfigError errorOf(std::string_view text) {
    try {
        parseConfig(text, "test.conf");
    } catch (const ConfigError& error) {
        return error;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return ConfigError(ConfigErrc::Syntax, "", "");
}

bool says(const ConfigError& error, const std::string& words) {
    return std::string(error.what()).find(words) != std::string::npos;
}

// A comment longer than any line buffer is one comment, wherever the buffer would end: its
// tail must never become a setting (a comment in [access] once turned on authenticate).
TEST(ConfigFile, ALongCommentStaysAComment) {
    for (size_t length : {198u, 199u, 200u, 201u, 4000u}) {
        std::string comment = "; " + std::string(length - 2, 'x');
        auto config = parseConfig("[access]\n" + comment + "authenticate = group\n");
        EXPECT_EQ(config.authenticate, AuthenticateAccess::Root) << "comment of " << length;
    }
}

TEST(ConfigFile, ALongValueIsReadWhole) {
    std::string reader(3000, 'r');
    auto config = parseConfig("[card]\nreaders = " + reader + ", second\n");
    ASSERT_EQ(config.readers.size(), 2u);
    EXPECT_EQ(config.readers[0], reader);
    EXPECT_EQ(config.readers[1], "second");
}

// The error names the line the value is on, however long the lines before it were.
TEST(ConfigFile, AnOverLongBadValueIsReportedAtItsOwnLine) {
    std::string text =
        "; " + std::string(500, 'c') + "\n[card]\napplication = " + std::string(700, 'v') + "\n";
    auto error = errorOf(text);
    EXPECT_EQ(error.code(), ConfigErrc::BadValue);
    EXPECT_EQ(error.where(), "test.conf [card] application");
    EXPECT_TRUE(says(error, "(line 3)")) << error.what();
    EXPECT_LT(std::string(error.what()).size(), 300u) << "the value is shortened in the message";
}

TEST(ConfigFile, ANulByteIsAnError) {
    auto error = errorOf(std::string("[access]\nauthenticate = root\0\ngroup = x\n", 41));
    EXPECT_EQ(error.code(), ConfigErrc::Syntax);
    EXPECT_EQ(error.where(), "test.conf:2");
    EXPECT_TRUE(says(error, "NUL byte")) << error.what();
}

TEST(ConfigFile, AKeySetTwiceIsAnError) {
    auto error = errorOf("[timers]\ntimer_f = 100\nsa_grace = 5\ntimer_f = 120\n");
    EXPECT_EQ(error.code(), ConfigErrc::Duplicate);
    EXPECT_EQ(error.where(), "test.conf [timers] timer_f");
    EXPECT_TRUE(says(error, "lines 2 and 4")) << error.what();
}

TEST(ConfigFile, AKeySetTwiceInARepeatedSectionIsAnError) {
    auto error = errorOf("[access]\nauthenticate = root\n[card]\n[access]\nauthenticate = group\n");
    EXPECT_EQ(error.code(), ConfigErrc::Duplicate);
    EXPECT_EQ(error.where(), "test.conf [access] authenticate");
}

TEST(ConfigFile, AGroupThatDoesNotExistIsAnError) {
    auto error = errorOf("[access]\n\ngroup = imsaka-no-such-group\n");
    EXPECT_EQ(error.code(), ConfigErrc::BadValue);
    EXPECT_EQ(error.where(), "test.conf [access] group");
    EXPECT_TRUE(says(error, "no such group")) << error.what();
    EXPECT_TRUE(says(error, "(line 3)")) << error.what();
    EXPECT_EQ(parseConfig("[access]\ngroup = root\n").group, "root");
}

TEST(ConfigFile, ARefreshMarginAboveTheThresholdIsInconsistent) {
    auto error = errorOf("[timers]\nrefresh_margin = 1300\n");  // threshold 1200 by default
    EXPECT_EQ(error.code(), ConfigErrc::Inconsistent);
    EXPECT_EQ(error.where(), "test.conf [timers] refresh_margin");
    EXPECT_TRUE(says(error, "refresh_threshold")) << error.what();
    EXPECT_NO_THROW(parseConfig("[timers]\nrefresh_margin = 1200\n"));
}

TEST(ConfigFile, ATimerFLongerThanRegAwaitAuthIsInconsistent) {
    auto error = errorOf("[timers]\nreg_await_auth = 100\ntimer_f = 128\n");
    EXPECT_EQ(error.code(), ConfigErrc::Inconsistent);
    EXPECT_EQ(error.where(), "test.conf [timers] timer_f");
    EXPECT_TRUE(says(error, "reg_await_auth")) << error.what();
    EXPECT_NO_THROW(parseConfig("[timers]\nreg_await_auth = 128\ntimer_f = 128\n"));
}

TEST(ConfigFile, AKeyBeforeAnySectionIsNamedWithItsLine) {
    auto error = errorOf("; settings\nauthenticate = group\n[access]\n");
    EXPECT_EQ(error.code(), ConfigErrc::UnknownSection);
    EXPECT_EQ(error.where(), "test.conf:2");
    EXPECT_TRUE(says(error, "authenticate")) << error.what();
}

TEST(ConfigFile, ADirectoryIsNotAConfigurationFile) {
    char path[] = "/tmp/imsakad-conf-dir.XXXXXX";
    ASSERT_NE(mkdtemp(path), nullptr);
    try {
        loadConfig(path, false);
        ADD_FAILURE() << "a directory was read as an empty configuration";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.code(), ConfigErrc::Unreadable);
        EXPECT_EQ(e.where(), path);
        EXPECT_TRUE(says(e, "directory")) << e.what();
    }
    rmdir(path);
}

}  // namespace
}  // namespace imsaka::daemon
