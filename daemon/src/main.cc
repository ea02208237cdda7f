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
#include "imsaka/version.h"
#include "instance_lock.h"
#include "kernel_sweep.h"
#include "log.h"
#include "manager_object.h"
#include "security_manager.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/imsaka/imsakad.conf";
constexpr const char* kBusName = "org.imsaka";

// Who owns a name on the bus, as ":1.5 (pid 1234)"; best effort, for a message.
std::string ownerOf(sdbus::IConnection& connection, const std::string& name) {
    std::string owner = "another connection";
    try {
        auto bus = sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
        bus->callMethod("GetNameOwner")
            .onInterface("org.freedesktop.DBus")
            .withArguments(name)
            .storeResultsTo(owner);
        uint32_t pid = 0;
        bus->callMethod("GetConnectionUnixProcessID")
            .onInterface("org.freedesktop.DBus")
            .withArguments(owner)
            .storeResultsTo(pid);
        owner += " (pid " + std::to_string(pid) + ")";
    } catch (const sdbus::Error&) {
        // The owner may have left meanwhile; the name was taken all the same.
    }
    return owner;
}

// The bus name, asked for without queueing (sd-bus sets DO_NOT_QUEUE unless told to queue):
// when it is taken, say by whom instead of waiting in line for it.
void claimBusName(sdbus::IConnection& connection) {
    using imsaka::daemon::AlreadyRunning;
    try {
        connection.requestName(kBusName);
    } catch (const sdbus::Error& e) {
        if (e.getName() != "org.freedesktop.DBus.Error.FileExists") throw;
        throw AlreadyRunning(std::string(kBusName) + " is already owned on this bus by " +
                             ownerOf(connection, kBusName) +
                             ": another imsakad serves it; not starting");
    }
}

// Runs last in serve(), however it ends: nothing of ours stays in the kernel.
struct SweepAtExit {
    imsaka::ipsec::XfrmOptions options;
    ~SweepAtExit() { imsaka::daemon::sweepKernelState(options, "at exit"); }
};

int serve(imsaka::daemon::DaemonConfig& config) {
    using namespace imsaka::daemon;
    // SIGTERM and SIGINT wait for the loop (which reads them from a signalfd) from the very
    // start: once the name is ours a stop may come before the loop runs, and must still end
    // the registrations in order rather than kill the process.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    sigprocmask(SIG_BLOCK, &stopSignals, nullptr);
    // Ownership before anything else: a second daemon stops here, before it could remove the
    // SAs of the one that runs (the lock covers the kernel state of this network namespace,
    // the name the bus).
    InstanceLock lock(runtimeDirectory());
    EventLoop loop;
    auto connection = sdbus::createSystemBusConnection();
    claimBusName(*connection);
    SweepAtExit sweep{xfrmOptions(config)};
    sweepKernelStateOnTerminate(sweep.options);
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
    cards.start();
    sd_notify(0, "READY=1\nSTATUS=Serving org.imsaka");
    log::info(std::string("serving ") + kBusName + " as " + connection->getUniqueName());

    // 0 after SIGTERM or SIGINT; otherwise the bus connection failed: nobody can reach the
    // registrations any more, so they end here and systemd starts a new daemon.
    int rc = loop.run();
    if (rc != 0) {
        sd_notify(0, "STOPPING=1\nSTATUS=Lost the bus: ending registrations");
        log::error("lost the bus: ending " + std::to_string(manager.registrations()) +
                   " registrations and exiting");
    }
    cards.stop();
    manager.closeAll();
    loop.detachBus();
    try {
        connection->releaseName(kBusName);
    } catch (const sdbus::Error&) {
        // Gone with the connection.
    }
    return rc < 0 ? 1 : rc;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace imsaka::daemon;
    CLI::App app{"imsakad: IMS registration security (AKA, sec-agree, IPsec) on D-Bus"};
    app.set_version_flag("--version", std::string("imsakad ") + imsaka::kVersion);
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
    } catch (const AlreadyRunning& e) {
        log::error(e.what());
        sd_notifyf(0, "STATUS=%s", e.what());
        return 1;
    } catch (const sdbus::Error& e) {
        log::error("D-Bus: " + e.getName() + ": " + e.getMessage());
    } catch (const std::exception& e) {
        log::error(std::string("fatal: ") + e.what());
    }
    sd_notify(0, "STATUS=Failed to start");
    return 1;
}
