#include "program.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace imsaka::e2e {
namespace {

TEST(EventTest, SplitsWordAndFields) {
    auto event = parseEvent("registered expires=600 port-uc=31000 register-ms=12.5");
    EXPECT_EQ(event.word, "registered");
    EXPECT_EQ(event.at("expires"), "600");
    EXPECT_EQ(event.number("port-uc"), 31000);
    EXPECT_TRUE(event.has("register-ms", "12.5"));
    EXPECT_FALSE(event.has("expires", "60"));
    EXPECT_EQ(event.line, "registered expires=600 port-uc=31000 register-ms=12.5");
}

TEST(EventTest, KeepsValuesWithEqualsSignsAndLooseWords) {
    auto event = parseEvent("created path=/a=b  extra words");
    EXPECT_EQ(event.at("path"), "/a=b");
    EXPECT_EQ(event.at(""), "extra words");
}

TEST(EventTest, MissingOrNonNumericFieldsNameTheLine) {
    auto event = parseEvent("failed error=sip-403");
    EXPECT_THROW(event.at("message"), std::runtime_error);
    try {
        event.number("error");
        FAIL() << "not a number";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("failed error=sip-403"), std::string::npos);
    }
}

TEST(ProgramTest, WaitsForEventsInOrderAndTalksOnStdin) {
    Program program("echo", {"sh", "-c",
                             "echo 'ready listen=x'; echo 'noise a=1'; read line; "
                             "echo \"got line=$line\"; exit 3"});
    EXPECT_EQ(program.waitFor("ready", 5s).at("listen"), "x");
    program.send("hello");
    EXPECT_EQ(program.waitFor("got", 5s, {{"line", "hello"}}).line, "got line=hello");
    EXPECT_TRUE(program.saw("noise", {{"a", "1"}}));
    EXPECT_EQ(program.waitExit(5s), 3);
    EXPECT_NE(program.log().find("echo| got line=hello"), std::string::npos);
}

TEST(ProgramTest, AFailedWaitSaysWhatWasMissingWithTheLogs) {
    Program program("quiet", {"sh", "-c", "echo 'started'; sleep 30"},
                    [] { return std::string("other logs"); });
    EXPECT_FALSE(program.poll("never", 50ms));
    try {
        program.waitFor("registered", 100ms, {{"expires", "600"}});
        FAIL() << "waitFor returned";
    } catch (const std::runtime_error& error) {
        std::string text = error.what();
        EXPECT_NE(text.find("no \"registered expires=600\" from quiet"), std::string::npos) << text;
        EXPECT_NE(text.find("other logs"), std::string::npos) << text;
    }
    EXPECT_EQ(program.stop(SIGTERM), 128 + SIGTERM);
    EXPECT_FALSE(program.running());
}

TEST(ProgramTest, AWaitEndsWhenTheOutputEnds) {
    Program program("short", {"sh", "-c", "echo 'one'"});
    auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(program.waitFor("two", 10s), std::runtime_error);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(program.waitExit(5s), 0);
}

TEST(ProgramTest, AMissingProgramIsAnError) {
    EXPECT_THROW(Program("none", {"/nonexistent/imsaka-none"}), std::runtime_error);
}

}  // namespace
}  // namespace imsaka::e2e
