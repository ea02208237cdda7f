// The bus policy as installed (dbus/org.imsaka.conf): the daemon's signals carry identities,
// addresses and owners, so only root and the access group may receive them.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "user_client.h"

namespace imsaka::busclient {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& seen, const std::string& name) {
    return seen.find(name) != std::string::npos;
}

TEST(Signals, OnlyRootAndTheGroupReceiveTheDaemonsSignals) {
    Client root;
    auto card = root.cardOfReader(kFirstReader);
    root.waitForCardState(card, "ready");
    UserClient member("imsaka-member");
    UserClient outsider("imsaka-outsider");
    ASSERT_EQ(member.ask("listen"), "ok");
    ASSERT_EQ(outsider.ask("listen"), "ok");

    // InterfacesAdded (a registration: IMPI, IMPU, addresses, owner), PropertiesChanged
    // (the card leaving and coming back).
    auto path = root.createRegistration(sandboxRegistration());
    pid_t vicc = std::stoi(sandboxValue("SANDBOX_VICC_PIDS"));
    kill(vicc, SIGUSR1);
    root.waitForCardState(card, "absent");
    kill(vicc, SIGUSR2);
    root.waitForCardState(card, "ready");
    root.close(path);

    std::string seen;
    for (int poll = 0; poll < 600; ++poll) {  // 30 s at least
        seen = member.ask("sync");
        if (contains(seen, "org.freedesktop.DBus.ObjectManager.InterfacesAdded") &&
            contains(seen, "org.freedesktop.DBus.Properties.PropertiesChanged") &&
            contains(seen, "org.freedesktop.DBus.ObjectManager.InterfacesRemoved"))
            break;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(contains(seen, "org.freedesktop.DBus.ObjectManager.InterfacesAdded")) << seen;
    EXPECT_TRUE(contains(seen, "org.freedesktop.DBus.Properties.PropertiesChanged")) << seen;
    EXPECT_TRUE(contains(seen, "org.freedesktop.DBus.ObjectManager.InterfacesRemoved")) << seen;
    // The bus handed the member every signal, so it has also decided about the outsider's
    // copies; the outsider's own round trip to the bus comes after them.
    EXPECT_EQ(outsider.ask("sync"), "seen -");
}

}  // namespace
}  // namespace imsaka::busclient
