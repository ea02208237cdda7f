// system_pcscf: the network side of the systemd guest's registrations (tests/system). A
// P-CSCF over UDP and TCP (RFC 3261 18.2.1: a server listens on both; a REGISTER over 1300
// bytes comes over TCP, 18.1.1), run inside the namespace imsaka-pcscf: it answers each unprotected
// REGISTER with a real AKA challenge (ImsNetwork, for the virtual card's default profile),
// puts the network's side of the SA set into its namespace with `ip xfrm`, checks the
// protected REGISTER's Authorization and answers 200 OK (0 for a deregistration). It prints
// one line per event, and appends every secret of each challenge (RES, CK, IK) in hex to the
// file given, so that the test can look for them where they must not be (the journal).
#include <poll.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <list>
#include <sstream>
#include <string>
#include <vector>

#include "imsaka/common/bytes.h"
#include "imsaka/testing/ims_network.h"
#include "sip_message.h"
#include "transport.h"

namespace {

using imsaka::reg::Endpoint;

constexpr const char* kImpu = "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org";

std::string hex(uint32_t value) {
    std::ostringstream text;
    text << "0x" << std::hex << value;
    return text.str();
}

void run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

void removeSas() {
    run("ip xfrm state flush && ip xfrm policy flush");
}

// The network's side of the set (hmac-sha-1-96 with null encryption, what ImsNetwork
// picks): the four SAs, and policies for what the P-CSCF sends to the UE's ports over UDP
// and TCP (protocols 17 and 6, by number: the guest has no /etc/protocols).
void installSas(const imsaka::testing::Challenge& challenge, const std::string& ue,
                const std::string& pcscf) {
    std::string key = "0x" + imsaka::toHex(challenge.vector.ik) + "00000000";  // TS 33.203 I
    std::string algorithms =
        " mode transport auth-trunc 'hmac(sha1)' " + key + " 96 enc 'ecb(cipher_null)' ''";
    std::string toPcscf = " src " + ue + " dst " + pcscf;
    std::string toUe = " src " + pcscf + " dst " + ue;
    run("ip xfrm state add" + toPcscf + " proto esp spi " + hex(challenge.pcscf.spiS) + algorithms);
    run("ip xfrm state add" + toUe + " proto esp spi " + hex(challenge.ue.spiC) + algorithms);
    run("ip xfrm state add" + toUe + " proto esp spi " + hex(challenge.ue.spiS) + algorithms);
    run("ip xfrm state add" + toPcscf + " proto esp spi " + hex(challenge.pcscf.spiC) + algorithms);
    auto policy = [&](uint16_t from, uint16_t to, uint32_t spi) {
        for (const char* protocol : {"17", "6"})
            run("ip xfrm policy add src " + pcscf + "/32 dst " + ue + "/32 proto " + protocol +
                " sport " + std::to_string(from) + " dport " + std::to_string(to) +
                " dir out tmpl" + toUe + " proto esp spi " + hex(spi) + " mode transport");
    };
    policy(challenge.pcscf.portS, challenge.ue.portC, challenge.ue.spiC);
    policy(challenge.pcscf.portC, challenge.ue.portS, challenge.ue.spiS);
}

std::string response(const std::string& statusLine, const imsaka::testing::SipHeaders& headers) {
    std::string text = "SIP/2.0 " + statusLine + "\r\n";
    for (const auto& [name, value] : headers) text += name + ": " + value + "\r\n";
    return text + "Content-Length: 0\r\n\r\n";
}

bool isDeregistration(const imsaka::reg::Message& request) {
    return request.header("Expires") == "0" ||
           request.header("Contact").find("expires=0") != std::string::npos;
}

// What the UE sent, and how to answer it: over the same connection for TCP (RFC 3261
// 18.2.2), else as the caller says.
struct Received {
    std::string text;
    bool protectedPort;  // came to port_ps
    bool overTcp;
    Endpoint from;
    std::function<void(const std::string&)> answer;
};

struct Connection {
    imsaka::reg::Socket socket;
    imsaka::reg::StreamFramer framer;
    bool protectedPort;
};

class Pcscf {
  public:
    Pcscf(std::string ue, std::string pcscf, std::string secretsPath)
        : ue_(std::move(ue)), pcscf_(std::move(pcscf)), secretsPath_(std::move(secretsPath)) {}

    void run() {
        const auto& options = network_.options();
        auto unprotected = imsaka::reg::bindUdp({pcscf_, 5060});
        auto serverPort = imsaka::reg::bindUdp({pcscf_, options.portS});
        clientPort_ = imsaka::reg::bindUdp({pcscf_, options.portC});
        auto unprotectedTcp = imsaka::reg::listenTcp({pcscf_, 5060});
        auto serverTcp = imsaka::reg::listenTcp({pcscf_, options.portS});
        std::cout << "listening 5060 " << options.portS << " " << options.portC << std::endl;
        while (true) {
            std::vector<pollfd> fds = {{unprotected.fd(), POLLIN, 0},
                                       {serverPort.fd(), POLLIN, 0},
                                       {unprotectedTcp.fd(), POLLIN, 0},
                                       {serverTcp.fd(), POLLIN, 0}};
            for (const auto& connection : connections_)
                fds.push_back({connection.socket.fd(), POLLIN, 0});
            if (poll(fds.data(), fds.size(), -1) < 0) continue;
            if (fds[0].revents & POLLIN) receiveDatagram(unprotected, false);
            if (fds[1].revents & POLLIN) receiveDatagram(serverPort, true);
            if (fds[2].revents & POLLIN)
                connections_.push_back({imsaka::reg::accept(unprotectedTcp), {}, false});
            if (fds[3].revents & POLLIN)
                connections_.push_back({imsaka::reg::accept(serverTcp), {}, true});
            size_t index = 4;
            for (auto it = connections_.begin(); it != connections_.end() && index < fds.size();
                 ++index) {
                bool open = !(fds[index].revents & (POLLIN | POLLHUP | POLLERR)) || readFrom(*it);
                it = open ? std::next(it) : connections_.erase(it);
            }
        }
    }

