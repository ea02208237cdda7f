// imsakad resolving P-CSCF names through a real DNS server: the daemon on a private bus with
// the virtual card (tests/support/daemon-sandbox.sh, whose network namespace holds loopback
// and a test link, 192.0.2.1/24 and 2001:db8::1/64), configured with [dns] servers =
// 127.0.0.1:5353, and dnsmasq serving the zone of dnsmasq.h there. CreateRegistration is called as
// a SIP application would.
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "client.h"
#include "dnsmasq_suite.h"

extern char** environ;

namespace imsaka::dnstest {
namespace {

using namespace std::chrono_literals;
using Options = std::map<std::string, sdbus::Variant>;
using TargetTuple = sdbus::Struct<std::string, uint16_t, std::string>;

using daemontest::ManagerProxy;
using Registration = daemontest::RegistrationProxy;

// The REGISTER that Register() hands out goes to this target.
void expectRegisterTowards(Registration& registration, const std::string& address, uint16_t port,
                           const std::string& transport) {
    auto [next, request] = registration.Register();
    ASSERT_EQ(next, "send");
    EXPECT_EQ(request.at("remote_address").get<std::string>(), address);
    EXPECT_EQ(request.at("remote_port").get<uint16_t>(), port);
    EXPECT_EQ(request.at("transport").get<std::string>(), transport);
}

class DaemonDns : public DnsmasqSuite {
  protected:
    // CreateRegistration, once the daemon has read the card (it owns its name before).
    std::string create(const Options& options) {
        for (int attempt = 0;; ++attempt) {
            try {
                return manager_.CreateRegistration(options);
            } catch (const sdbus::Error& error) {
                if (error.getName() != "org.imsaka.Error.CardAbsent" || attempt == 400) throw;
                std::this_thread::sleep_for(50ms);
            }
        }
    }

    // The error name and message of a CreateRegistration that must fail.
    std::pair<std::string, std::string> failure(const Options& options) {
        try {
            auto path = create(options);
            ADD_FAILURE() << "created " << path;
        } catch (const sdbus::Error& error) {
            return {error.getName(), error.getMessage()};
        }
        return {};
    }

    static std::vector<TargetTuple> targets(std::initializer_list<TargetTuple> list) {
        return list;
    }

    // The unique names (":1.N") on the bus now.
    std::set<std::string> uniqueNames() {
        auto bus =
            sdbus::createProxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
        std::vector<std::string> names;
        bus->callMethod("ListNames").onInterface("org.freedesktop.DBus").storeResultsTo(names);
        std::set<std::string> unique;
        for (auto& name : names)
            if (name.starts_with(':')) unique.insert(std::move(name));
        return unique;
    }

