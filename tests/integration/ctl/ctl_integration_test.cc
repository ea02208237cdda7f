// imsakactl against the real imsakad on a private bus, with pcscd, vpcd and imsaka-vicc
// (tests/support/daemon-sandbox.sh). Each suite runs in its own sandbox (CMakeLists.txt):
// CtlWithDaemon with one card, CtlWithPin with a PIN-enabled card, CtlWithoutDaemon with the
// bus and card but no daemon.
#include <gtest/gtest.h>
#include <imsaka/dbus/Manager1_proxy.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "process.h"

namespace imsaka::testing {
namespace {

using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

constexpr const char* kImpi = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0')
        throw std::runtime_error(std::string(name) + " is not set: run inside daemon-sandbox.sh");
    return value;
}

Finished ctl(const std::vector<std::string>& args, const std::string& input = "") {
    return run(IMSAKACTL_PATH, args, input);
}

json ctlJson(const std::vector<std::string>& args) {
    std::vector<std::string> withJson(args.size() + 1);
    withJson[0] = "--json";
    std::copy(args.begin(), args.end(), withJson.begin() + 1);
    auto result = ctl(withJson);
    EXPECT_EQ(result.status, 0) << result.err << result.out;
    return json::parse(result.out);
}

json cardByReader(const json& cards, const std::string& reader) {
    for (const auto& card : cards)
        if (card["reader"] == reader) return card;
    ADD_FAILURE() << "no card object for reader " << reader << " in " << cards.dump();
    return json::object();
}

// The daemon owns its name before it has read the card; wait for the card to settle.
json waitForCardState(const std::string& reader, const std::string& state) {
    json card;
    for (int i = 0; i < 200; ++i) {
        card = cardByReader(ctlJson({"cards"})["cards"], reader);
        if (card.value("state", "") == state) return card;
        std::this_thread::sleep_for(25ms);
    }
    ADD_FAILURE() << reader << " never reached state " << state << ": " << card.dump();
    return card;
}

pid_t firstCardPid() {
    return std::stoi(environment("SANDBOX_VICC_PIDS"));
}

// Reads monitor lines until one satisfies `match`; fails after five seconds.
json waitForEvent(Running& monitor, const std::function<bool(const json&)>& match) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto line = monitor.readLine(500ms);
        if (!line) continue;
        json event = json::parse(*line);
        if (match(event)) return event;
    }
    ADD_FAILURE() << "monitor printed no such event";
    return json::object();
}

class CtlWithDaemon : public ::testing::Test {
  protected:
    void SetUp() override { waitForCardState("Virtual PCD 00 00", "ready"); }
};

TEST_F(CtlWithDaemon, CardsListsBothReadersWithTheirState) {
    auto cards = ctlJson({"cards"})["cards"];
    ASSERT_EQ(cards.size(), 2u) << cards.dump();
    auto first = cardByReader(cards, "Virtual PCD 00 00");
    EXPECT_EQ(first["state"], "ready");
    EXPECT_EQ(first["application"], "isim");
    EXPECT_EQ(cardByReader(cards, "Virtual PCD 00 01")["state"], "absent");
    for (const auto& card : cards)
        EXPECT_TRUE(card["path"].get<std::string>().starts_with("/org/imsaka/card/"));

    auto human = ctl({"cards"});
    EXPECT_EQ(human.status, 0) << human.err;
    EXPECT_TRUE(human.out.starts_with("CARD  READER             STATE   APP   IMPI\n"))
        << human.out;
    EXPECT_NE(human.out.find("Virtual PCD 00 00  ready   isim  " + std::string(kImpi)),
              std::string::npos)
        << human.out;
}

