// imsakad with a configuration it must refuse: each case stops it at start with exit status
// 2 and one log line naming the file, the key and the reason, before it reaches the bus or
// the kernel (the test runs it with no bus to reach, in a network namespace of its own).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

class DaemonStart : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_NE(mkdtemp(dir_), nullptr);
        path_ = std::string(dir_) + "/imsakad.conf";
    }
    void TearDown() override { std::system(("rm -rf " + std::string(dir_)).c_str()); }

    // Runs imsakad --config on `text`; returns its exit status and what it logged.
    std::pair<int, std::string> start(const std::string& text, std::string config = "") {
        if (config.empty()) {
            std::ofstream(path_, std::ios::binary) << text;
            config = path_;
        }
        std::string log = std::string(dir_) + "/log";
        // No bus to reach: a configuration accepted by mistake ends at the bus, not later.
        std::string command = "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + std::string(dir_) +
                              "/no-bus RUNTIME_DIRECTORY=" + dir_ + " " + IMSAKAD_PATH +
                              " --config " + config + " >" + log + " 2>&1";
        int status = std::system(command.c_str());
        std::ifstream in(log);
        std::stringstream output;
        output << in.rdbuf();
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output.str()};
    }
    void expectRefused(const std::string& text, const std::string& key, const std::string& reason,
                       std::string config = "") {
        auto [status, output] = start(text, config);
        EXPECT_EQ(status, 2) << output;
        EXPECT_NE(output.find(config.empty() ? path_ : config), std::string::npos) << output;
        EXPECT_NE(output.find(key), std::string::npos) << output;
        EXPECT_NE(output.find(reason), std::string::npos) << output;
    }

    char dir_[32] = "/tmp/imsakad-start.XXXXXX";
    std::string path_;
};

TEST_F(DaemonStart, RefusesADirectory) {
    expectRefused("", "", "directory", dir_);
}

TEST_F(DaemonStart, RefusesANulByte) {
    expectRefused(std::string("[access]\ngroup = root\0\n", 23), ":2", "NUL byte");
}

TEST_F(DaemonStart, RefusesAKeySetTwice) {
    expectRefused("[access]\nauthenticate = root\nauthenticate = group\n", "[access] authenticate",
                  "set twice");
}

TEST_F(DaemonStart, RefusesAGroupThatDoesNotExist) {
    expectRefused("[access]\ngroup = imsaka-no-such-group\n", "[access] group", "no such group");
}

TEST_F(DaemonStart, RefusesARefreshMarginAboveTheThreshold) {
    expectRefused("[timers]\nrefresh_margin = 900\nrefresh_threshold = 600\n",
                  "[timers] refresh_margin", "refresh_threshold");
}

TEST_F(DaemonStart, RefusesATimerFLongerThanRegAwaitAuth) {
    expectRefused("[timers]\ntimer_f = 300\n", "[timers] timer_f", "reg_await_auth");
}

TEST_F(DaemonStart, RefusesAnOverLongBadValueAtItsLine) {
    expectRefused("[card]\napplication = " + std::string(5000, 'v') + "\n", "[card] application",
                  "(line 2)");
}

}  // namespace
