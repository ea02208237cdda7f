// system_pcscf: the network side of the systemd guest's registrations (tests/system). A
// P-CSCF over UDP, run inside the namespace imsaka-pcscf: it answers each unprotected
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
#include <iostream>
#include <sstream>
#include <string>

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
// picks): the four SAs, and policies for what the P-CSCF sends to the UE's ports (protocol
// 17, UDP, by number: the guest has no /etc/protocols).
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
        run("ip xfrm policy add src " + pcscf + "/32 dst " + ue + "/32 proto 17 sport " +
            std::to_string(from) + " dport " + std::to_string(to) + " dir out tmpl" + toUe +
            " proto esp spi " + hex(spi) + " mode transport");
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

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: system_pcscf UE_ADDRESS PCSCF_ADDRESS SECRETS_FILE\n";
        return 2;
    }
    const std::string ue = argv[1], pcscf = argv[2], secretsPath = argv[3];
    signal(SIGPIPE, SIG_IGN);
    try {
        imsaka::testing::ImsNetwork network;
        const auto& options = network.options();
        auto unprotected = imsaka::reg::bindUdp({pcscf, 5060});
        auto serverPort = imsaka::reg::bindUdp({pcscf, options.portS});
        auto clientPort = imsaka::reg::bindUdp({pcscf, options.portC});
        std::cout << "listening 5060 " << options.portS << " " << options.portC << std::endl;
        std::optional<imsaka::testing::Challenge> challenge;
        // The last unprotected REGISTER's transaction and our 401: a retransmission (the UE
        // resends after 500 ms, RFC 3261 timer A, and installing SAs here may take longer)
        // gets the same 401, not a new challenge whose SAs would replace the first's.
        std::string lastTransaction, last401;
        while (true) {
            pollfd fds[2] = {{unprotected.fd(), POLLIN, 0}, {serverPort.fd(), POLLIN, 0}};
            if (poll(fds, 2, -1) < 0) continue;
            for (int i = 0; i < 2; ++i) {
                if (!(fds[i].revents & POLLIN)) continue;
                auto& socket = i == 0 ? unprotected : serverPort;
                auto datagram = imsaka::reg::receiveDatagram(socket);
                if (!datagram) continue;
                auto request = imsaka::reg::parseMessage(datagram->data);
                if (!request.isRequest) continue;
                if (i == 0 && request.method == "REGISTER") {
                    std::string transaction = request.branch + " " + request.cseq;
                    if (transaction == lastTransaction) {
                        imsaka::reg::sendDatagram(socket, datagram->from, last401);
                        std::cout << "retransmitted 401" << std::endl;
                        continue;
                    }
                    challenge = network.challenge(request.headers);
                    removeSas();
                    installSas(*challenge, ue, pcscf);
                    std::ofstream(secretsPath, std::ios::app)
                        << imsaka::toHex(challenge->vector.xres) << "\n"
                        << imsaka::toHex(challenge->vector.ck) << "\n"
                        << imsaka::toHex(challenge->vector.ik) << "\n";
                    lastTransaction = transaction;
                    last401 = response("401 Unauthorized", challenge->headers);
                    imsaka::reg::sendDatagram(socket, datagram->from, last401);
                    std::cout << "challenged from=" << datagram->from.text()
                              << " port-uc=" << challenge->ue.portC
                              << " port-us=" << challenge->ue.portS << std::endl;
                    continue;
                }
                if (i != 1 || !challenge) {
                    std::cout << "ignored " << request.method << std::endl;
                    continue;
                }
                // Answers go from port_pc to port_us, inside the SAs.
                Endpoint to{ue, challenge->ue.portS};
                if (request.method == "REGISTER" && isDeregistration(request)) {
                    imsaka::reg::sendDatagram(
                        clientPort, to,
                        response("200 OK", network.ok(request.headers, 0, {kImpu}, {})));
                    std::cout << "deregistered" << std::endl;
                } else if (request.method == "REGISTER") {
                    auto check = network.checkAuthorization(request.headers, request.uri);
                    bool valid = check.kind == imsaka::testing::AuthorizationKind::Valid ||
                                 request.header("Authorization").find("response=") ==
                                     std::string::npos;  // a refresh over the SAs
                    std::string status = valid ? "200 OK" : "403 Forbidden";
                    auto headers = valid ? network.ok(request.headers, 3600, {kImpu}, {})
                                         : network.response(request.headers);
                    imsaka::reg::sendDatagram(clientPort, to, response(status, headers));
                    std::cout << (valid ? "registered" : "refused") << std::endl;
                } else {
                    auto ok = network.response(request.headers);
                    if (request.method == "SUBSCRIBE") ok.emplace_back("Expires", "600000");
                    imsaka::reg::sendDatagram(clientPort, to, response("200 OK", ok));
                    std::cout << "answered " << request.method << std::endl;
                }
            }
        }
    } catch (const std::exception& error) {
        std::cerr << "system_pcscf: " << error.what() << std::endl;
        return 1;
    }
}
