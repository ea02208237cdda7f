// P-CSCF names resolved on the loop's thread without blocking it: c-ares's sockets and
// timeouts are sd-event sources, and each lookup has an overall deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "event_loop.h"
#include "imsaka/daemon/errors.h"
#include "imsaka/resolver/ares_resolver.h"

namespace imsaka::daemon {

class PcscfResolver {
  public:
    using Targets = std::vector<resolver::Target>;
    // The targets in the order to try them, or ResolutionFailed naming each entry and why.
    using Result = std::variant<Targets, DaemonError>;
    using Done = std::function<void(Result)>;
    using Id = uint64_t;

    // Throws DaemonError(Failed) when c-ares cannot start.
    PcscfResolver(EventLoop& loop, resolver::ResolverOptions options,
                  std::chrono::milliseconds deadline,
                  resolver::RandomSource random = resolver::defaultRandom());
    ~PcscfResolver();  // drops every lookup; no Done runs
    PcscfResolver(const PcscfResolver&) = delete;
    PcscfResolver& operator=(const PcscfResolver&) = delete;

    // Resolves each entry (host name or IP literal) as RFC 3263 says, with the port and
    // transport when given, and joins their targets in the entries' order (duplicates
    // dropped). Fails only when no entry yields a target, or at the deadline. done runs on
    // the loop, never before lookup() returns.
    Id lookup(std::vector<std::string> entries, std::optional<uint16_t> port,
              std::optional<resolver::Transport> transport, Done done);
    // The same with a port (or transport) of each entry's own.
    Id lookup(std::vector<resolver::Request> requests, Done done);
    // Forgets a lookup; its done never runs.
    void cancel(Id id);

  private:
    struct Lookup {
        std::vector<resolver::Request> requests;
        std::vector<std::optional<resolver::AresResolver::Id>> running;  // per entry
        std::vector<bool> finished;                                      // per entry
        std::vector<Targets> targets;                                    // per entry
        std::vector<std::string> failures;
        size_t left = 0;
        Done done;
        std::unique_ptr<Timer> deadline;
    };

    void renew();
    void entryDone(Id id, size_t index, const resolver::Procedure& procedure);
    void finish(Id id, std::optional<std::string> timeout);
    void watch(int fd, bool readable, bool writable);
    void rearm();
    static int onIo(sd_event_source*, int fd, uint32_t events, void* self);

    EventLoop& loop_;
    resolver::ResolverOptions options_;
    resolver::RandomSource random_;
    std::chrono::milliseconds deadline_;
    std::map<int, EventSource> sockets_;
    Timer timeouts_;
    std::map<Id, Lookup> lookups_;
    Id nextId_ = 1;
    std::unique_ptr<resolver::AresResolver> resolver_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace imsaka::daemon
