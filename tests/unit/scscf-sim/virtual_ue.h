// The UE side of the simulator's tests: the virtual card (tools/vicc, default profile)
// answers AUTHENTICATE as the real one does, and REGISTER / SUBSCRIBE / responses are
// written as Kamailio's P-CSCF forwards them (its Via on top, Path, integrity-protected).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imsaka/sip/digest.h"
#include "imsaka/vicc/card.h"
#include "imsaka/vicc/profile.h"
#include "simulator.h"
#include "sip_message.h"

namespace imsaka::scscfsim::test {

inline const std::string kRealm = "ims.mnc001.mcc001.3gppnetwork.org";
inline const std::string kImpi = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
inline const std::string kImpu = "sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
inline const std::string kPath = "<sip:term@10.46.0.2:5060;lr>";
inline const Endpoint kPcscf{"10.46.0.2", 5060};

struct RegisterRequest {
    uint32_t cseq = 1;
    std::optional<uint32_t> expires = 600;  // Contact expires; nothing: no parameter
    std::string integrity = "no";           // the P-CSCF's integrity-protected; "" for none
    std::optional<sip::DigestCredentials> credentials{};  // else the empty initial Authorization
    std::string branch{};  // the P-CSCF's Via branch; default from cseq
};

class VirtualUe {
  public:
    explicit VirtualUe(std::string contactUri = "sip:001010000000001@10.46.0.1:5101",
                       std::string impu = kImpu, std::string callId = "reg1@10.46.0.1");

    std::string registerText(const RegisterRequest& request) const;
    std::string subscribeText(uint32_t cseq, uint32_t expires = 600000) const;
    // The UE's 200 to a request the simulator sent (as the P-CSCF relays it back).
    static std::string okTo(const SipMessage& request);

    // AUTHENTICATE on the virtual card's ISIM with the nonce of a 401's challenge.
    sip::AkaResult authenticate(const sip::DigestChallenge& challenge);
    // The Authorization answering a 401 from the card's result.
    sip::DigestCredentials answer(const SipMessage& unauthorized);
    sip::AkaResult lastResult() const;

    vicc::Card& card() { return *card_; }
    const vicc::Profile& profile() const { return profile_; }
    const std::string& contactUri() const { return contactUri_; }

  private:
    vicc::Profile profile_;
    std::unique_ptr<vicc::Card> card_;
    std::string contactUri_;
    std::string impu_;
    std::string callId_;
    std::optional<sip::AkaResult> last_;
};

// The challenge in a 401 (its raw WWW-Authenticate, parsed by the product's codec).
sip::DigestChallenge challengeOf(const SipMessage& unauthorized);

// Collects the simulator's event lines.
struct EventLog {
    std::vector<std::string> lines;
    Simulator::EventSink sink() {
        return [this](const std::string& line) { lines.push_back(line); };
    }
    bool has(const std::string& line) const;
    // Lines starting with `word ` (or equal to word).
    std::vector<std::string> starting(const std::string& word) const;
};

// The code of the SimError a call throws (a test failure when it throws none).
template <typename Call>
SimErrc errorOf(Call&& call) {
    try {
        call();
    } catch (const SimError& error) {
        return error.code();
    }
    ADD_FAILURE() << "no SimError";
    return SimErrc::Io;
}

// The single datagram of a batch, parsed.
SipMessage only(const std::vector<Datagram>& datagrams);

}  // namespace imsaka::scscfsim::test
