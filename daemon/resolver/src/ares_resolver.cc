#include "imsaka/resolver/ares_resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <sys/time.h>

#include <mutex>

namespace imsaka::resolver {

namespace {

int queryType(RecordType type) {
    switch (type) {
        case RecordType::Naptr:
            return ns_t_naptr;
        case RecordType::Srv:
            return ns_t_srv;
        case RecordType::A:
            return ns_t_a;
        case RecordType::Aaaa:
            return ns_t_aaaa;
    }
    return ns_t_a;
}

std::string text(const unsigned char* bytes) {
    return bytes ? std::string(reinterpret_cast<const char*>(bytes)) : std::string();
}

std::string addressText(int family, const void* address) {
    char buffer[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(family, address, buffer, sizeof buffer)) return {};
    return buffer;
}

// The A or AAAA records of an answer (at most 32), as text.
template <typename Record, typename Parser, typename Field>
int parseAddresses(const unsigned char* buffer, int length, Parser parser, int family,
                   Field Record::*field, std::vector<std::string>& out) {
    Record records[32];
    int count = 32;
    int status = parser(buffer, length, nullptr, records, &count);
    for (int i = 0; status == ARES_SUCCESS && i < count; ++i)
        out.push_back(addressText(family, &(records[i].*field)));
    return status;
}

// NXDOMAIN and "no records of this type" are answers; everything else is a failure.
Answer statusAnswer(int status) {
    Answer answer;
    answer.status = status == ARES_ENOTFOUND || status == ARES_ENODATA ? Answer::Status::NoRecords
                                                                       : Answer::Status::Failed;
    answer.error = ares_strerror(status);
    return answer;
}

}  // namespace

Answer parseAnswer(RecordType type, const unsigned char* buffer, int length) {
    Answer answer;
    answer.status = Answer::Status::Records;
    int status = ARES_SUCCESS;
    switch (type) {
        case RecordType::Naptr: {
            ares_naptr_reply* replies = nullptr;
            status = ares_parse_naptr_reply(buffer, length, &replies);
            for (auto* reply = replies; status == ARES_SUCCESS && reply; reply = reply->next)
                answer.naptr.push_back(NaptrRecord{
                    reply->order, reply->preference, text(reply->flags), text(reply->service),
                    text(reply->regexp), reply->replacement ? reply->replacement : ""});
            if (replies) ares_free_data(replies);
            break;
        }
        case RecordType::Srv: {
            ares_srv_reply* replies = nullptr;
            status = ares_parse_srv_reply(buffer, length, &replies);
            for (auto* reply = replies; status == ARES_SUCCESS && reply; reply = reply->next)
                answer.srv.push_back(SrvRecord{reply->priority, reply->weight, reply->port,
                                               reply->host ? reply->host : ""});
            if (replies) ares_free_data(replies);
            break;
        }
        case RecordType::A:
            status = parseAddresses<ares_addrttl>(buffer, length, ares_parse_a_reply, AF_INET,
                                                  &ares_addrttl::ipaddr, answer.addresses);
            break;
        case RecordType::Aaaa:
            status = parseAddresses<ares_addr6ttl>(buffer, length, ares_parse_aaaa_reply, AF_INET6,
                                                   &ares_addr6ttl::ip6addr, answer.addresses);
            break;
    }
    if (status != ARES_SUCCESS) return statusAnswer(status);
    bool empty = answer.naptr.empty() && answer.srv.empty() && answer.addresses.empty();
    if (empty) answer.status = Answer::Status::NoRecords;
    return answer;
}

namespace {

// "2001:db8::53" is written "[2001:db8::53]" for c-ares's list, which reads a bare colon
// as the start of a port.
std::string serverList(const std::vector<std::string>& servers) {
    std::string list;
    for (const auto& server : servers) {
        bool bareV6 = server.find(':') != server.rfind(':') && server.front() != '[';
        if (!list.empty()) list += ',';
        list += bareV6 ? "[" + server + "]" : server;
    }
    return list;
}

}  // namespace

struct AresResolver::Channel {
    ares_channel channel = nullptr;
};

struct AresResolver::QueryContext {
    AresResolver* resolver;
    Id id;
    Query query;
};

AresResolver::AresResolver(ResolverOptions options, SocketWatch watch, RandomSource random)
    : watch_(std::move(watch)), random_(std::move(random)), channel_(std::make_unique<Channel>()) {
    static std::once_flag once;
    static int initialised = ARES_SUCCESS;
    std::call_once(once, [] { initialised = ares_library_init(ARES_LIB_INIT_ALL); });
    if (initialised != ARES_SUCCESS)
        throw ResolverError(std::string("c-ares: ") + ares_strerror(initialised));

    ares_options ares{};
    ares.sock_state_cb = &AresResolver::onSocketState;
    ares.sock_state_cb_data = this;
    ares.timeout = static_cast<int>(options.queryTimeout.count());
    ares.tries = options.tries;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (int rc = ares_init_options(&channel_->channel, &ares, mask); rc != ARES_SUCCESS)
        throw ResolverError(std::string("c-ares: ") + ares_strerror(rc));
    if (!options.servers.empty()) {
        auto list = serverList(options.servers);
        if (int rc = ares_set_servers_ports_csv(channel_->channel, list.c_str());
            rc != ARES_SUCCESS) {
            ares_destroy(channel_->channel);
            throw ResolverError("DNS servers \"" + list + "\": " + ares_strerror(rc));
        }
    }
}

AresResolver::~AresResolver() {
    destroying_ = true;
    running_.clear();
    ares_destroy(channel_->channel);  // each outstanding query's callback frees its context
}

AresResolver::Id AresResolver::resolve(Request request, Done done) {
    Id id = nextId_++;
    auto [it, inserted] =
        running_.emplace(id, Running{Procedure(std::move(request), random_), std::move(done)});
    send(id, it->second.procedure.start());
    finishIfDone(id);
    return id;
}

void AresResolver::cancel(Id id) {
    running_.erase(id);
}

void AresResolver::send(Id id, std::vector<Query> queries) {
    for (auto& query : queries) {
        auto* context = new QueryContext{this, id, query};
        // c-ares calls back exactly once for each query, also when the channel goes.
        ares_query(channel_->channel, context->query.name.c_str(), ns_c_in,
                   queryType(context->query.type), &AresResolver::onAnswer, context);
    }
}

void AresResolver::onAnswer(void* raw, int status, int, unsigned char* buffer, int length) {
    std::unique_ptr<QueryContext> context(static_cast<QueryContext*>(raw));
    auto* self = context->resolver;
    if (status == ARES_EDESTRUCTION || self->destroying_) return;
    Answer answer = status == ARES_SUCCESS ? parseAnswer(context->query.type, buffer, length)
                                           : statusAnswer(status);
    self->answered(context->id, context->query, answer);
}

void AresResolver::answered(Id id, const Query& query, const Answer& answer) {
    auto it = running_.find(id);
    if (it == running_.end()) return;  // cancelled
    send(id, it->second.procedure.answer(query, answer));
    finishIfDone(id);
}

void AresResolver::finishIfDone(Id id) {
    auto it = running_.find(id);
    if (it == running_.end() || !it->second.procedure.done()) return;
    auto finished = std::move(it->second);
    running_.erase(it);
    finished.done(finished.procedure);
}

void AresResolver::onSocketState(void* raw, int fd, int readable, int writable) {
    auto* self = static_cast<AresResolver*>(raw);
    if (self->destroying_ || !self->watch_) return;
    self->watch_(fd, readable != 0, writable != 0);
}

void AresResolver::process(int fd, bool readable, bool writable) {
    ares_process_fd(channel_->channel, readable ? fd : ARES_SOCKET_BAD,
                    writable ? fd : ARES_SOCKET_BAD);
}

void AresResolver::processTimeouts() {
    ares_process_fd(channel_->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

std::optional<std::chrono::milliseconds> AresResolver::nextTimeout() const {
    timeval wait{};
    if (!ares_timeout(channel_->channel, nullptr, &wait)) return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(wait.tv_sec) * 1000 +
                                     wait.tv_usec / 1000 + 1);
}

}  // namespace imsaka::resolver