TEST_F(CtlWithDaemon, CardShowsTheIsimIdentitiesByNumberOrPath) {
    auto listed = cardByReader(ctlJson({"cards"})["cards"], "Virtual PCD 00 00");
    std::string path = listed["path"];
    std::string number = path.substr(path.rfind('/') + 1);
    auto card = ctlJson({"card", number});
    EXPECT_EQ(card["path"], path);
    EXPECT_EQ(card["impi"], kImpi);
    EXPECT_EQ(card["impus"],
              json::parse(R"(["sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
                                              "tel:+15550000001"])"));
    EXPECT_EQ(card["home_domain"], "ims.mnc001.mcc001.3gppnetwork.org");
    EXPECT_EQ(card["pcscf_addresses"],
              json::parse(R"(["pcscf.ims.mnc001.mcc001.3gppnetwork.org"])"));
    EXPECT_EQ(card["pin_state"], "disabled");
    EXPECT_EQ(ctlJson({"card", path}), card);

    auto human = ctl({"card", number});
    EXPECT_EQ(human.status, 0) << human.err;
    EXPECT_NE(human.out.find("  Application  isim\n"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("               tel:+15550000001\n"), std::string::npos) << human.out;
}

TEST_F(CtlWithDaemon, NoRegistrationsAndNoSaSetsYet) {
    EXPECT_EQ(ctlJson({"registrations"}), json::parse(R"({"registrations":[]})"));
    EXPECT_EQ(ctlJson({"sa"}), json::parse(R"({"sa_sets":[]})"));
    EXPECT_EQ(ctl({"registrations"}).out, "No registrations.\n");
    EXPECT_EQ(ctl({"sa"}).out, "No SA sets.\n");
}

TEST_F(CtlWithDaemon, UnknownObjectsExitWithFour) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"card", "77"}, {"registration", "3"}, {"sa", "/org/imsaka/registration/9"}}) {
        auto result = ctl(args);
        EXPECT_EQ(result.status, 4) << args[0] << ": " << result.err;
        EXPECT_NE(result.err.find("org.freedesktop.DBus.Error.UnknownObject"), std::string::npos)
            << result.err;
    }
}

TEST_F(CtlWithDaemon, MonitorShowsTheCardLeavingAndComingBack) {
    auto path = cardByReader(ctlJson({"cards"})["cards"], "Virtual PCD 00 00")["path"];
    Running monitor(IMSAKACTL_PATH, {"--json", "monitor"});
    auto started = monitor.readLine(5s);
    ASSERT_TRUE(started);
    auto first = json::parse(*started);
    EXPECT_EQ(first["event"], "started");
    EXPECT_EQ(first["daemon_running"], true);

    kill(firstCardPid(), SIGUSR1);
    auto pulled = waitForEvent(monitor, [&](const json& event) {
        return event["event"] == "changed" && event["path"] == path &&
               event["changed"].value("state", "") == "absent";
    });
    EXPECT_EQ(pulled["interface"], "org.imsaka.Card1");

    kill(firstCardPid(), SIGUSR2);
    waitForEvent(monitor, [&](const json& event) {
        return event["event"] == "changed" && event["path"] == path &&
               event["changed"].value("state", "") == "ready";
    });
    monitor.signal(SIGINT);
    EXPECT_EQ(monitor.wait(5s), 0);
}

TEST_F(CtlWithDaemon, VerifyPinNeverTakesThePinFromTheCommandLine) {
    auto result = ctl({"verify-pin", "1234"});
    EXPECT_EQ(result.status, 2) << result.err;
    auto empty = ctl({"verify-pin", "--card", "0"}, "");
    EXPECT_EQ(empty.status, 2) << empty.err;
    EXPECT_NE(empty.err.find("no PIN given"), std::string::npos) << empty.err;
}

// A SIP application's side: a bus connection of its own that creates a registration.
class Application {
  public:
    Application() : connection_(sdbus::createSystemBusConnection()), manager_(*connection_) {}
    std::string createRegistration(const std::map<std::string, sdbus::Variant>& options) {
        return manager_.CreateRegistration(options);
    }
    std::string uniqueName() const { return connection_->getUniqueName(); }

  private:
    class Manager final : public sdbus::ProxyInterfaces<org::imsaka::Manager1_proxy> {
      public:
        explicit Manager(sdbus::IConnection& connection)
            : ProxyInterfaces(connection, "org.imsaka", "/org/imsaka") {
            registerProxy();
        }
        ~Manager() { unregisterProxy(); }
    };
    std::unique_ptr<sdbus::IConnection> connection_;
    Manager manager_;
};

