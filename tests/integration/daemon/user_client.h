// Clients of imsakad for the daemon tests: a root client of imsakad over the sandbox's bus, and
// clients running as other users (tests/support/test-accounts.sh), each a child process that
// answers one command per line. Calls go through plain method names rather than generated
// proxies, so a method the daemon lacks is an error reply (UnknownMethod), not a build error.
#pragma once

#include <sdbus-c++/sdbus-c++.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace imsaka::busclient {

using Options = std::map<std::string, sdbus::Variant>;
using Properties = std::map<std::string, sdbus::Variant>;

inline constexpr const char* kService = "org.imsaka";
inline constexpr const char* kCardInterface = "org.imsaka.Card1";
inline constexpr const char* kManagerInterface = "org.imsaka.Manager1";
inline constexpr const char* kRegistrationInterface = "org.imsaka.Registration1";
inline constexpr const char* kFirstReader = "Virtual PCD 00 00";

// An environment variable that daemon-sandbox.sh sets; throws when it is missing.
std::string sandboxValue(const char* name);

// The D-Bus error name of a call that failed, or "" when it succeeded.
std::string errorNameOf(const std::function<void()>& call);
// "NAME: message" of a call that failed, or "" when it succeeded.
std::string errorTextOf(const std::function<void()>& call);

// One bus connection and the daemon's methods on it.
class Client {
  public:
    Client();
    sdbus::IConnection& connection() { return *connection_; }

    std::string createRegistration(const Options& options);
    void close(const std::string& registration);
    // Close() without waiting for its reply: the next call queues right behind it.
    void closeWithoutWaiting(const std::string& registration);
    uint8_t verifyPin(const std::string& card, const std::string& pin);
    void unblockPin(const std::string& card, const std::string& puk, const std::string& newPin);
    Properties cardProperties(const std::string& card);
    // The Card1 object of a reader.
    std::string cardOfReader(const std::string& reader);
    // Polls the card until its State is `state` (30 s at most); returns its properties.
    Properties waitForCardState(const std::string& card, const std::string& state);
    // The daemon owns its name before it has read the card: waits until the first reader's
    // card is ready.
    void waitForReadyCard() { waitForCardState(cardOfReader(kFirstReader), "ready"); }

  private:
    std::unique_ptr<sdbus::IConnection> connection_;
};

// A sdbus property as text or number, for assertions.
std::string text(const Properties& properties, const std::string& name);
unsigned number(const Properties& properties, const std::string& name);

// CreateRegistration options towards the sandbox's P-CSCF address, from its UE address.
Options sandboxRegistration();

// A child process that runs as `user` (initgroups, setgid, setuid) and answers commands:
//   connect                        -> "ok N" (a new bus connection, numbered from 0)
//   create N PCSCF LOCAL           -> "ok PATH" | "error NAME"  (on connection N)
//   verify-pin CARD PIN            -> "ok RETRIES" | "error NAME"
//   unblock-pin CARD PUK PIN       -> "ok" | "error NAME"
//   listen                         -> "ok": a connection that watches org.imsaka's signals
//   sync                           -> "seen LIST": every signal from org.imsaka received on
//                                     it so far, as Interface.Member, comma-separated, or
//                                     "seen -". A round trip to the bus first, so anything
//                                     the bus sent it before that call has been read.
class UserClient {
  public:
    explicit UserClient(const std::string& user);
    ~UserClient();
    UserClient(const UserClient&) = delete;
    UserClient& operator=(const UserClient&) = delete;
    // Sends one command, returns its answer line ("" when none came within 30 s).
    std::string ask(const std::string& command);

  private:
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
    std::string buffered_;
};

// The child side: main() runs this for "--client USER".
int runUserClient(const std::string& user);

}  // namespace imsaka::busclient
