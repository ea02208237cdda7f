#include "pcscf_security.h"

#include <openssl/crypto.h>

#include <array>
#include <cstdio>
#include <regex>
#include <stdexcept>

namespace imsaka::conformance {
namespace {

std::string hexKey(ByteView key) {
    return "0x" + toHex(key);
}

std::string commandOutput(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string output;
    char buffer[4096];
    size_t length;
    while ((length = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, length);
    pclose(pipe);
    return output;
}

// The four SAs of a set with their selectors, as the header comment lists them.
struct Sa {
    std::string source, destination;
    uint16_t sourcePort, destinationPort;
    uint32_t spi;
    const char* direction;
};
std::array<Sa, 4> sasOf(const SaSet& set) {
    return {{{set.ue, set.pcscf, set.portUc, set.portPs, set.spiPs, "in"},
             {set.pcscf, set.ue, set.portPs, set.portUc, set.spiUc, "out"},
             {set.pcscf, set.ue, set.portPc, set.portUs, set.spiUs, "out"},
             {set.ue, set.pcscf, set.portUs, set.portPc, set.spiPc, "in"}}};
}

}  // namespace

std::string SaSet::describe() const {
    return "set " + std::to_string(id) + " " + integrity + "/" + encryption + " UE " + ue +
           " uc=" + std::to_string(portUc) + "/spi " + std::to_string(spiUc) +
           " us=" + std::to_string(portUs) + "/spi " + std::to_string(spiUs) + ", P " + pcscf +
           " pc=" + std::to_string(portPc) + "/spi " + std::to_string(spiPc) +
           " ps=" + std::to_string(portPs) + "/spi " + std::to_string(spiPs);
}

PcscfSecurity::PcscfSecurity(std::string netns) : netns_(std::move(netns)) {
    batch("xfrm state flush\nxfrm policy flush\n");
}

PcscfSecurity::~PcscfSecurity() {
    try {
        batch("xfrm state flush\nxfrm policy flush\n");
    } catch (const std::exception&) {
        // The namespace went first: nothing left to flush.
    }
}

void PcscfSecurity::batch(const std::string& commands) const {
    FILE* pipe = popen(("ip -n " + netns_ + " -batch - 2>&1").c_str(), "w");
    if (!pipe) throw std::runtime_error("cannot run ip -batch");
    fwrite(commands.data(), 1, commands.size(), pipe);
    if (pclose(pipe) != 0) throw std::runtime_error("ip -batch failed in " + netns_);
}

void PcscfSecurity::install(const SaSet& set, ByteView ck, ByteView ik) {
    if (ck.size() != 16 || ik.size() != 16) throw std::invalid_argument("CK and IK are 16 bytes");
    SecureBytes integrityKey(ik.begin(), ik.end());
    std::string authentication;
    if (set.integrity == "hmac-md5-96") {
        authentication = "auth-trunc 'hmac(md5)' ";
    } else if (set.integrity == "hmac-sha-1-96") {
        integrityKey.resize(20, 0);  // IK || 32 zero bits
        authentication = "auth-trunc 'hmac(sha1)' ";
    } else {
        throw std::invalid_argument("unknown integrity algorithm " + set.integrity);
    }
    authentication += hexKey(integrityKey) + " 96";
    std::string encryption;
    if (set.encryption == "null") {
        encryption = "enc 'ecb(cipher_null)' ''";
    } else if (set.encryption == "aes-cbc") {
        encryption = "enc 'cbc(aes)' " + hexKey(ck);
    } else if (set.encryption == "des-ede3-cbc") {
        SecureBytes key(ck.begin(), ck.end());
        key.insert(key.end(), ck.begin(), ck.begin() + 8);  // CK1 || CK2 || CK1
        encryption = "enc 'cbc(des3_ede)' " + hexKey(key);
    } else {
        throw std::invalid_argument("unknown encryption algorithm " + set.encryption);
    }

    std::string commands;
    for (const auto& sa : sasOf(set)) {
        uint32_t reqid = nextReqid_++;
        commands += "xfrm state add src " + sa.source + " dst " + sa.destination +
                    " proto esp spi " + std::to_string(sa.spi) + " reqid " + std::to_string(reqid) +
                    " mode transport " + authentication + " " + encryption + "\n";
        commands += "xfrm policy add src " + sa.source + " dst " + sa.destination + " sport " +
                    std::to_string(sa.sourcePort) + " dport " + std::to_string(sa.destinationPort) +
                    " dir " + sa.direction + " tmpl src " + sa.source + " dst " + sa.destination +
                    " proto esp reqid " + std::to_string(reqid) + " mode transport\n";
    }
    batch(commands);
    OPENSSL_cleanse(commands.data(), commands.size());
    OPENSSL_cleanse(authentication.data(), authentication.size());
    OPENSSL_cleanse(encryption.data(), encryption.size());
}

void PcscfSecurity::remove(const SaSet& set) {
    std::string commands;
    for (const auto& sa : sasOf(set)) {
        commands += "xfrm state delete src " + sa.source + " dst " + sa.destination +
                    " proto esp spi " + std::to_string(sa.spi) + "\n";
        commands += "xfrm policy delete src " + sa.source + " dst " + sa.destination + " sport " +
                    std::to_string(sa.sourcePort) + " dport " + std::to_string(sa.destinationPort) +
                    " dir " + sa.direction + "\n";
    }
    batch(commands);
}

std::string PcscfSecurity::dump() const {
    return "P-CSCF xfrm state:\n" +
           withoutKeys(commandOutput("ip -n " + netns_ + " -s xfrm state 2>&1")) +
           "P-CSCF xfrm policy:\n" + commandOutput("ip -n " + netns_ + " xfrm policy 2>&1");
}

std::string withoutKeys(const std::string& ipXfrmState) {
    // Keys print as 0x and 32 or more hex digits; SPIs and reqids are shorter.
    static const std::regex key("0x[0-9a-fA-F]{32,}");
    return std::regex_replace(ipXfrmState, key, "0x(key)");
}

}  // namespace imsaka::conformance