    std::unique_ptr<sdbus::IConnection> connection_ = sdbus::createSystemBusConnection();
    ManagerProxy manager_{*connection_, "/org/imsaka"};
};

TEST_F(DaemonDns, ANameResolvesToTheTargetsOfTheLocalFamilyAndTheRegisterGoesToTheFirst) {
    auto path = create({{"pcscf", sdbus::Variant(std::string("ims.test"))},
                        {"local_address", sdbus::Variant(std::string("192.0.2.1"))}});
    Registration registration(*connection_, path);
    // ims.test's best NAPTR record is UDP; the IPv6 address of pcscf1 is not of our family.
    EXPECT_EQ(registration.PcscfTargets(),
              targets({{"192.0.2.11", 5060, "udp"}, {"192.0.2.12", 5062, "udp"}}));
    EXPECT_EQ(registration.Transport(), "udp");
    EXPECT_EQ(registration.PcscfAddress(), "192.0.2.11");
    expectRegisterTowards(registration, "192.0.2.11", 5060, "udp");
    registration.Close();
}

TEST_F(DaemonDns, WithoutLocalAddressTheFirstTargetWithARouteDecides) {
    // 2001:db8:ff::11 comes first but this namespace has no route to 2001:db8:ff::/48.
    auto path = create({{"pcscf", sdbus::Variant(std::string("ims.test"))}});
    Registration registration(*connection_, path);
    EXPECT_EQ(registration.LocalAddress(), "192.0.2.1");
    EXPECT_EQ(registration.PcscfAddress(), "192.0.2.11");
    registration.Close();
}

TEST_F(DaemonDns, TheTransportOptionPicksItsSrvRecords) {
    auto path = create({{"pcscf", sdbus::Variant(std::string("ims.test"))},
                        {"transport", sdbus::Variant(std::string("tcp"))},
                        {"local_address", sdbus::Variant(std::string("192.0.2.1"))}});
    Registration registration(*connection_, path);
    EXPECT_EQ(registration.PcscfTargets(), targets({{"192.0.2.12", 5070, "tcp"}}));
    EXPECT_EQ(registration.Transport(), "tcp");
    expectRegisterTowards(registration, "192.0.2.12", 5070, "tcp");
    registration.Close();
}

TEST_F(DaemonDns, TheCardsPcscfNameIsResolvedWhenNoneIsGiven) {
    // The virtual card's EF_P-CSCF: pcscf.ims.mnc001.mcc001.3gppnetwork.org.
    auto path = create({{"local_address", sdbus::Variant(std::string("192.0.2.1"))}});
    Registration registration(*connection_, path);
    EXPECT_EQ(registration.PcscfTargets(), targets({{"192.0.2.15", 5090, "udp"}}));
    expectRegisterTowards(registration, "192.0.2.15", 5090, "udp");
    registration.Close();
}

TEST_F(DaemonDns, AnIpLiteralIsUsedAsItIs) {
    auto path = create({{"pcscf", sdbus::Variant(std::string("192.0.2.99"))},
                        {"pcscf_port", sdbus::Variant(uint16_t{5099})}});
    Registration registration(*connection_, path);
    EXPECT_EQ(registration.PcscfTargets(), targets({{"192.0.2.99", 5099, "udp"}}));
    EXPECT_EQ(registration.PcscfAddress(), "192.0.2.99");
    registration.Close();
}

TEST_F(DaemonDns, AnUnknownNameIsResolutionFailedAndCreatesNothing) {
    auto [name, message] = failure({{"pcscf", sdbus::Variant(std::string("missing.test"))},
                                    {"local_address", sdbus::Variant(std::string("192.0.2.1"))}});
    EXPECT_EQ(name, "org.imsaka.Error.ResolutionFailed");
    EXPECT_NE(message.find("missing.test"), std::string::npos) << message;
    EXPECT_NE(message.find("NAPTR missing.test"), std::string::npos) << message;
    // No target of the local address's family is a resolution failure too.
    auto [v6name, v6message] =
        failure({{"pcscf", sdbus::Variant(std::string("srv.test"))},
                 {"local_address", sdbus::Variant(std::string("2001:db8::1"))}});
    EXPECT_EQ(v6name, "org.imsaka.Error.ResolutionFailed") << v6message;
    EXPECT_NE(v6message.find("no IPv6 address"), std::string::npos) << v6message;
    auto objects = sdbus::createProxy(*connection_, "org.imsaka", "/org/imsaka");
    std::map<sdbus::ObjectPath, std::map<std::string, std::map<std::string, sdbus::Variant>>>
        managed;
    objects->callMethod("GetManagedObjects")
        .onInterface("org.freedesktop.DBus.ObjectManager")
        .storeResultsTo(managed);
    for (const auto& [path, interfaces] : managed)
        EXPECT_FALSE(interfaces.contains("org.imsaka.Registration1")) << path;
}

// How many registrations the daemon's log says it created.
size_t createdInLog() {
    std::ifstream log(std::getenv("IMSAKAD_LOG") ? std::getenv("IMSAKAD_LOG") : "");
    EXPECT_TRUE(log) << "IMSAKAD_LOG is not readable: run inside daemon-sandbox.sh";
    size_t count = 0;
    for (std::string line; std::getline(log, line);)
        if (line.find(": created for ") != std::string::npos) ++count;
    return count;
}

TEST_F(DaemonDns, AClientThatLeavesDuringTheLookupGetsNoRegistration) {
    size_t before = createdInLog();
    dns_->pause();
    // Another client (busctl) asks, and leaves while the daemon waits for the DNS answer.
    std::string address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    std::vector<std::string> args{"busctl",
                                  "--address=" + address,
                                  "call",
                                  "org.imsaka",
                                  "/org/imsaka",
                                  "org.imsaka.Manager1",
                                  "CreateRegistration",
                                  "a{sv}",
                                  "2",
                                  "pcscf",
                                  "s",
                                  "ims.test",
                                  "local_address",
                                  "s",
                                  "192.0.2.1"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    auto namesBefore = uniqueNames();
    pid_t client = -1;
    ASSERT_EQ(posix_spawnp(&client, "busctl", nullptr, nullptr, argv.data(), environ), 0);
    bool asked = false;
    for (int i = 0; i < 1000 && !asked; ++i) {
        asked = Dnsmasq::queriesWaiting();
        if (!asked) std::this_thread::sleep_for(20ms);
    }
    std::set<std::string> clientNames;
    std::ranges::set_difference(uniqueNames(), namesBefore,
                                std::inserter(clientNames, clientNames.begin()));
    kill(client, SIGKILL);
    waitpid(client, nullptr, 0);
    // The bus has seen the client go before the DNS answer comes (the daemon's own
    // NameOwnerChanged may still be queued behind that answer).
    for (int i = 0; i < 1000 && !clientNames.empty(); ++i) {
        std::erase_if(clientNames, [&](const auto& name) { return !uniqueNames().contains(name); });
        if (!clientNames.empty()) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(clientNames.empty()) << "the bus still lists the killed client after 20 s";
    dns_->resume();
    ASSERT_TRUE(asked) << "the daemon sent no DNS query within 20 s";
    // Our own lookup ends after the one of the client that left (same server, asked later).
    auto path = create({{"pcscf", sdbus::Variant(std::string("ims.test"))},
                        {"local_address", sdbus::Variant(std::string("192.0.2.1"))}});
    Registration(*connection_, path).Close();
    EXPECT_EQ(createdInLog(), before + 1);
}

TEST_F(DaemonDns, AMalformedNameIsInvalidArguments) {
    auto [name, message] = failure({{"pcscf", sdbus::Variant(std::string("pcscf..test"))}});
    EXPECT_EQ(name, "org.imsaka.Error.InvalidArguments") << message;
    EXPECT_NE(message.find("option pcscf"), std::string::npos) << message;
}

}  // namespace
}  // namespace imsaka::dnstest
