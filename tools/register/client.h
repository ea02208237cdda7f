// The SIP side of a registration: sends what imsakad asks for, hands the answers back, keeps
// the sockets the ports call for, answers requests from the P-CSCF and follows RefreshDue.
// One thread: poll() over the sockets, the bus connection and the signals.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "registration.h"
#include "sip_message.h"
#include "transport.h"

namespace imsaka::reg {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;

struct ClientSettings {
    bool subscribe = true;
    unsigned cycles = 0;  // register then deregister this many times, then end; 0: run on
    // RFC 3261 timers with 24.229's T1 for a UE; timer F (64*T1) can be shortened for tests.
    Milliseconds t1{2000};
    Milliseconds t2{16000};
    Milliseconds timerF{128000};
};

class Client {
  public:
    Client(sdbus::IConnection& bus, Registration& registration, ClientSettings settings);
    ~Client();

    // Registers and stays registered until SIGINT/SIGTERM (then deregisters: 0) or until the
    // registration fails or the network ends it (1); with cycles, 0 after the last cycle.
    int run();

  private:
    // A socket SIP comes in on; replies to what came in go back through it.
    struct Link {
        enum class Kind { Datagram, Listener, Stream } kind;
        Socket socket;
        bool isProtected = false;
        bool connected = false;  // streams: connect() done
        uint16_t port = 0;       // protected links: the port it is bound to
        StreamFramer framer;
    };

    enum class Outcome { Registered, Unchanged, Ended };
    Outcome registerOnce(Step step);
    bool deregister();
    int runCycles();
    std::string exchange(Step step);
    std::optional<Message> transact(const Step& step, const std::string& method);
    void subscribe();
    Outcome handleNotifies();

    Link& linkFor(const Step& step);
    void openServerLinks();
    void waitFor(std::optional<Clock::time_point> deadline);
    void readFrom(Link& link);
    void dispatch(const std::string& text, Link& link, const Endpoint& from);
    void answer(const Message& request, const std::string& text, Link& link, const Endpoint& to);
    void closeLink(Link& link);
    ProtectedPairs protectedPairs();
    void printRegistered();
    void printFailure(const std::string& error, const std::string& message);

    sdbus::IConnection& bus_;
    Registration& registration_;
    ClientSettings settings_;
    std::string transport_;
    int signals_ = -1;  // signalfd for SIGINT and SIGTERM
    bool stopRequested_ = false;

    // By transport: a request names its own ("tcp" for a large one, RFC 3261 18.1.1).
    std::map<std::string, std::unique_ptr<Link>> unprotected_;
    std::map<std::string, std::unique_ptr<Link>> clients_;  // protected, from port_uc
    std::unique_ptr<Link> serverUdp_;                       // protected, on port_us
    std::unique_ptr<Link> serverTcp_;                       // listening on port_us
    std::vector<std::unique_ptr<Link>> previousServers_;    // a port_us given up
    std::vector<std::unique_ptr<Link>> accepted_;
    uint16_t portUs_ = 0;

    // The transaction outstanding: its branch, the link it went out on, its final response.
    std::string awaitedBranch_;
    Link* awaitedLink_ = nullptr;
    bool awaitedLinkClosed_ = false;
    std::optional<Message> finalResponse_;

    // Requests are answered when they arrive; reg-event bodies wait until no REGISTER is
    // outstanding (Kamailio may send the NOTIFY before the 200 OK of the SUBSCRIBE).
    std::deque<std::string> notifyBodies_;
    std::set<std::string> seenRequests_;  // Call-ID + CSeq: a retransmission is not new

    uint16_t lastStatus_ = 0;
    std::optional<uint32_t> granted_;  // the lifetime the last 2xx to a REGISTER granted
    Headers lastRegister_;             // the daemon's headers of the last protected REGISTER
    Clock::time_point firstSent_;
    Clock::time_point finalReceived_;
    Clock::duration challenge_{};  // in HandleResponse(401): the card and the SA set
    bool subscribed_ = false;
    std::optional<Clock::time_point> subscribeAgainAt_;  // after 503 with Retry-After
    unsigned subscribeCseq_ = 0;
    std::string subscribeCallId_;
    std::string subscribeTag_;
};

}  // namespace imsaka::reg