TEST_F(CtlWithDaemon, RegistrationShowsItsOwnerOptionsAndNoSaSetsBeforeRegister) {
    auto application = std::make_unique<Application>();
    std::string path = application->createRegistration(
        {{"pcscf", sdbus::Variant(environment("SANDBOX_PCSCF_ADDRESS"))},
         {"local_address", sdbus::Variant(environment("SANDBOX_UE_ADDRESS"))},
         {"transport", sdbus::Variant("tcp")},
         {"reg_id", sdbus::Variant(uint32_t{2})}});
    auto listed = ctlJson({"registrations"})["registrations"];
    ASSERT_EQ(listed.size(), 1u) << listed.dump();
    EXPECT_EQ(listed[0]["path"], path);
    EXPECT_EQ(listed[0]["owner"], application->uniqueName());

    std::string number = path.substr(path.rfind('/') + 1);
    auto registration = ctlJson({"registration", number});
    EXPECT_EQ(registration["state"], "idle");
    EXPECT_EQ(registration["impi"], kImpi);
    EXPECT_EQ(registration["impu"], "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org");
    EXPECT_EQ(registration["transport"], "tcp");
    EXPECT_EQ(registration["reg_id"], 2);
    EXPECT_EQ(registration["local_address"], environment("SANDBOX_UE_ADDRESS"));
    EXPECT_EQ(registration["pcscf_address"], environment("SANDBOX_PCSCF_ADDRESS"));
    EXPECT_EQ(registration["expires"], 0);
    EXPECT_EQ(registration["sa_sets"], json::array());
    EXPECT_EQ(ctlJson({"sa", number}), json::parse(R"({"sa_sets":[]})"));

    auto human = ctl({"registration", path});
    EXPECT_EQ(human.status, 0) << human.err;
    EXPECT_TRUE(human.out.starts_with("Registration " + path + "\n  State            idle\n"))
        << human.out;
    EXPECT_NE(human.out.find("  Reg-id           2\n"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("  SA sets          -\n"), std::string::npos) << human.out;

    // The owner leaves the bus: monitor sees the registration go.
    Running monitor(IMSAKACTL_PATH, {"--json", "monitor"});
    ASSERT_TRUE(monitor.readLine(5s));
    application.reset();
    auto removed = waitForEvent(monitor, [&](const json& event) {
        return event["event"] == "removed" && event["path"] == path;
    });
    EXPECT_EQ(removed["interfaces"], json::parse(R"(["org.imsaka.Registration1"])"));
    EXPECT_EQ(ctlJson({"registrations"}), json::parse(R"({"registrations":[]})"));
    monitor.signal(SIGINT);
    EXPECT_EQ(monitor.wait(5s), 0);
}

class CtlWithPin : public ::testing::Test {
  protected:
    void SetUp() override { waitForCardState("Virtual PCD 00 00", "pin-required"); }
};

TEST_F(CtlWithPin, WrongPinExitsWithSixThenTheRightOneReadsTheIdentities) {
    auto card = cardByReader(ctlJson({"cards"})["cards"], "Virtual PCD 00 00");
    std::string path = card["path"];
    EXPECT_EQ(card["pin_state"], "required");
    EXPECT_EQ(card["impi"], "");

    auto wrong = ctl({"verify-pin", "--card", path}, "0000\n");
    EXPECT_EQ(wrong.status, 6) << wrong.err;
    EXPECT_NE(wrong.err.find("org.imsaka.Error.WrongPin"), std::string::npos) << wrong.err;
    EXPECT_EQ(ctlJson({"card", path})["pin_retries"], 2);

    std::string pinFile = environment("SANDBOX_DIR") + "/pin";
    std::ofstream(pinFile) << "1234\n";
    auto right = ctlJson({"verify-pin", "--card", path, "--pin-file", pinFile});
    EXPECT_EQ(right["card"], path);
    EXPECT_EQ(right["verified"], true);
    // A verified PIN1 reports no counter on most cards: 0 means "not reported".
    EXPECT_TRUE(right["retries_left"].is_number_unsigned()) << right.dump();
    auto ready = waitForCardState("Virtual PCD 00 00", "ready");
    EXPECT_EQ(ready["impi"], kImpi);
    EXPECT_EQ(ready["pin_state"], "verified");
}

TEST_F(CtlWithPin, CardShowsThePinAndPukCounters) {
    auto card = cardByReader(ctlJson({"cards"})["cards"], "Virtual PCD 00 00");
    std::string path = card["path"];
    EXPECT_EQ(card["pin_retries"], 3);
    EXPECT_EQ(card["puk_retries"], 10);
    EXPECT_EQ(card["pin_kind"], "application");
    auto human = ctl({"card", path});
    EXPECT_NE(human.out.find("  PIN          required, 3 tries left\n"), std::string::npos)
        << human.out;
    EXPECT_NE(human.out.find("  PUK          10 tries left\n"), std::string::npos) << human.out;
}

TEST_F(CtlWithPin, UnblockPinTakesThePukAndTheNewPinFromStdinOrAFileNeverTheCommandLine) {
    std::string path = cardByReader(ctlJson({"cards"})["cards"], "Virtual PCD 00 00")["path"];
    EXPECT_EQ(ctl({"unblock-pin", "12345678", "4321"}).status, 2);
    auto onlyPuk = ctl({"unblock-pin", "--card", path}, "12345678\n");
    EXPECT_EQ(onlyPuk.status, 2) << onlyPuk.err;
    EXPECT_NE(onlyPuk.err.find("no new PIN given"), std::string::npos) << onlyPuk.err;
    // Not blocked yet: the daemon refuses to spend a PUK try.
    auto notBlocked = ctl({"unblock-pin", "--card", path}, "12345678\n4321\n");
    EXPECT_EQ(notBlocked.status, 1) << notBlocked.err;
    EXPECT_NE(notBlocked.err.find("org.imsaka.Error.WrongState"), std::string::npos)
        << notBlocked.err;

    for (int i = 0; i < 3; ++i) ctl({"verify-pin", "--card", path}, "0000\n");
    waitForCardState("Virtual PCD 00 00", "pin-blocked");
    auto wrongPuk = ctl({"unblock-pin", "--card", path}, "87654321\n4321\n");
    EXPECT_EQ(wrongPuk.status, 6) << wrongPuk.err;
    EXPECT_NE(wrongPuk.err.find("org.imsaka.Error.WrongPuk"), std::string::npos) << wrongPuk.err;
    EXPECT_EQ(ctlJson({"card", path})["puk_retries"], 9);

    std::string file = environment("SANDBOX_DIR") + "/puk";
    std::ofstream(file) << "12345678\n4321\n";
    auto done = ctlJson({"unblock-pin", "--card", path, "--pin-file", file});
    EXPECT_EQ(done["card"], path);
    EXPECT_EQ(done["unblocked"], true);
    auto ready = waitForCardState("Virtual PCD 00 00", "ready");
    EXPECT_EQ(ready["pin_state"], "verified");
    EXPECT_EQ(ready["puk_retries"], 10);
}

TEST(CtlWithoutDaemon, CommandsSayTheDaemonIsNotRunning) {
    auto result = ctl({"cards"});
    EXPECT_EQ(result.status, 3);
    EXPECT_NE(result.err.find("org.freedesktop.DBus.Error.ServiceUnknown"), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("imsakad is not running"), std::string::npos) << result.err;
    auto asJson = ctl({"--json", "registrations"});
    EXPECT_EQ(asJson.status, 3);
    EXPECT_EQ(json::parse(asJson.out)["error"], "org.freedesktop.DBus.Error.ServiceUnknown");
}

TEST(CtlWithoutDaemon, AnUnreachableBusExitsWithThree) {
    auto result = ctl({"--address", "unix:path=/nonexistent/bus", "cards"});
    EXPECT_EQ(result.status, 3);
    EXPECT_NE(result.err.find("cannot connect to the bus"), std::string::npos) << result.err;
}

TEST(CtlWithoutDaemon, UsageErrorsExitWithTwoBeforeTouchingTheBus) {
    EXPECT_EQ(ctl({}).status, 2);
    EXPECT_EQ(ctl({"frobnicate"}).status, 2);
    EXPECT_EQ(ctl({"registration"}).status, 2);
    auto wrongKind = ctl({"card", "/org/imsaka/registration/0"});
    EXPECT_EQ(wrongKind.status, 2);
    EXPECT_NE(wrongKind.err.find("is not a number nor a path /org/imsaka/card/N"),
              std::string::npos)
        << wrongKind.err;
}

TEST(CtlWithoutDaemon, RegisterRunsImsakaRegisterWithTheSameArgumentsAndAddress) {
    auto help = ctl({"register", "--help"});
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("--local-address"), std::string::npos) << help.out;
    EXPECT_EQ(ctl({"register", "--pcscf", "10.46.0.2"}).status, 2);

    auto noDaemon = ctl({"register", "--pcscf", "10.46.0.2", "--local-address", "10.46.0.1"});
    EXPECT_EQ(noDaemon.status, 3);
    EXPECT_NE(noDaemon.out.find("failed error=org.freedesktop.DBus.Error.ServiceUnknown"),
              std::string::npos)
        << noDaemon.out;
    auto unreachable = ctl({"--address", "unix:path=/nonexistent/bus", "register", "--pcscf",
                            "10.46.0.2", "--local-address", "10.46.0.1"});
    EXPECT_EQ(unreachable.status, 3);
    EXPECT_NE(unreachable.out.find("cannot connect to the bus"), std::string::npos)
        << unreachable.out;
}

TEST(CtlWithoutDaemon, MonitorSeesTheDaemonStartAndStop) {
    Running monitor(IMSAKACTL_PATH, {"--json", "monitor"});
    auto started = monitor.readLine(5s);
    ASSERT_TRUE(started);
    EXPECT_EQ(json::parse(*started)["daemon_running"], false);

    Running daemon(environment("IMSAKAD"), {});
    auto up = waitForEvent(monitor, [](const json& e) { return e["event"] == "daemon-started"; });
    EXPECT_TRUE(up["owner"].get<std::string>().starts_with(":"));
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
    waitForEvent(monitor, [](const json& e) { return e["event"] == "daemon-stopped"; });
    monitor.signal(SIGTERM);
    EXPECT_EQ(monitor.wait(5s), 0);
}

}  // namespace
}  // namespace imsaka::testing