  private:
    void receiveDatagram(const imsaka::reg::Socket& socket, bool protectedPort) {
        auto datagram = imsaka::reg::receiveDatagram(socket);
        if (!datagram) return;
        Endpoint from = datagram->from;
        // Answers to protected requests go from port_pc to port_us, inside the SAs.
        handle({datagram->data, protectedPort, false, from,
                [this, &socket, from, protectedPort](const std::string& text) {
                    if (protectedPort)
                        imsaka::reg::sendDatagram(clientPort_, {ue_, challenge_->ue.portS}, text);
                    else
                        imsaka::reg::sendDatagram(socket, from, text);
                }});
    }

    // False once the connection closed or cannot be framed.
    bool readFrom(Connection& connection) {
        auto bytes = imsaka::reg::receiveStream(connection.socket);
        if (!bytes) return false;
        connection.framer.append(*bytes);
        try {
            while (auto text = connection.framer.next()) {
                handle({*text, connection.protectedPort, true,
                        imsaka::reg::peerEndpoint(connection.socket),
                        [&connection](const std::string& answer) {
                            imsaka::reg::sendStream(connection.socket, answer);
                        }});
            }
        } catch (const std::exception& error) {
            std::cout << "closed a connection: " << error.what() << std::endl;
            return false;
        }
        return true;
    }

    void handle(const Received& received) {
        auto request = imsaka::reg::parseMessage(received.text);
        if (!request.isRequest) return;
        if (!received.protectedPort && request.method == "REGISTER")
            return challenge(received, request);
        if (!received.protectedPort || !challenge_) {
            std::cout << "ignored " << request.method << std::endl;
            return;
        }
        if (request.method == "REGISTER" && isDeregistration(request)) {
            received.answer(response("200 OK", network_.ok(request.headers, 0, {kImpu}, {})));
            std::cout << "deregistered" << std::endl;
        } else if (request.method == "REGISTER") {
            auto check = network_.checkAuthorization(request.headers, request.uri);
            bool valid = check.kind == imsaka::testing::AuthorizationKind::Valid ||
                         request.header("Authorization").find("response=") ==
                             std::string::npos;  // a refresh over the SAs
            std::string status = valid ? "200 OK" : "403 Forbidden";
            auto headers = valid ? network_.ok(request.headers, 3600, {kImpu}, {})
                                 : network_.response(request.headers);
            received.answer(response(status, headers));
            std::cout << (valid ? "registered" : "refused")
                      << (received.overTcp ? " over tcp" : " over udp") << std::endl;
        } else {
            auto ok = network_.response(request.headers);
            if (request.method == "SUBSCRIBE") ok.emplace_back("Expires", "600000");
            received.answer(response("200 OK", ok));
            std::cout << "answered " << request.method << std::endl;
        }
    }

    // An unprotected REGISTER: a real AKA challenge and the network's side of its SA set. A
    // retransmission over UDP (the UE resends after 500 ms, RFC 3261 timer A, and installing
    // SAs here may take longer) gets the same 401, not a new challenge whose SAs would
    // replace the first's.
    void challenge(const Received& received, const imsaka::reg::Message& request) {
        std::string transaction = request.branch + " " + request.cseq;
        if (!received.overTcp && transaction == lastTransaction_) {
            received.answer(last401_);
            std::cout << "retransmitted 401" << std::endl;
            return;
        }
        challenge_ = network_.challenge(request.headers);
        removeSas();
        installSas(*challenge_, ue_, pcscf_);
        std::ofstream(secretsPath_, std::ios::app) << imsaka::toHex(challenge_->vector.xres) << "\n"
                                                   << imsaka::toHex(challenge_->vector.ck) << "\n"
                                                   << imsaka::toHex(challenge_->vector.ik) << "\n";
        lastTransaction_ = transaction;
        last401_ = response("401 Unauthorized", challenge_->headers);
        received.answer(last401_);
        std::cout << "challenged from=" << received.from.text()
                  << " port-uc=" << challenge_->ue.portC << " port-us=" << challenge_->ue.portS
                  << std::endl;
    }

    const std::string ue_, pcscf_, secretsPath_;
    imsaka::testing::ImsNetwork network_;
    imsaka::reg::Socket clientPort_;
    std::list<Connection> connections_;
    std::optional<imsaka::testing::Challenge> challenge_;
    std::string lastTransaction_, last401_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: system_pcscf UE_ADDRESS PCSCF_ADDRESS SECRETS_FILE\n";
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    try {
        Pcscf(argv[1], argv[2], argv[3]).run();
    } catch (const std::exception& error) {
        std::cerr << "system_pcscf: " << error.what() << std::endl;
        return 1;
    }
}
