// imsakactl against imsakad with real SA sets: inside user-mode Linux (tests/kernel), with
// the daemon scenarios of tests/kernel/daemon (private bus, virtual card, test IMS network).
// What `sa` and `registration` print must be what the kernel and the network agreed on.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "process.h"
#include "sandbox_test.h"
#include "scenario.h"

namespace imsaka::daemontest {
namespace {

using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

json ctlJson(const std::vector<std::string>& args) {
    std::vector<std::string> withJson(args.size() + 1);
    withJson[0] = "--json";
    std::copy(args.begin(), args.end(), withJson.begin() + 1);
    auto result = testing::run(IMSAKACTL_PATH, withJson);
    EXPECT_EQ(result.status, 0) << result.err << result.out;
    return json::parse(result.out.empty() ? "{}" : result.out);
}

class CtlKernelTest : public SandboxTest {};

TEST_F(CtlKernelTest, SaAndRegistrationFollowTheChallengeTheKernelAndTheRegistration) {
    ASSERT_TRUE(sandbox_);
    testing::ImsNetwork network;
    auto registration = createAndChallenge(bus(), network, sandbox_->registrationOptions());
    const auto& challenge = registration.challenge;
    std::string number = registration.path.substr(registration.path.rfind('/') + 1);

    // The temporary set, as the daemon and the kernel hold it.
    auto sets = ctlJson({"sa"})["sa_sets"];
    ASSERT_EQ(sets.size(), 1u) << sets.dump();
    auto set = sets[0];
    EXPECT_EQ(set["path"], saObjects(bus(), registration.path).at(0));
    EXPECT_EQ(set["state"], "temporary");
    EXPECT_EQ(set["integrity"], "hmac-sha-1-96");
    EXPECT_EQ(set["encryption"], "null");
    EXPECT_EQ(set["local_address"], kUeAddress);
    EXPECT_EQ(set["pcscf_address"], kPcscfAddress);
    EXPECT_EQ(set["spi_uc"], challenge.ue.spiC);
    EXPECT_EQ(set["spi_us"], challenge.ue.spiS);
    EXPECT_EQ(set["spi_pc"], challenge.pcscf.spiC);
    EXPECT_EQ(set["spi_ps"], challenge.pcscf.spiS);
    EXPECT_EQ(set["port_uc"], challenge.ue.portC);
    EXPECT_EQ(set["port_us"], challenge.ue.portS);
    EXPECT_EQ(set["port_pc"], challenge.pcscf.portC);
    EXPECT_EQ(set["port_ps"], challenge.pcscf.portS);
    // TS 33.203's four SAs: A out to ps, B in to uc, C in to us, D out to pc.
    json expected = json::array();
    for (auto [name, direction, spi] :
         {std::tuple{"A", "out", challenge.pcscf.spiS}, std::tuple{"B", "in", challenge.ue.spiC},
          std::tuple{"C", "in", challenge.ue.spiS}, std::tuple{"D", "out", challenge.pcscf.spiC}})
        expected.push_back({{"sa", name}, {"direction", direction}, {"spi", spi}});
    json seen = json::array();
    for (const auto& counter : set["counters"])
        seen.push_back(
            {{"sa", counter["sa"]}, {"direction", counter["direction"]}, {"spi", counter["spi"]}});
    EXPECT_EQ(seen, expected);

    auto human = testing::run(IMSAKACTL_PATH, {"sa", number});
    EXPECT_EQ(human.status, 0) << human.err;
    EXPECT_NE(human.out.find("  State       temporary\n"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("  A   out  " + std::to_string(challenge.pcscf.spiS) + " (0x"),
              std::string::npos)
        << human.out;

    // 200 OK: registered, the set established.
    std::vector<std::string> uris = {kImpu, "tel:+15550000001"};
    auto ok =
        network.ok(registration.answer.headers(), 3600, uris, {"sip:orig@scscf.example.org;lr"});
    auto now = static_cast<uint64_t>(std::time(nullptr));
    step(registration.registration->HandleResponse(200, toDbus(ok)));
    auto answered = static_cast<uint64_t>(std::time(nullptr));
    auto shown = ctlJson({"registration", number});
    EXPECT_EQ(shown["state"], "registered");
    EXPECT_EQ(shown["associated_uris"], json(uris));
    // Bounds from the clock around the call, however long it took on a busy host.
    EXPECT_GE(shown["expires"].get<uint64_t>(), now + 3600 - 1);
    EXPECT_LE(shown["expires"].get<uint64_t>(), answered + 3600 + 1);
    EXPECT_EQ(shown["port_uc"], challenge.ue.portC);
    EXPECT_EQ(shown["port_ps"], challenge.pcscf.portS);
    ASSERT_EQ(shown["sa_sets"].size(), 1u);
    EXPECT_EQ(shown["sa_sets"][0]["state"], "established");

    // One datagram through SA A shows in its counters.
    auto socket = registration.registration->OpenSocket("udp", "client");
    const std::string_view payload = "REGISTER over ESP";
    ASSERT_EQ(sendToPcscf(socket.get(), challenge.pcscf.portS, payload),
              static_cast<ssize_t>(payload.size()))
        << std::strerror(errno);
    auto counters = ctlJson({"sa", number})["sa_sets"].at(0)["counters"];
    ASSERT_EQ(counters.size(), 4u);
    EXPECT_EQ(counters[0]["sa"], "A");
    EXPECT_GE(counters[0]["packets"].get<uint64_t>(), 1u);
    EXPECT_GT(counters[0]["bytes"].get<uint64_t>(), 0u);

    // Close(): monitor sees the set and the registration go.
    testing::Running monitor(IMSAKACTL_PATH, {"--json", "monitor"});
    ASSERT_TRUE(monitor.readLine(5s));
    std::string setPath = set["path"];
    registration.registration->Close();
    bool setRemoved = false, registrationRemoved = false;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!(setRemoved && registrationRemoved) && std::chrono::steady_clock::now() < deadline) {
        auto line = monitor.readLine(500ms);
        if (!line) continue;
        auto event = json::parse(*line);
        if (event["event"] != "removed") continue;
        setRemoved |= event["path"] == setPath;
        registrationRemoved |= event["path"] == registration.path;
    }
    EXPECT_TRUE(setRemoved);
    EXPECT_TRUE(registrationRemoved);
    monitor.signal(SIGINT);
    EXPECT_EQ(monitor.wait(5s), 0);
    EXPECT_EQ(ctlJson({"sa"}), json::parse(R"({"sa_sets":[]})"));
}

}  // namespace
}  // namespace imsaka::daemontest
