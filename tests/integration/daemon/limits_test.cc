// Quotas: registrations count per user (uid), whatever the number of bus connections, under
// a cap for everyone together; a closed registration stops counting before Close() returns.
// The sandbox's configuration (limits.conf / one-per-user.conf) sets the limits.
#include <gtest/gtest.h>

#include "user_client.h"

namespace imsaka::busclient {
namespace {

constexpr const char* kQuotaExceeded = "org.imsaka.Error.QuotaExceeded";

std::string createCommand(int connection) {
    return "create " + std::to_string(connection) + " " + sandboxValue("SANDBOX_PCSCF_ADDRESS") +
           " " + sandboxValue("SANDBOX_UE_ADDRESS");
}

// limits.conf: max_registrations_per_user = 2, max_registrations = 3.
TEST(Quota, CountsPerUserAcrossConnectionsUnderAGlobalCap) {
    Client().waitForReadyCard();
    UserClient member("imsaka-member");
    for (int connection = 0; connection < 3; ++connection)
        ASSERT_EQ(member.ask("connect"), "ok " + std::to_string(connection));
    auto first = member.ask(createCommand(0));
    ASSERT_EQ(first.rfind("ok /org/imsaka/registration/", 0), 0u) << first;
    ASSERT_EQ(member.ask(createCommand(1)).rfind("ok ", 0), 0u);
    // A third connection of the same user gets no third registration.
    EXPECT_EQ(member.ask(createCommand(2)), std::string("error ") + kQuotaExceeded);

    UserClient other("imsaka-member2");
    ASSERT_EQ(other.ask("connect"), "ok 0");
    EXPECT_EQ(other.ask(createCommand(0)).rfind("ok ", 0), 0u);
    // Three in all: nobody gets a fourth, root neither.
    EXPECT_EQ(other.ask(createCommand(0)), std::string("error ") + kQuotaExceeded);
    Client root;
    EXPECT_EQ(errorNameOf([&] { root.createRegistration(sandboxRegistration()); }), kQuotaExceeded);

    // Root closes one of the member's: the member may have one again.
    root.close(first.substr(3));
    EXPECT_EQ(member.ask(createCommand(2)).rfind("ok ", 0), 0u);
}

// one-per-user.conf: max_registrations_per_user = 1.
TEST(Quota, AClosedRegistrationStopsCountingBeforeCloseReturns) {
    Client root;
    root.waitForReadyCard();
    auto path = root.createRegistration(sandboxRegistration());
    int refused = 0;
    for (int cycle = 0; cycle < 1000; ++cycle) {
        // Half the cycles wait for Close()'s reply, half queue the next call right behind it:
        // either way the daemon handles Close() first.
        if (cycle % 2 == 0)
            root.close(path);
        else
            root.closeWithoutWaiting(path);
        auto error = errorNameOf([&] { path = root.createRegistration(sandboxRegistration()); });
        if (!error.empty()) {
            ++refused;
            ASSERT_EQ(error, kQuotaExceeded);
            // Let the daemon catch up so that the loop can go on.
            for (int retry = 0; retry < 100 && !error.empty(); ++retry)
                error = errorNameOf([&] { path = root.createRegistration(sandboxRegistration()); });
            ASSERT_EQ(error, "");
        }
    }
    EXPECT_EQ(refused, 0) << "of 1000 CreateRegistration calls right after Close()";
}

}  // namespace
}  // namespace imsaka::busclient
