// imsakad: IMS registration security as a system service (see doc/imsakad.conf.md and
// doc/dbus-api.md).
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

// GCC 12 reports a null dereference inside CLI11's string helpers once they are inlined at
// -O2 (a false positive in the library).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "card_manager.h"
#include "event_loop.h"
#include "imsaka/daemon/config.h"
#include "log.h"
#include "manager_object.h"
#include "security_manager.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/imsaka/imsakad.conf";
constexpr const char* kBusName = "org.imsaka";

int serve(imsaka::daemon::DaemonConfig& config) {
    using namespace imsaka::daemon;
    EventLoop loop;
    auto connection = sdbus::createSystemBusConnection();
    SecurityManager security(config, loop);
    security.removeLeftovers();
    CardManager cards(*connection, loop, config);
    ManagerObject manager(*connection, loop, config, security, cards);

    auto stop = [&] {
        sd_notify(0, "STOPPING=1\nSTATUS=Ending registrations");
        log::info("stopping: ending " + std::to_string(manager.registrations()) + " registrations");
        manager.closeAll();
        loop.exit(0);
    };
    loop.onSignal(SIGTERM, stop);
    loop.onSignal(SIGINT, stop);
    auto expiry = loop.watchReadable(security.expiryFd(), [&] { security.dispatchExpiry(); });
    loop.attachBus(*connection);
    connection->requestName(kBusName);
    cards.start();
    sd_notify(0, "READY=1\nSTATUS=Serving org.imsaka");
    log::info(std::string("serving ") + kBusName + " as " + connection->getUniqueName());

    int rc = loop.run();
    cards.stop();
    connection->releaseName(kBusName);
    loop.detachBus();
    return rc < 0 ? 1 : rc;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace imsaka::daemon;
    CLI::App app{"imsakad: IMS registration security (AKA, sec-agree, IPsec) on D-Bus"};
    std::string configPath = kDefaultConfig;
    std::string level = "info";
    app.add_option("--config", configPath, "configuration file")->capture_default_str();
    app.add_option("--log-level", level, "err, warning, notice, info or debug")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (!log::setLevel(level)) {
        log::error("imsakad: unknown log level " + level);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    DaemonConfig config;
    try {
        bool usingDefault = app.count("--config") == 0;
        config = loadConfig(configPath, usingDefault);
        if (config.instanceId.empty()) config.instanceId = defaultInstanceId();
    } catch (const ConfigError& e) {
        log::error(std::string("configuration: ") + e.what());
        sd_notifyf(0, "STATUS=Bad configuration: %s", e.what());
        return 2;
    }

    try {
        return serve(config);
    } catch (const sdbus::Error& e) {
        log::error("D-Bus: " + e.getName() + ": " + e.getMessage());
    } catch (const std::exception& e) {
        log::error(std::string("fatal: ") + e.what());
    }
    sd_notify(0, "STATUS=Failed to start");
    return 1;
}
