// The S-CSCF and HSS behind the P-CSCF, without I/O: SIP text in, datagrams to send and
// event lines out. REGISTER is challenged with Milenage vectors for the subscriber (AKAv1 or
// AKAv2, ck/ik for the P-CSCF), checked against an independent digest from XRES, and
// answered as TS 24.229 5.4.1 asks; SUBSCRIBE to the reg event gets 200 and NOTIFYs sent
// through the registration's Path. Switches make it fail the ways a network does.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imsaka/sip/digest.h"
#include "imsaka/testing/aka_centre.h"
#include "sip_message.h"

namespace imsaka::scscfsim {

// What a reg-event NOTIFY tells about the registered contacts.
enum class ContactNews { Active, Shortened, Deactivated, Rejected };
std::optional<ContactNews> contactNewsFromString(std::string_view text);
std::string_view toString(ContactNews news);

struct SimOptions {
    // The virtual card's default subscriber (tools/vicc/profiles/default.ini).
    std::string k = "465b5ce8b199b49faa5f0a2ee238a6bc";
    std::string opc = "cd63cb71954a9f4e48a5994e37a02baf";
    std::string amf = "8000";
    std::string realm = "ims.mnc001.mcc001.3gppnetwork.org";
    Endpoint listen{"127.0.0.1", 6060};
    uint64_t sqn = 32;  // of the first challenge; each challenge adds 32 (next SEQ, same IND)
    sip::DigestAlgorithm algorithm = sip::DigestAlgorithm::AkaV1Md5;
    uint32_t maxExpires = 3600;
    std::optional<uint32_t> minExpires{};  // 423 below it
    std::optional<int> failProtected{};    // status for a REGISTER that answers a challenge
    bool wrongK = false;                   // vectors made with another K
    bool sqnBehind = false;                // first challenge at SQN 0, which no card takes
    bool challengeRefresh = true;          // false: protected re-REGISTERs get 200 at once
    std::optional<ContactNews> notifyAfterRegister{};
    std::vector<std::string> associatedUris = {"tel:+15550000001"};  // after the IMPU
    uint32_t shortenedExpires = 60;  // expires a "shortened" contact is given
};

struct Datagram {
    Endpoint to;
    std::string text;
};

class Simulator {
  public:
    using Clock = std::chrono::steady_clock;
    using EventSink = std::function<void(const std::string&)>;

    // Throws testing::ImsNetworkError when K, OPc or AMF is not hex of the right length.
    Simulator(
        SimOptions options, EventSink events,
        std::function<Clock::time_point()> now = [] { return Clock::now(); });

    // A datagram from the network. Throws SimError(BadMessage) for text libosip2 rejects;
    // nothing changes then.
    std::vector<Datagram> receive(std::string_view text);
    // One stdin line: notify active|shortened|deactivated|rejected, message, quit.
    // Throws SimError(UnknownCommand).
    std::vector<Datagram> command(std::string_view line);
    bool quitRequested() const { return quit_; }

    // Our own requests (NOTIFY, MESSAGE) are retransmitted over UDP until answered
    // (RFC 3261 17.1.2: T1 doubling to T2, given up after 64*T1).
    std::optional<Clock::time_point> nextTimer() const;
    std::vector<Datagram> expireTimers();

    // The SQN the next challenge for this IMPI takes.
    uint64_t nextSqn(std::string_view impi) const;

  private:
    struct Outstanding {
        testing::IssuedVector issued;
        std::string opaque;
    };
    struct Subscriber {
        uint64_t nextSqn = 0;
        bool behindUsed = false;
        std::deque<Outstanding> challenges;  // issued and not yet answered
    };
    struct Binding {
        std::string key;  // +sip.instance and reg-id (RFC 5626), else the URI
        std::string id;
        ContactValue contact;
        Clock::time_point endsAt;  // the registrar drops the binding then
        std::vector<std::string> path;
        std::string callId;
        uint32_t cseq = 0;
        std::string event;  // registered | refreshed | shortened
    };
    struct Subscription {
        std::string aor;
        std::string callId;
        std::string localTag;
        std::string remote;  // the subscriber's From
        std::string remoteTarget;
        std::vector<std::string> route;
        uint32_t localCSeq = 0;
        uint32_t expires = 0;
        uint32_t version = 0;
        bool initialNotifyAnswered = false;
    };
    struct ClientTransaction {
        std::string method;
        std::string news;  // NOTIFY: the state it carried
        std::string subscriptionCallId;
        bool initialNotify = false;
        Datagram datagram;
        Clock::time_point nextAt;
        Clock::duration interval;
        Clock::time_point giveUpAt;
    };

    // Drops the bindings whose time ran out (and the subscriptions of AoRs left empty).
    void dropExpiredBindings();
    uint32_t secondsLeft(const Binding& binding) const;
    std::vector<Datagram> handleRegister(const SipMessage& request);
    std::vector<Datagram> handleSubscribe(const SipMessage& request);
    void handleResponse(const SipMessage& response, std::vector<Datagram>& out);

    Datagram challenge(const SipMessage& request, const std::string& impi);
    Datagram registerContacts(const SipMessage& request, uint32_t asked);
    Datagram deregisterContacts(const SipMessage& request);
    Datagram respond(const SipMessage& request, int status, std::string_view reason,
                     const std::vector<std::string>& extraHeaders = {},
                     std::optional<std::string> toTag = std::nullopt);

    std::vector<Datagram> notifyAll(ContactNews news, const std::string& aorFilter = {});
    Datagram sendNotify(Subscription& subscription, ContactNews news, bool terminated,
                        bool initial);
    std::vector<Datagram> sendMessages();
    Datagram startTransaction(ClientTransaction transaction, const std::string& branch);

    std::string reginfoFor(const std::string& aor, ContactNews news, uint32_t version) const;
    std::vector<std::string> associatedUris(const std::string& impu) const;
    std::string serverUri(std::string_view user) const;
    void emit(const std::string& line) { events_(line); }

    SimOptions options_;
    EventSink events_;
    std::function<Clock::time_point()> now_;
    testing::AkaCentre centre_;
    std::optional<testing::AkaCentre> wrongCentre_;
    std::map<std::string, Subscriber, std::less<>> subscribers_;          // by IMPI
    std::map<std::string, std::vector<Binding>, std::less<>> bindings_;   // by IMPU
    std::map<std::string, Subscription, std::less<>> subscriptions_;      // by Call-ID
    std::map<std::string, ClientTransaction, std::less<>> transactions_;  // by branch
    std::map<std::string, Datagram, std::less<>> responseCache_;          // Call-ID, CSeq, branch
    std::deque<std::string> cacheOrder_;
    uint32_t nextBindingId_ = 1;
    bool afterRegisterSent_ = false;
    bool quit_ = false;
};

}  // namespace imsaka::scscfsim
