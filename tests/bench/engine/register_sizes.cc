// The size of the REGISTERs imsakad hands out, written as imsaka-register writes them, with
// identities and addresses of realistic length (IPv6, an IMSI-derived private identity, an
// MSISDN public one), and what each becomes on the wire: IPv6 + UDP or TCP, and inside ESP
// (transport mode, hmac-sha-1-96, null or aes-cbc) when protected. RFC 3261 18.1.1 sends
// requests over 1300 bytes over TCP; the "via" column is the transport the engine chose.
// With SHOW set in the environment it prints each request too.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_support.h"
#include "imsaka/daemon/engine.h"
#include "sip_message.h"

namespace {

using namespace imsaka;
using namespace imsaka::daemon;
using namespace imsaka::daemon::bench;

constexpr SecurityOffer kOffer{40000, 40001, 1866233017, 1866233018};
constexpr SecurityOffer kRefreshOffer{40002, 40001, 2951036542, 2951036543};

struct Scenario {
    const char* name;
    std::vector<sip::EncryptionAlgorithm> encryption;
    bool services;  // feature tags of MMTel and SMS, P-Access-Network-Info, User-Agent
};

RegistrationConfig config(const Scenario& scenario) {
    RegistrationConfig config;
    config.impi = "262011234567890@ims.mnc001.mcc262.3gppnetwork.org";
    config.impu = "sip:+4915112345678@ims.mnc001.mcc262.3gppnetwork.org";
    config.homeDomain = "ims.mnc001.mcc262.3gppnetwork.org";
    config.instanceId = "<urn:gsma:imei:35209900-176148-1>";
    config.localAddress = "2a01:598:a1b2:c3d4:1234:5678:9abc:def0";
    config.pcscfs = {{"2a01:598:ffff:1::10", 5060}};
    // imsakad's default offer: hmac-sha-1-96 and hmac-md5-96 with the scenario's ciphers.
    config.integrity = {sip::IntegrityAlgorithm::HmacSha1_96, sip::IntegrityAlgorithm::HmacMd5_96};
    config.encryption = scenario.encryption;
    if (scenario.services) {
        config.featureTags = {"+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"",
                              "+g.3gpp.smsip"};
        config.extraHeaders = {
            {"P-Access-Network-Info", "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=2620100010000001A"},
            {"User-Agent", "imsaka-register/0.1"}};
    }
    return config;
}

std::vector<Header> challenge() {
    sip::AkaNonce nonce{};
    for (size_t i = 0; i < 16; ++i) {
        nonce.rand[i] = static_cast<uint8_t>(0x11 * i + 3);
        nonce.autn[i] = static_cast<uint8_t>(0x07 * i + 9);
    }
    nonce.serverData = Bytes(16, 0x5a);  // networks add a few bytes of their own
    return {{"WWW-Authenticate", "Digest realm=\"ims.mnc001.mcc262.3gppnetwork.org\", nonce=\"" +
                                     sip::encodeAkaNonce(nonce) +
                                     "\", algorithm=AKAv1-MD5, qop=\"auth\""},
            {"Security-Server",
             "ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=3518963611;spi-s=3518963612;"
             "port-c=65123;port-s=5064;prot=esp;mod=trans"}};
}

std::vector<Header> ok(const OutgoingRegister& request) {
    std::string contact = headerOf(request, "Contact");
    return {{"Contact", contact.substr(0, contact.find(";expires=")) + ";expires=600000"}};
}

const sip::AkaResult kCard =
    sip::AkaSuccess{SecureBytes(8, 0xa5), SecureBytes(16, 0x3c), SecureBytes(16, 0x5a)};

// ESP in transport mode: SPI and sequence number, the cipher's IV, the payload padded with
// its 2-byte trailer to the cipher's block (4 bytes for null), and the 12-byte ICV.
size_t esp(size_t payload, bool aes) {
    size_t block = aes ? 16 : 4;
    size_t padded = (payload + 2 + block - 1) / block * block;
    return 8 + (aes ? 16 : 0) + padded + 12;
}

void print(const char* scenario, const char* what, const OutgoingRegister& request) {
    std::string text = reg::buildRequest(
        "REGISTER", request.requestUri,
        std::vector<reg::Header>(request.headers.begin(), request.headers.end()), reg::newBranch());
    size_t sip = text.size();
    if (std::getenv("SHOW")) std::printf("%s\n", text.c_str());
    size_t udp = 8 + sip, tcp = 32 + sip;  // TCP with the timestamp option
    auto ip = [&](size_t transport, bool aes) {
        return 40 + (request.protectedBySa ? esp(transport, aes) : transport);
    };
    std::printf("%-30s %-22s %5zu %5zu %5s %6zu %6zu %6zu %6zu\n", scenario, what, sip,
                requestSize(request), std::string(toString(request.transport)).c_str(),
                ip(udp, false), ip(udp, true), ip(tcp, false), ip(tcp, true));
}

void measure(const Scenario& scenario) {
    RegistrationEngine engine(config(scenario));
    Time now{};
    engine.registerNow(now);
    auto initial = first<action::Send>(engine.securityReserved(now, kOffer)).request;
    print(scenario.name, "unprotected REGISTER", initial);
    engine.response(now, answer(401, initial, challenge()));
    auto install = first<action::InstallSaSet>(engine.authenticated(now, kCard));
    auto protectedRegister =
        first<action::Send>(engine.saSetInstalled(now, install.set.id)).request;
    print(scenario.name, "protected REGISTER", protectedRegister);
    engine.response(now, answer(200, protectedRegister, ok(protectedRegister)));
    engine.registerNow(now);
    auto refresh = first<action::Send>(engine.securityReserved(now, kRefreshOffer)).request;
    print(scenario.name, "re-REGISTER", refresh);
}

}  // namespace

int main() {
    std::printf("%-30s %-22s %5s %5s %5s %6s %6s %6s %6s\n", "", "", "SIP", "size", "via", "IPv6/",
                "IPv6/", "IPv6/", "IPv6/");
    std::printf("%-30s %-22s %5s %5s %5s %6s %6s %6s %6s\n", "offer", "request", "bytes", "(est)",
                "", "UDP", "UDP", "TCP", "TCP");
    std::printf("%-30s %-22s %5s %5s %5s %6s %6s %6s %6s\n", "", "", "", "", "", "null", "aes",
                "null", "aes");
    using E = sip::EncryptionAlgorithm;
    for (const auto& scenario : {
             Scenario{"default (4 mechanisms)", {E::Null, E::AesCbc}, false},
             Scenario{"default, MMTel+SMS, P-ANI, UA", {E::Null, E::AesCbc}, true},
             Scenario{"six mechanisms, MMTel+SMS...", {E::Null, E::DesEde3Cbc, E::AesCbc}, true},
         })
        measure(scenario);
    std::printf(
        "(IP sizes: an unprotected request has no ESP, so its null and aes columns agree;"
        " TCP counts one segment with the timestamp option.)\n");
}
