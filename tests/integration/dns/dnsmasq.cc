#include "dnsmasq.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace imsaka::dnstest {

namespace {

std::string readFile(const std::string& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

std::string dnsmasqBinary() {
    for (const char* path : {"/usr/sbin/dnsmasq", "/sbin/dnsmasq", "/usr/bin/dnsmasq"})
        if (access(path, X_OK) == 0) return path;
    throw std::runtime_error(
        "dnsmasq is not installed: run scripts/install-deps.sh (package dnsmasq-base)");
}

}  // namespace

std::vector<std::string> testZone() {
    const std::string card = "pcscf.ims.mnc001.mcc001.3gppnetwork.org";
    return {
        "--naptr-record=ims.test,5,10,s,SIPS+D2T,,_sips._tcp.ims.test",
        "--naptr-record=ims.test,10,10,s,SIP+D2U,,_sip._udp.ims.test",
        "--naptr-record=ims.test,20,10,s,SIP+D2T,,_sip._tcp.ims.test",
        "--srv-host=_sips._tcp.ims.test,pcscf9.ims.test,5061,1,0",
        "--srv-host=_sip._udp.ims.test,pcscf1.ims.test,5060,10,0",
        "--srv-host=_sip._udp.ims.test,pcscf2.ims.test,5062,20,0",
        "--srv-host=_sip._tcp.ims.test,pcscf2.ims.test,5070,10,0",
        "--host-record=pcscf1.ims.test,192.0.2.11,2001:db8:ff::11",
        "--host-record=pcscf2.ims.test,192.0.2.12",
        "--host-record=pcscf9.ims.test,192.0.2.19",
        "--srv-host=_sip._tcp.srv.test,pcscf3.ims.test,5080,0,0",
        "--host-record=pcscf3.ims.test,192.0.2.13",
        "--host-record=plain.test,192.0.2.14,2001:db8::14",
        "--srv-host=_sip._udp.weighted.test,light.ims.test,5060,10,1",
        "--srv-host=_sip._udp.weighted.test,heavy.ims.test,5060,10,99",
        "--host-record=light.ims.test,192.0.2.21",
        "--host-record=heavy.ims.test,192.0.2.22",
        "--naptr-record=" + card + ",10,10,s,SIP+D2U,,_sip._udp." + card,
        "--srv-host=_sip._udp." + card + ",pcscf5.ims.test,5090,0,0",
        "--host-record=pcscf5.ims.test,192.0.2.15",
    };
}

void requirePrivateNetwork() {
    // A namespace the test made holds loopback alone, or loopback and the daemon sandbox's
    // test link (tests/support/daemon-sandbox.sh); the host's has its real interfaces.
    // (/proc/1/ns/net, the plain comparison, is unreadable in some containers.)
    std::ifstream devices("/proc/net/dev");
    std::string line;
    std::vector<std::string> others;
    for (int number = 0; std::getline(devices, line); ++number) {
        if (number < 2) continue;  // the two header lines
        auto name = line.substr(0, line.find(':'));
        name.erase(0, name.find_first_not_of(' '));
        if (name != "lo" && name != "imsaka-test" && name != "imsaka-peer") others.push_back(name);
    }
    if (!devices.eof() || !others.empty())
        throw std::runtime_error(
            "the DNS tests must run in a network namespace of their own, with loopback alone "
            "(or the daemon sandbox's test link) "
            "(ctest runs them in unshare --net or the pcsc sandbox); this one has " +
            (others.empty() ? std::string("an unreadable /proc/net/dev") : others.front()));
}

Dnsmasq::Dnsmasq(const std::vector<std::string>& zone) {
    requirePrivateNetwork();
    auto binary = dnsmasqBinary();
    char pattern[] = "/tmp/imsaka-dnsmasq.XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    std::vector<std::string> args{binary,
                                  "--keep-in-foreground",
                                  "--conf-file=/dev/null",
                                  "--no-resolv",
                                  "--no-hosts",
                                  "--no-poll",
                                  "--pid-file=",
                                  "--user=root",
                                  "--listen-address=127.0.0.1",
                                  "--bind-interfaces",
                                  "--port=" + std::to_string(kDnsPort),
                                  "--local=/test/",
                                  "--local=/3gppnetwork.org/",
                                  "--log-queries",
                                  "--log-facility=" + dir_ + "/dnsmasq.log"};
    args.insert(args.end(), zone.begin(), zone.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
        throw std::runtime_error("cannot start dnsmasq");
    // dnsmasq logs "started" once its sockets are bound. Generous bound for a busy machine.
    for (int i = 0; i < 1000; ++i) {
        if (log().find("started, version") != std::string::npos) return;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("dnsmasq exited at start: " + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("dnsmasq did not start within 20 s: " + log());
}

Dnsmasq::~Dnsmasq() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) {
        unlink((dir_ + "/dnsmasq.log").c_str());
        rmdir(dir_.c_str());
    }
}

void Dnsmasq::pause() {
    kill(pid_, SIGSTOP);
}

void Dnsmasq::resume() {
    kill(pid_, SIGCONT);
}

bool Dnsmasq::queriesWaiting() {
    // "sl local_address rem_address st tx_queue:rx_queue ...", addresses and queues in hex.
    std::ifstream table("/proc/net/udp");
    std::string line;
    char port[8];
    std::snprintf(port, sizeof port, ":%04X", kDnsPort);
    std::getline(table, line);
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues;
        fields >> slot >> local >> remote >> state >> queues;
        if (!local.ends_with(port)) continue;
        auto colon = queues.find(':');
        if (colon != std::string::npos && std::stoul(queues.substr(colon + 1), nullptr, 16) > 0)
            return true;
    }
    return false;
}

std::string Dnsmasq::log() const {
    return readFile(dir_ + "/dnsmasq.log");
}

}  // namespace imsaka::dnstest
