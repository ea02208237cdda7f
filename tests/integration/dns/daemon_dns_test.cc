// imsakad resolving P-CSCF names through a real DNS server: the daemon on a private bus with
// the virtual card (tests/support/daemon-sandbox.sh, whose network namespace holds loopback
// alone), configured with [dns] servers = 127.0.0.1:5353, and dnsmasq serving the zone of
// dnsmasq.h there. CreateRegistration is called as a SIP application would.
#include <gtest/gtest.h>
#include <imsaka/dbus/Manager1_proxy.h>
#include <imsaka/dbus/Registration1_proxy.h>
#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "dnsmasq.h"

namespace imsaka::dnstest {
namespace {

using namespace std::chrono_literals;
using Options = std::map<std::string, sdbus::Variant>;
using TargetTuple = sdbus::Struct<std::string, uint16_t, std::string>;

class Manager final : public sdbus::ProxyInterfaces<org::imsaka::Manager1_proxy> {
  public:
    explicit Manager(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, "org.imsaka", "/org/imsaka") {
        registerProxy();
    }
    ~Manager() { unregisterProxy(); }
};

class Registration final : public sdbus::ProxyInterfaces<org::imsaka::Registration1_proxy> {
  public:
    Registration(sdbus::IConnection& connection, const std::string& path)
        : ProxyInterfaces(connection, "org.imsaka", path) {
        registerProxy();
    }
    ~Registration() { unregisterProxy(); }

  private:
    void onRefreshDue(const std::string&) override {}
};

class DaemonDns : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { dns_ = std::make_unique<Dnsmasq>(); }
    static void TearDownTestSuite() { dns_.reset(); }
    void TearDown() override {
        if (HasFailure()) std::cerr << "dnsmasq log:\n" << dns_->log();
    }

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

    std::unique_ptr<sdbus::IConnection> connection_ = sdbus::createSystemBusConnection();
    Manager manager_{*connection_};
    static std::unique_ptr<Dnsmasq> dns_;
};

std::unique_ptr<Dnsmasq> DaemonDns::dns_;

TEST_F(DaemonDns, ANameResolvesToTheTargetsOfTheLocalFamilyAndTheRegisterGoesToTheFirst) {
    auto path = create({{"pcscf", sdbus::Variant(std::string("ims.test"))},
                        {"local_address", sdbus::Variant(std::string("127.0.0.1"))}});
    Registration registration(*connection_, path);
    // ims.test's best NAPTR record is UDP; the IPv6 address of pcscf1 is not of our family.
    EXPECT_EQ(registration.PcscfTargets(),
              targets({{"127.0.0.11", 5060, "udp"}, {"127.0.0.12", 5062, "udp"}}));
    EXPECT_EQ(registration.Transport(), "udp");
    EXPECT_EQ(registration.PcscfAddress(), "127.0.0.11");
    auto [next, request] = registration.Register();
    ASSERT_EQ(next, "send");
    EXPECT_EQ(request.at("remote_address").get<std::string>(), "127.0.0.11");
    EXPECT_EQ(request.at("remote_port").get<uint16_t>(), 5060);
    EXPECT_EQ(request.at("transport").get<std::string>(), "udp");
    registration.Close();
}

TEST_F(DaemonDns, WithoutLocalAddressTheFirstTargetWithARouteDecides) {
    // 2001:db8::11 comes first but this namespace has no IPv6 route to it.
    auto path = create({{"pcscf", sdbus::Variant(std::string("ims.test"))}});
    Registration registration(*connection_, path);
    EXPECT_EQ(registration.LocalAddress(), "127.0.0.1");
    EXPECT_EQ(registration.PcscfAddress(), "127.0.0.11");
    registration.Close();
}

TEST_F(DaemonDns, TheTransportOptionPicksItsSrvRecords) {
    auto path = create({{"pcscf", sdbus::Variant(std::string("ims.test"))},
                        {"transport", sdbus::Variant(std::string("tcp"))},
                        {"local_address", sdbus::Variant(std::string("127.0.0.1"))}});
    Registration registration(*connection_, path);
    EXPECT_EQ(registration.PcscfTargets(), targets({{"127.0.0.12", 5070, "tcp"}}));
    EXPECT_EQ(registration.Transport(), "tcp");
    auto [next, request] = registration.Register();
    ASSERT_EQ(next, "send");
    EXPECT_EQ(request.at("remote_address").get<std::string>(), "127.0.0.12");
    EXPECT_EQ(request.at("remote_port").get<uint16_t>(), 5070);
    EXPECT_EQ(request.at("transport").get<std::string>(), "tcp");
    registration.Close();
}

TEST_F(DaemonDns, TheCardsPcscfNameIsResolvedWhenNoneIsGiven) {
    // The virtual card's EF_P-CSCF: pcscf.ims.mnc001.mcc001.3gppnetwork.org.
    auto path = create({{"local_address", sdbus::Variant(std::string("127.0.0.1"))}});
    Registration registration(*connection_, path);
    EXPECT_EQ(registration.PcscfTargets(), targets({{"127.0.0.15", 5090, "udp"}}));
    auto [next, request] = registration.Register();
    ASSERT_EQ(next, "send");
    EXPECT_EQ(request.at("remote_address").get<std::string>(), "127.0.0.15");
    EXPECT_EQ(request.at("remote_port").get<uint16_t>(), 5090);
    registration.Close();
}

TEST_F(DaemonDns, AnIpLiteralIsUsedAsItIs) {
    auto path = create({{"pcscf", sdbus::Variant(std::string("127.0.0.99"))},
                        {"pcscf_port", sdbus::Variant(uint16_t{5099})}});
    Registration registration(*connection_, path);
    EXPECT_EQ(registration.PcscfTargets(), targets({{"127.0.0.99", 5099, "udp"}}));
    EXPECT_EQ(registration.PcscfAddress(), "127.0.0.99");
    registration.Close();
}

TEST_F(DaemonDns, AnUnknownNameIsResolutionFailedAndCreatesNothing) {
    auto [name, message] = failure({{"pcscf", sdbus::Variant(std::string("missing.test"))},
                                    {"local_address", sdbus::Variant(std::string("127.0.0.1"))}});
    EXPECT_EQ(name, "org.imsaka.Error.ResolutionFailed");
    EXPECT_NE(message.find("missing.test"), std::string::npos) << message;
    EXPECT_NE(message.find("NAPTR missing.test"), std::string::npos) << message;
    // No target of the local address's family is a resolution failure too.
    auto [v6name, v6message] = failure({{"pcscf", sdbus::Variant(std::string("srv.test"))},
                                        {"local_address", sdbus::Variant(std::string("::1"))}});
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

TEST_F(DaemonDns, AMalformedNameIsInvalidArguments) {
    auto [name, message] = failure({{"pcscf", sdbus::Variant(std::string("pcscf..test"))}});
    EXPECT_EQ(name, "org.imsaka.Error.InvalidArguments") << message;
    EXPECT_NE(message.find("option pcscf"), std::string::npos) << message;
}

}  // namespace
}  // namespace imsaka::dnstest
