// imsaka-register: the reference SIP application of imsakad. It registers an IMPU to IMS
// with the card imsakad manages, using only the daemon's D-Bus API: it sends the REGISTERs
// the daemon describes, hands back the responses, keeps the registration fresh, subscribes to
// the reg event and deregisters on SIGINT/SIGTERM. doc/imsaka-register.md describes it.
// GCC 12 at -O2 sees a null dereference inside CLI11's own string splitting: a false
// positive in a header that is not ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
#include <iostream>

#include "client.h"
#include "exit_status.h"
#include "imsaka/version.h"
#include "registration.h"

namespace {

using namespace imsaka::reg;

enum ExitStatus { kOk = 0, kFailed = 1, kUsage = 2, kNoDaemon = 3 };

void printFailure(const std::string& error, const std::string& message) {
    std::cout << "failed error=" << error << " message=" << message << std::endl;
}

int exitStatusFor(const sdbus::Error& error, bool created) {
    if (imsaka::ctl::exitStatusFor(error.getName()) == imsaka::ctl::kNoDaemon) return kNoDaemon;
    // The daemon refused the options given on the command line.
    if (!created && error.getName() == "org.imsaka.Error.InvalidArguments") return kUsage;
    return kFailed;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Register to IMS through imsakad: the reference SIP application."};
    app.set_version_flag("--version", std::string("imsaka-register ") + imsaka::kVersion);
    RegistrationOptions options;
    ClientSettings settings;
    std::string address;
    uint16_t pcscfPort = 0;
    uint32_t regId = 0;
    uint32_t expires = 0;
    double timerF = 0;
    bool noSubscribe = false;
    app.add_option("--card", options.card,
                   "card number, object path or reader name (default: the first card present)");
    app.add_option("--impu", options.impu,
                   "public identity to register (default: the card's first)");
    app.add_option("--pcscf", options.pcscf,
                   "P-CSCF: an IP literal, or a host name the daemon resolves (RFC 3263)")
        ->required();
    app.add_option("--pcscf-port", pcscfPort, "P-CSCF port for unprotected REGISTERs (5060)")
        ->check(CLI::Range(1, 65535));
    app.add_option("--local-address", options.localAddress, "the UE's address, an IP literal")
        ->required();
    app.add_option("--transport", options.transport, "udp (default) or tcp")
        ->check(CLI::IsMember({"udp", "tcp"}));
    app.add_option("--reg-id", regId, "RFC 5626 reg-id: an additional registration")
        ->check(CLI::Range(1u, 4294967295u));
    app.add_option("--expires", expires, "requested lifetime in seconds (600000)")
        ->check(CLI::Range(1u, 4294967295u));
    app.add_option("--integrity", options.integrity, "offered integrity algorithms, in order")
        ->take_all();
    app.add_option("--encryption", options.encryption, "offered encryption algorithms, in order")
        ->take_all();
    app.add_option("--feature-tag", options.featureTags,
                   "a Contact feature tag every REGISTER carries, e.g. +g.3gpp.smsip (repeat)");
    std::vector<std::string> headerLines;
    app.add_option("--header", headerLines,
                   "'Name: value', a header every REGISTER carries, e.g. User-Agent (repeat)")
        ->check([](const std::string& line) {
            return line.find(':') == std::string::npos ? std::string("expected 'Name: value'")
                                                       : std::string();
        });
    app.add_flag("--no-subscribe", noSubscribe, "do not subscribe to the reg event");
    app.add_option("--cycles", settings.cycles, "register and deregister N times, then exit");
    app.add_option("--timer-f", timerF, "seconds before a request without answer times out (128)")
        ->check(CLI::Range(0.1, 600.0));
    app.add_option("--address", address, "D-Bus address of the bus (default: the system bus)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? kOk : kUsage;
    }
    for (const auto& line : headerLines) {
        size_t colon = line.find(':');
        size_t start = line.find_first_not_of(" \t", colon + 1);
        options.headers.emplace_back(line.substr(0, colon),
                                     start == std::string::npos ? "" : line.substr(start));
    }
    if (pcscfPort) options.pcscfPort = pcscfPort;
    if (regId) options.regId = regId;
    if (expires) options.expires = expires;
    if (timerF > 0) settings.timerF = Milliseconds(static_cast<long>(timerF * 1000));
    settings.subscribe = !noSubscribe;

    std::unique_ptr<sdbus::IConnection> bus;
    try {
        bus = connectToBus(address);
    } catch (const sdbus::Error& error) {
        printFailure(error.getName(), "cannot connect to the bus: " + error.getMessage());
        return kNoDaemon;
    }
    std::unique_ptr<Registration> registration;
    int status = kFailed;
    try {
        std::string path = createRegistration(*bus, options);
        std::cout << "created path=" << path << std::endl;
        registration = std::make_unique<Registration>(*bus, path);
        status = Client(*bus, *registration, settings).run();
    } catch (const sdbus::Error& error) {
        printFailure(error.getName(), error.getMessage());
        status = exitStatusFor(error, registration != nullptr);
    } catch (const std::exception& error) {
        printFailure("internal", error.what());
    }
    try {
        if (registration) registration->Close();
    } catch (const sdbus::Error&) {
        // Already gone (the daemon ended it, or left): nothing left to close.
    }
    return status;
}
