#include "pcscf_resolver.h"

#include <sys/epoll.h>

#include <algorithm>

#include "log.h"

namespace imsaka::daemon {

PcscfResolver::PcscfResolver(EventLoop& loop, resolver::ResolverOptions options,
                             std::chrono::milliseconds deadline, resolver::RandomSource random)
    : loop_(loop),
      options_(std::move(options)),
      random_(std::move(random)),
      deadline_(deadline),
      timeouts_(loop, [this] {
          resolver_->processTimeouts();
          rearm();
      }) {
    renew();
}

void PcscfResolver::renew() {
    // c-ares reads /etc/resolv.conf when a channel starts: a fresh channel for each lookup
    // that starts while none runs follows a device whose DNS servers change with its
    // connections. Lookups are rare (one per CreateRegistration).
    resolver_.reset();  // closes its sockets without calling back
    sockets_.clear();
    timeouts_.cancel();
    try {
        resolver_ = std::make_unique<resolver::AresResolver>(
            options_,
            [this](int fd, bool readable, bool writable) { watch(fd, readable, writable); },
            random_);
    } catch (const resolver::ResolverError& e) {
        throw DaemonError(DaemonErrc::Failed, e.what());
    }
}

PcscfResolver::~PcscfResolver() {
    *alive_ = false;
    resolver_.reset();  // first: it closes its sockets without calling back
    sockets_.clear();
    lookups_.clear();
}

PcscfResolver::Id PcscfResolver::lookup(std::vector<std::string> entries,
                                        std::optional<uint16_t> port,
                                        std::optional<resolver::Transport> transport, Done done) {
    std::vector<resolver::Request> requests;
    for (auto& entry : entries) requests.push_back({std::move(entry), port, transport});
    return lookup(std::move(requests), std::move(done));
}

PcscfResolver::Id PcscfResolver::lookup(std::vector<resolver::Request> requests, Done done) {
    if (lookups_.empty()) renew();
    Id id = nextId_++;
    size_t count = requests.size();
    {
        auto& lookup = lookups_[id];
        lookup.requests = std::move(requests);
        lookup.running.resize(count);
        lookup.finished.resize(count);
        lookup.targets.resize(count);
        lookup.failures.resize(count);
        lookup.left = count;
        lookup.done = std::move(done);
        lookup.deadline = std::make_unique<Timer>(loop_, [this, id] {
            finish(id, "no answer within " + std::to_string(deadline_.count() / 1000) + " s");
        });
        lookup.deadline->armIn(deadline_);
    }
    if (count == 0) finish(id, std::nullopt);
    for (size_t index = 0; index < count; ++index) {
        // An entry may finish inside resolve() (an IP literal), and with it the lookup.
        auto it = lookups_.find(id);
        if (it == lookups_.end()) break;
        auto running = resolver_->resolve(it->second.requests[index],
                                          [this, id, index](const resolver::Procedure& procedure) {
                                              entryDone(id, index, procedure);
                                          });
        it = lookups_.find(id);
        if (it != lookups_.end() && !it->second.finished[index])
            it->second.running[index] = running;
    }
    rearm();
    return id;
}

void PcscfResolver::entryDone(Id id, size_t index, const resolver::Procedure& procedure) {
    auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    auto& lookup = it->second;
    lookup.running[index].reset();
    lookup.finished[index] = true;
    if (procedure.targets().empty())
        lookup.failures[index] = procedure.failure();
    else
        lookup.targets[index] = procedure.targets();
    if (--lookup.left == 0) finish(id, std::nullopt);
}

void PcscfResolver::finish(Id id, std::optional<std::string> timeout) {
    auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    auto lookup = std::move(it->second);
    lookups_.erase(it);
    for (auto& running : lookup.running)
        if (running) resolver_->cancel(*running);
    Targets joined;
    for (const auto& targets : lookup.targets)
        for (const auto& target : targets)
            if (std::find(joined.begin(), joined.end(), target) == joined.end())
                joined.push_back(target);
    Result result = joined;
    if (joined.empty()) {
        std::string names;
        for (const auto& request : lookup.requests)
            names += (names.empty() ? "" : ", ") + request.name;
        std::string why;
        for (size_t index = 0; index < lookup.requests.size(); ++index) {
            const auto& failure =
                lookup.finished[index] ? lookup.failures[index] : timeout.value_or("no answer");
            why += (why.empty() ? "" : "; ") + failure;
        }
        if (lookup.requests.empty()) why = "no P-CSCF to resolve";
        result = DaemonError(DaemonErrc::ResolutionFailed,
                             "cannot resolve the P-CSCF " + names + ": " + why);
    } else if (!lookup.failures.empty()) {
        for (const auto& failure : lookup.failures)
            if (!failure.empty()) log::notice("P-CSCF lookup: " + failure);
    }
    // Later on the loop: never inside lookup() or c-ares's processing.
    std::weak_ptr<bool> alive = alive_;
    loop_.post([alive, done = std::move(lookup.done), result = std::move(result)]() mutable {
        if (!alive.expired()) done(std::move(result));
    });
}

void PcscfResolver::cancel(Id id) {
    auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    for (auto& running : it->second.running)
        if (running) resolver_->cancel(*running);
    lookups_.erase(it);
}

void PcscfResolver::watch(int fd, bool readable, bool writable) {
    if (!readable && !writable) {
        sockets_.erase(fd);
        return;
    }
    uint32_t events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    if (auto it = sockets_.find(fd); it != sockets_.end()) {
        sd_event_source_set_io_events(it->second.get(), events);
        return;
    }
    sd_event_source* source = nullptr;
    int rc = sd_event_add_io(loop_.get(), &source, fd, events, &PcscfResolver::onIo, this);
    if (rc < 0) {
        log::error("DNS: cannot watch a socket of the resolver");
        return;
    }
    sockets_.emplace(fd, EventSource(source));
}

int PcscfResolver::onIo(sd_event_source*, int fd, uint32_t events, void* raw) {
    auto* self = static_cast<PcscfResolver*>(raw);
    try {
        self->resolver_->process(fd, (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0,
                                 (events & EPOLLOUT) != 0);
        self->rearm();
    } catch (const std::exception& e) {
        log::error(std::string("DNS: ") + e.what());
    }
    return 0;
}

void PcscfResolver::rearm() {
    if (auto wait = resolver_->nextTimeout())
        timeouts_.armIn(*wait);
    else
        timeouts_.cancel();
}

}  // namespace imsaka::daemon
