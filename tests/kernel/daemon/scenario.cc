#include "scenario.h"

#include <cstdio>
#include <stdexcept>

#include "imsaka/ipsec/xfrm.h"

namespace imsaka::daemontest {
namespace {

size_t occurrences(const std::string& text, const std::string& word) {
    size_t count = 0;
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++count;
    return count;
}

}  // namespace

std::string commandOutput(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string output;
    char buffer[4096];
    size_t length;
    while ((length = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, length);
    if (pclose(pipe) != 0) throw std::runtime_error(command + " failed");
    return output;
}

KernelView kernelView() {
    KernelView view;
    auto count = ipsec::Xfrm().countState();
    view.ownSas = count.ownSas;
    view.ownPolicies = count.ownPolicies;
    view.ipXfrmState = commandOutput("ip -s xfrm state");
    view.ipXfrmPolicy = commandOutput("ip xfrm policy");
    // Larval SAs (SPI reservations) carry no algorithm; installed ones print "auth-trunc".
    view.keyedSas = occurrences(view.ipXfrmState, "auth-trunc");
    return view;
}

Sandbox::Sandbox(const testing::CardProfile& profile, const std::string& extraPolicy,
                 const std::string& config) {
    requirePrerequisites();
    bus = std::make_unique<PrivateBus>(dir, extraPolicy);
    card = std::make_unique<testing::VirtualCard>(profile, kFirstReaderPort);
    daemon = std::make_unique<Daemon>(dir, config);
    daemon->start();
    connection = sdbus::createSystemBusConnection();
    manager = std::make_unique<ManagerProxy>(*connection, "/org/imsaka");
    cardPath = waitForReadyCard(*connection, card->reader());
}

Sandbox::~Sandbox() {
    manager.reset();
    connection.reset();
    daemon.reset();
    card.reset();
    bus.reset();
}

Options Sandbox::registrationOptions(const std::string& localAddress, uint32_t regId) const {
    Options options;
    options["card"] = sdbus::Variant(sdbus::ObjectPath(cardPath));
    options["pcscf"] = sdbus::Variant(std::string(kPcscfAddress));
    options["local_address"] = sdbus::Variant(localAddress);
    options["transport"] = sdbus::Variant(std::string("udp"));
    if (regId != 0) options["reg_id"] = sdbus::Variant(regId);
    return options;
}

std::string Sandbox::diagnostics() const {
    std::string text = "imsakad log:\n" + (daemon ? daemon->logTail() : std::string("(none)\n"));
    try {
        auto view = kernelView();
        text += "ip xfrm state:\n" + view.ipXfrmState + "ip xfrm policy:\n" + view.ipXfrmPolicy;
    } catch (const std::exception& error) {
        text += std::string("kernel state unreadable: ") + error.what();
    }
    return text;
}

std::string startSandbox(std::unique_ptr<Sandbox>& sandbox, const testing::CardProfile& profile,
                         const std::string& extraPolicy, const std::string& extraConfig) {
    try {
        setUpTestNetwork();
        sandbox = std::make_unique<Sandbox>(profile, extraPolicy, testConfig() + extraConfig);
        return {};
    } catch (const MissingPrerequisite& missing) {
        return std::string("missing prerequisite: ") + missing.what();
    } catch (const std::exception& error) {
        return std::string("cannot set up the daemon: ") + error.what() +
               (sandbox ? sandbox->diagnostics() : "");
    }
}

Challenged createAndChallenge(sdbus::IConnection& connection, testing::ImsNetwork& network,
                              const Options& options) {
    Challenged result;
    ManagerProxy manager(connection, "/org/imsaka");
    result.path = manager.CreateRegistration(options);
    result.registration = std::make_unique<RegistrationProxy>(connection, result.path);
    result.initial = step(result.registration->Register());
    if (result.initial.next != "send")
        throw std::runtime_error("Register() said " + result.initial.next + ", not send");
    result.challenge = network.challenge(result.initial.headers());
    result.answer =
        step(result.registration->HandleResponse(401, toDbus(result.challenge.headers)));
    return result;
}

}  // namespace imsaka::daemontest
