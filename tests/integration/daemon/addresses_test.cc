// CreateRegistration refuses P-CSCF and local addresses that cannot carry a registration,
// naming the address. The sandbox's test link gives this host 192.0.2.1/24 and 2001:db8::1;
// 192.0.2.10 and 2001:db8::10 are reachable addresses of nobody.
#include <gtest/gtest.h>

#include "user_client.h"

namespace imsaka::busclient {
namespace {

constexpr const char* kInvalid = "org.imsaka.Error.InvalidArguments: ";

std::string refusal(const std::string& pcscf, const std::string& local) {
    Client root;
    root.waitForReadyCard();
    Options options{{"pcscf", sdbus::Variant(pcscf)}};
    if (!local.empty()) options["local_address"] = sdbus::Variant(local);
    return errorTextOf([&] { root.createRegistration(options); });
}

bool refusedNaming(const std::string& error, const std::string& address) {
    return error.rfind(kInvalid, 0) == 0 && error.find(address) != std::string::npos;
}

TEST(Addresses, PcscfAddressesThatCannotBeAPeerAreRefused) {
    auto ue = sandboxValue("SANDBOX_UE_ADDRESS");
    auto ue6 = sandboxValue("SANDBOX_UE_ADDRESS6");
    struct Case {
        std::string pcscf, local;
    };
    for (const auto& [pcscf, local] : std::vector<Case>{
             {"0.0.0.0", ue},
             {"::", ue6},
             {"224.0.0.1", ue},
             {"239.1.2.3", ue},
             {"ff02::1", ue6},
             {"255.255.255.255", ue},
             {"192.0.2.255", ue},  // the test link's broadcast address
             {"127.0.0.1", ""},
             {"127.0.0.1", ue},
             {"::1", ue6},
             {ue, ue},  // this host's own address
             {ue6, ""},
             {"::ffff:192.0.2.10", ue6},
         }) {
        auto error = refusal(pcscf, local);
        EXPECT_TRUE(refusedNaming(error, pcscf)) << pcscf << " from " << local << ": " << error;
    }
}

TEST(Addresses, LocalAddressesThisHostCannotUseAreRefused) {
    auto pcscf = sandboxValue("SANDBOX_PCSCF_ADDRESS");
    auto pcscf6 = sandboxValue("SANDBOX_PCSCF_ADDRESS6");
    struct Case {
        std::string pcscf, local;
    };
    for (const auto& [peer, local] : std::vector<Case>{
             {pcscf, "0.0.0.0"},  // the wildcard
             {pcscf6, "::"},
             {pcscf, "192.0.2.77"},  // not an address of this host
             {pcscf6, "2001:db8::77"},
             {pcscf, "127.0.0.1"},
             {pcscf6, "::1"},
             {pcscf, "224.0.0.1"},
             {pcscf, "255.255.255.255"},
             {pcscf, "192.0.2.255"},
         }) {
        auto error = refusal(peer, local);
        EXPECT_TRUE(refusedNaming(error, local)) << local << " to " << peer << ": " << error;
    }
}

TEST(Addresses, UsableAddressesAreAccepted) {
    Client root;
    root.waitForReadyCard();
    for (const auto& options :
         {sandboxRegistration(),
          Options{{"pcscf", sdbus::Variant(sandboxValue("SANDBOX_PCSCF_ADDRESS"))}},
          Options{{"pcscf", sdbus::Variant(sandboxValue("SANDBOX_PCSCF_ADDRESS6"))},
                  {"local_address", sdbus::Variant(sandboxValue("SANDBOX_UE_ADDRESS6"))}}}) {
        std::string path;
        EXPECT_EQ(errorTextOf([&] { path = root.createRegistration(options); }), "");
        if (!path.empty()) root.close(path);
    }
}

}  // namespace
}  // namespace imsaka::busclient
