// The daemon's P-CSCF lookups (PcscfResolver on its sd-event loop, c-ares underneath)
// against a real DNS server: dnsmasq serving the zone of dnsmasq.h on loopback, in a
// network namespace of the test's own (ctest: unshare --net).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include "dnsmasq_suite.h"
#include "event_loop.h"
#include "pcscf_resolver.h"

namespace imsaka::dnstest {
namespace {

using daemon::DaemonErrc;
using daemon::DaemonError;
using daemon::EventLoop;
using daemon::PcscfResolver;
using resolver::Target;
using namespace std::chrono_literals;

constexpr auto kUdp = resolver::Transport::Udp;
constexpr auto kTcp = resolver::Transport::Tcp;

class ResolverDns : public DnsmasqSuite {
  protected:
    // Runs one lookup on a loop of its own to its end (bounded by the lookup's deadline).
    PcscfResolver::Result lookup(std::vector<std::string> entries,
                                 std::optional<uint16_t> port = std::nullopt,
                                 std::optional<resolver::Transport> transport = std::nullopt,
                                 resolver::RandomSource random = resolver::defaultRandom(),
                                 std::vector<std::string> servers = {kDnsServer},
                                 std::chrono::milliseconds deadline = 15s) {
        EventLoop loop;
        PcscfResolver resolver(loop, resolver::ResolverOptions{servers}, deadline, random);
        std::optional<PcscfResolver::Result> result;
        resolver.lookup(std::move(entries), port, transport, [&](PcscfResolver::Result r) {
            result = std::move(r);
            loop.exit(0);
        });
        loop.run();
        return std::move(*result);
    }

    static std::vector<Target> targets(const PcscfResolver::Result& result) {
        if (auto* error = std::get_if<DaemonError>(&result)) {
            ADD_FAILURE() << "lookup failed: " << error->what();
            return {};
        }
        return std::get<PcscfResolver::Targets>(result);
    }

    static DaemonError error(const PcscfResolver::Result& result) {
        if (auto* error = std::get_if<DaemonError>(&result)) return *error;
        ADD_FAILURE() << "lookup did not fail";
        return DaemonError(DaemonErrc::Failed, "");
    }
};

TEST_F(ResolverDns, NaptrThenSrvThenAddressesInOrderLeavingSipsOut) {
    EXPECT_EQ(targets(lookup({"ims.test"})), (std::vector<Target>{{"2001:db8:ff::11", 5060, kUdp},
                                                                  {"192.0.2.11", 5060, kUdp},
                                                                  {"192.0.2.12", 5062, kUdp},
                                                                  {"192.0.2.12", 5070, kTcp}}));
}

TEST_F(ResolverDns, AnExplicitTransportAsksItsSrvNameOnly) {
    EXPECT_EQ(targets(lookup({"ims.test"}, std::nullopt, kTcp)),
              (std::vector<Target>{{"192.0.2.12", 5070, kTcp}}));
}

TEST_F(ResolverDns, WithoutNaptrTheSrvRecordsOfEachTransport) {
    EXPECT_EQ(targets(lookup({"srv.test"})), (std::vector<Target>{{"192.0.2.13", 5080, kTcp}}));
}

TEST_F(ResolverDns, WithoutNaptrOrSrvTheNamesAddressesOnPort5060) {
    EXPECT_EQ(targets(lookup({"plain.test"})),
              (std::vector<Target>{{"2001:db8::14", 5060, kUdp}, {"192.0.2.14", 5060, kUdp}}));
    EXPECT_EQ(targets(lookup({"plain.test"}, 5080)),
              (std::vector<Target>{{"2001:db8::14", 5080, kUdp}, {"192.0.2.14", 5080, kUdp}}));
}

TEST_F(ResolverDns, SrvWeightsDrawFromTheInjectedRandomSource) {
    // heavy (99) then light (1) in the running sum: heavy covers 0..99, light 100.
    auto low = [](uint32_t) { return 0u; };
    auto high = [](uint32_t bound) { return bound; };
    EXPECT_EQ(targets(lookup({"weighted.test"}, std::nullopt, std::nullopt, low)),
              (std::vector<Target>{{"192.0.2.22", 5060, kUdp}, {"192.0.2.21", 5060, kUdp}}));
    EXPECT_EQ(targets(lookup({"weighted.test"}, std::nullopt, std::nullopt, high)),
              (std::vector<Target>{{"192.0.2.21", 5060, kUdp}, {"192.0.2.22", 5060, kUdp}}));
}

TEST_F(ResolverDns, EntriesAreJoinedInOrderAndAFailingOneIsSkipped) {
    EXPECT_EQ(
        targets(lookup({"192.0.2.10", "missing.test", "srv.test", "192.0.2.13"})),
        (std::vector<Target>{
            {"192.0.2.10", 5060, kUdp}, {"192.0.2.13", 5080, kTcp}, {"192.0.2.13", 5060, kUdp}}));
}

TEST_F(ResolverDns, AnUnknownNameIsAResolutionFailureSayingWhatEachQueryGot) {
    auto failure = error(lookup({"missing.test"}));
    EXPECT_EQ(failure.code(), DaemonErrc::ResolutionFailed);
    std::string what = failure.what();
    EXPECT_NE(what.find("missing.test"), std::string::npos) << what;
    EXPECT_NE(what.find("NAPTR missing.test"), std::string::npos) << what;
    EXPECT_NE(what.find("SRV _sip._udp.missing.test"), std::string::npos) << what;
    EXPECT_NE(what.find("A missing.test"), std::string::npos) << what;
}

TEST_F(ResolverDns, ASilentServerEndsAtTheDeadlineWhileTheLoopKeepsServing) {
    // A UDP socket that never answers stands for a DNS server that is gone.
    int silent = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(silent, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(5399);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);

    EventLoop loop;
    PcscfResolver resolver(loop, resolver::ResolverOptions{{"127.0.0.1:5399"}}, 1s);
    std::vector<std::string> order;
    std::optional<PcscfResolver::Result> result;
    resolver.lookup({"ims.test"}, std::nullopt, std::nullopt, [&](PcscfResolver::Result r) {
        order.push_back("lookup");
        result = std::move(r);
        loop.exit(0);
    });
    // The loop serves other sources meanwhile: this timer is due long before the deadline.
    daemon::Timer other(loop, [&] { order.push_back("timer"); });
    other.armIn(50ms);
    loop.run();
    close(silent);
    EXPECT_EQ(order, (std::vector<std::string>{"timer", "lookup"}));
    ASSERT_TRUE(result);
    auto failure = error(*result);
    EXPECT_EQ(failure.code(), DaemonErrc::ResolutionFailed);
    EXPECT_NE(std::string(failure.what()).find("no answer within 1 s"), std::string::npos)
        << failure.what();
}

TEST_F(ResolverDns, ACancelledLookupNeverCallsBack) {
    EventLoop loop;
    PcscfResolver resolver(loop, resolver::ResolverOptions{{kDnsServer}}, 15s);
    bool called = false;
    auto id = resolver.lookup({"ims.test"}, std::nullopt, std::nullopt,
                              [&](PcscfResolver::Result) { called = true; });
    resolver.cancel(id);
    std::optional<PcscfResolver::Result> second;
    resolver.lookup({"plain.test"}, std::nullopt, std::nullopt, [&](PcscfResolver::Result r) {
        second = std::move(r);
        loop.exit(0);
    });
    loop.run();
    EXPECT_FALSE(called);
    ASSERT_TRUE(second);
    EXPECT_EQ(targets(*second).size(), 2u);
}

}  // namespace
}  // namespace imsaka::dnstest
