#pragma once

// The DNS side of rfc3263.h, through c-ares: runs Procedures, making their queries on one
// c-ares channel and parsing the answers with c-ares's own parsers. It owns no thread and
// no loop: the caller watches the sockets it names and calls process() and
// processTimeouts(), so it fits any fd-based event loop.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "imsaka/resolver/rfc3263.h"

namespace imsaka::resolver {

class ResolverError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct ResolverOptions {
    // "192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:5353"; empty means
    // the servers of /etc/resolv.conf.
    std::vector<std::string> servers;
    std::chrono::milliseconds queryTimeout{2000};  // first try of one query; c-ares backs off
    int tries = 2;                                 // per query and server
};

// A DNS answer message (as c-ares hands it over) read with c-ares's parser for the type.
// Public for the fuzz target; a message that does not parse is an Answer of status Failed.
Answer parseAnswer(RecordType type, const unsigned char* message, int length);

class AresResolver {
  public:
    // Called when c-ares wants (or no longer wants, both false) events on a socket.
    using SocketWatch = std::function<void(int fd, bool readable, bool writable)>;
    // The finished procedure: targets(), or failure().
    using Done = std::function<void(const Procedure&)>;
    using Id = uint64_t;

    // Throws ResolverError when c-ares cannot start or a server is not an address.
    AresResolver(ResolverOptions options, SocketWatch watch, RandomSource random = defaultRandom());
    ~AresResolver();  // drops every resolution; no Done is called
    AresResolver(const AresResolver&) = delete;
    AresResolver& operator=(const AresResolver&) = delete;

    // Starts a resolution. done runs from process()/processTimeouts(), or before resolve()
    // returns when no query is needed (an IP literal, a malformed name). Do not destroy the
    // resolver from done.
    Id resolve(Request request, Done done);
    // Forgets a resolution: its done never runs. Queries already sent end on their own.
    void cancel(Id id);
    size_t pending() const { return running_.size(); }

    // Socket events and timeouts, as the SocketWatch asked for.
    void process(int fd, bool readable, bool writable);
    void processTimeouts();
    // When processTimeouts() is next due; nothing while no query is outstanding.
    std::optional<std::chrono::milliseconds> nextTimeout() const;

  private:
    struct Running {
        Procedure procedure;
        Done done;
    };
    struct Channel;
    struct QueryContext;

    void send(Id id, std::vector<Query> queries);
    void answered(Id id, const Query& query, const Answer& answer);
    void finishIfDone(Id id);
    static void onSocketState(void* self, int fd, int readable, int writable);
    static void onAnswer(void* context, int status, int timeouts, unsigned char* buffer,
                         int length);

    SocketWatch watch_;
    RandomSource random_;
    std::unique_ptr<Channel> channel_;
    std::map<Id, Running> running_;
    Id nextId_ = 1;
    bool destroying_ = false;
};

}  // namespace imsaka::resolver
