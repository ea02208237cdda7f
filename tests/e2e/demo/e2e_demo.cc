// The main job: one registration of the reference client through the Kamailio P-CSCF, with
// a summary a person can read, then deregistration and proof that nothing is left. Runs as
// root inside the user-mode Linux guest, under tests/integration/pcsc-sandbox.sh.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_network.h"

namespace {

using namespace imsaka::e2e;
using namespace std::chrono_literals;

void section(const std::string& title) {
    std::cout << "\n== " << title << "\n" << std::flush;
}

// imsakactl on the private bus, its output shown as it is: what an operator would type.
void imsakactl(const std::string& arguments) {
    std::cout << "$ imsakactl " << arguments << "\n" << std::flush;
    std::string command = imsaka::daemontest::buildProgram("tools/ctl/imsakactl") + " " + arguments;
    if (std::system(command.c_str()) != 0)
        throw std::runtime_error("imsakactl " + arguments + " failed");
}

void showCounts(const char* side, const XfrmCount& count) {
    std::cout << side << count.sas << " SAs, " << count.policies << " policies in the kernel\n";
}

// Nothing of the registration may stay, on the UE or at the P-CSCF.
void showLeftovers(TestNetwork& network) {
    auto ue = network.ueXfrm();
    showCounts("UE:     ", ue);
    if (ue.sas + ue.policies != 0) throw std::runtime_error("left behind on the UE:\n" + ue.text);
    // Kamailio removes its side when its usrloc timer (1 s) sweeps the deregistered contact.
    auto pcscf = network.pcscfXfrm();
    for (int tries = 0; pcscf.sas + pcscf.policies != 0 && tries < 50; ++tries) {
        std::this_thread::sleep_for(100ms);
        pcscf = network.pcscfXfrm();
    }
    showCounts("P-CSCF: ", pcscf);
    if (pcscf.sas + pcscf.policies != 0)
        throw std::runtime_error("left behind on the P-CSCF:\n" + pcscf.text);
}

int run() {
    section("Starting the test network in user-mode Linux");
    std::cout << "P-CSCF  Kamailio 5.6 (ims_ipsec_pcscf) at " << kIpv4.pcscf << " and "
              << kIpv6.pcscf << ", namespace imsaka-pcscf\n"
              << "S-CSCF  imsaka-scscf-sim (Milenage, AKAv1-MD5) behind it on 127.0.0.1:6060\n"
              << "UE      " << kIpv4.ue
              << ": pcscd + vpcd + imsaka-vicc (default profile), a private system bus, imsakad\n"
              << std::flush;
    TestNetwork network;
    imsakactl("cards");

    section("Registering: imsaka-register, a SIP application that never sees the card or keys");
    auto& client = network.startClient(TestNetwork::clientArgs());
    auto created = client.waitFor("created");
    auto registered = client.waitFor("registered", 30s);
    for (const auto& event : client.events()) std::cout << "  " << event.line << "\n";
    std::cout << "REGISTER to 200 OK: " << registered.at("register-ms")
              << " ms, of which the daemon's card and SA work: " << registered.at("challenge-ms")
              << " ms\n";
    auto path = created.at("path");

    section("The registration, as imsakad publishes it");
    imsakactl("registration " + path);

    section("Its SA set, with the kernel's ESP counters");
    imsakactl("sa " + path);

    section("On the wire (captured at the P-CSCF)");
    auto sets = network.saSets(path);
    size_t esp = 0;
    for (const auto& set : sets)
        for (auto spi : {set.spiUc, set.spiUs, set.spiPc, set.spiPs})
            esp += network.capture().espCount(spi);
    std::set<uint16_t> ports;
    for (const auto& set : sets)
        for (auto port : {set.portUc, set.portUs, set.portPc, set.portPs}) ports.insert(port);
    auto clear = network.capture().clearSipOn(ports);
    std::cout << esp << " ESP packets with the negotiated SPIs, " << clear.size()
              << " SIP messages in clear on the protected ports\n";
    if (esp == 0 || !clear.empty())
        throw std::runtime_error("the protected exchange was not ESP:\n" +
                                 network.capture().summary());

    section("Deregistering (SIGTERM to the application)");
    int status = client.stop(SIGTERM);
    for (const auto& event : client.events())
        if (event.word == "deregistered" || event.word == "failed")
            std::cout << "  " << event.line << "\n";
    if (status != 0)
        throw std::runtime_error("imsaka-register exited with " + std::to_string(status));
    imsakactl("registrations");

    section("Left behind");
    showLeftovers(network);
    std::cout << "\nregistration demo: OK\n";
    return 0;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        std::cerr << "registration demo failed: " << e.what() << "\n";
        return 1;
    }
}
