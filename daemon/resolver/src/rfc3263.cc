#include "imsaka/resolver/rfc3263.h"

#include <arpa/inet.h>

#include <algorithm>
#include <memory>
#include <random>
#include <tuple>

namespace imsaka::resolver {

namespace {

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        return lower(x) == lower(y);
    });
}

std::string withoutFinalDot(std::string_view name) {
    if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
    return std::string(name);
}

// RFC 3263 4.1: the SRV names of a client that supports UDP and TCP, when no NAPTR applies.
std::string srvName(Transport transport, const std::string& domain) {
    return (transport == Transport::Udp ? "_sip._udp." : "_sip._tcp.") + domain;
}

std::string describe(const Query& query, const Answer& answer) {
    return std::string(toString(query.type)) + " " + query.name + ": " +
           (answer.error.empty()
                ? (answer.status == Answer::Status::Failed ? "failed" : "no records")
                : answer.error);
}

}  // namespace

std::string_view toString(Transport transport) {
    return transport == Transport::Udp ? "udp" : "tcp";
}

std::string toString(const Target& target) {
    bool v6 = target.address.find(':') != std::string::npos;
    return (v6 ? "[" + target.address + "]" : target.address) + ":" + std::to_string(target.port) +
           "/" + std::string(toString(target.transport));
}

std::string_view toString(RecordType type) {
    switch (type) {
        case RecordType::Naptr:
            return "NAPTR";
        case RecordType::Srv:
            return "SRV";
        case RecordType::A:
            return "A";
        case RecordType::Aaaa:
            return "AAAA";
    }
    return "?";
}

RandomSource defaultRandom() {
    auto engine = std::make_shared<std::mt19937>(std::random_device{}());
    return [engine](uint32_t bound) {
        return std::uniform_int_distribution<uint32_t>(0, bound)(*engine);
    };
}

bool isIpLiteral(std::string_view text) {
    std::string copy(text);
    unsigned char address[16];
    return inet_pton(AF_INET, copy.c_str(), address) == 1 ||
           inet_pton(AF_INET6, copy.c_str(), address) == 1;
}

bool isHostName(std::string_view text) {
    if (text.size() > 1 && text.back() == '.') text.remove_suffix(1);
    if (text.empty() || text.size() > 253 || isIpLiteral(text)) return false;
    size_t start = 0;
    while (start <= text.size()) {
        auto dot = text.find('.', start);
        auto label = text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-';
            if (!ok) return false;
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

Transport naptrTransport(const NaptrRecord& record) {
    return equalsIgnoringCase(record.service, "SIP+D2T") ? Transport::Tcp : Transport::Udp;
}

std::vector<NaptrRecord> usableNaptr(std::vector<NaptrRecord> records,
                                     const std::set<Transport>& wanted) {
    std::erase_if(records, [&](const NaptrRecord& record) {
        bool sip = equalsIgnoringCase(record.service, "SIP+D2U") ||
                   equalsIgnoringCase(record.service, "SIP+D2T");
        // Flag "s": the replacement is an SRV name (RFC 3263 4.1). SIPS+D2T needs TLS, and
        // other services (D2S, D2W, ...) other transports: none of them is ours.
        return !sip || !equalsIgnoringCase(record.flags, "s") || record.replacement.empty() ||
               record.replacement == "." || !wanted.contains(naptrTransport(record));
    });
    std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
        return std::pair(a.order, a.preference) < std::pair(b.order, b.preference);
    });
    return records;
}

std::vector<SrvRecord> orderSrv(std::vector<SrvRecord> records, const RandomSource& random) {
    // RFC 2782: a target of "." says the service is decidedly not offered at this name.
    std::erase_if(records, [](const SrvRecord& record) {
        return record.target.empty() || record.target == ".";
    });
    std::stable_sort(records.begin(), records.end(),
                     [](const auto& a, const auto& b) { return a.priority < b.priority; });
    std::vector<SrvRecord> ordered;
    ordered.reserve(records.size());
    auto group = records.begin();
    while (group != records.end()) {
        auto end = std::find_if(group, records.end(), [&](const SrvRecord& record) {
            return record.priority != group->priority;
        });
        // RFC 2782 lets the records of one priority stand in any order before the draw, as
        // long as those of weight 0 come first. A fixed order (by target, then port) makes
        // the result depend on the draw alone, not on the order of the server's answer.
        std::vector<SrvRecord> left(group, end);
        std::sort(left.begin(), left.end(), [](const SrvRecord& a, const SrvRecord& b) {
            return std::tuple(a.weight != 0, a.target, a.port) <
                   std::tuple(b.weight != 0, b.target, b.port);
        });
        while (!left.empty()) {
            uint32_t total = 0;
            for (const auto& record : left) total += record.weight;
            uint32_t pick = std::min(random(total), total);
            uint32_t running = 0;
            auto chosen = left.begin();
            for (; chosen != left.end(); ++chosen) {
                running += chosen->weight;
                if (running >= pick) break;
            }
            if (chosen == left.end()) chosen = std::prev(left.end());
            ordered.push_back(std::move(*chosen));
            left.erase(chosen);
        }
        group = end;
    }
    return ordered;
}

Procedure::Procedure(Request request, RandomSource random)
    : request_(std::move(request)),
      name_(withoutFinalDot(request_.name)),
      random_(std::move(random)) {}

std::vector<Query> Procedure::start() {
    if (stage_ != Stage::Idle) return {};
    if (isIpLiteral(request_.name)) {
        // RFC 3263 4.1 and 4.2: a numeric address is used as it is, over UDP unless told.
        finish({Target{request_.name, request_.port.value_or(kDefaultSipPort),
                       request_.transport.value_or(Transport::Udp)}});
        return {};
    }
    if (!isHostName(request_.name)) {
        stage_ = Stage::Done;
        failure_ = "\"" + request_.name + "\" is neither a host name nor an IP literal";
        return {};
    }
    if (request_.port)  // RFC 3263 4.2: with a port, only the address records of the name
        return askAddresses(
            {Host{name_, *request_.port, request_.transport.value_or(Transport::Udp)}});
    if (request_.transport)  // RFC 3263 4.2: the SRV name of that transport, without NAPTR
        return askSrv({SrvName{srvName(*request_.transport, name_), *request_.transport}});
    return ask(Stage::Naptr, {Query{RecordType::Naptr, name_}});
}

std::vector<Query> Procedure::ask(Stage stage, std::vector<Query> queries) {
    stage_ = stage;
    std::vector<Query> fresh;
    for (auto& query : queries)
        if (!answers_.contains(query) && outstanding_.insert(query).second)
            fresh.push_back(std::move(query));
    if (outstanding_.empty()) {  // every answer is known already
        if (stage == Stage::Srv) return afterSrv();
        if (stage == Stage::Address) afterAddresses();
    }
    return fresh;
}

std::vector<Query> Procedure::answer(const Query& query, const Answer& answer) {
    if (stage_ == Stage::Done || outstanding_.erase(query) == 0) return {};
    answers_[query] = answer;
    if (answer.status != Answer::Status::Records) notes_.push_back(describe(query, answer));
    if (!outstanding_.empty()) return {};
    switch (stage_) {
        case Stage::Naptr:
            return afterNaptr(answer);
        case Stage::Srv:
            return afterSrv();
        case Stage::Address:
            afterAddresses();
            return {};
        default:
            return {};
    }
}

std::vector<Query> Procedure::afterNaptr(const Answer& answer) {
    std::vector<SrvName> names;
    if (answer.status == Answer::Status::Records) {
        for (const auto& record : usableNaptr(answer.naptr, {Transport::Udp, Transport::Tcp}))
            names.push_back(SrvName{withoutFinalDot(record.replacement), naptrTransport(record)});
        if (names.empty()) notes_.push_back("NAPTR " + name_ + ": no SIP+D2U or SIP+D2T record");
    }
    // RFC 3263 4.1: without NAPTR records, the SRV names of each transport the client
    // supports; UDP first, as RFC 3263 prefers it for SIP over a non-TLS URI.
    if (names.empty())
        names = {SrvName{srvName(Transport::Udp, name_), Transport::Udp},
                 SrvName{srvName(Transport::Tcp, name_), Transport::Tcp}};
    return askSrv(std::move(names));
}

std::vector<Query> Procedure::askSrv(std::vector<SrvName> names) {
    srvNames_ = std::move(names);
    std::vector<Query> queries;
    for (const auto& name : srvNames_) queries.push_back(Query{RecordType::Srv, name.name});
    return ask(Stage::Srv, std::move(queries));
}

const Answer* Procedure::answerOf(RecordType type, const std::string& name) const {
    auto it = answers_.find(Query{type, name});
    return it == answers_.end() || it->second.status != Answer::Status::Records ? nullptr
                                                                                : &it->second;
}

std::vector<Query> Procedure::afterSrv() {
    std::vector<Host> hosts;
    bool anySrv = false;
    for (const auto& name : srvNames_) {
        const auto* answer = answerOf(RecordType::Srv, name.name);
        if (!answer) continue;
        anySrv = true;
        for (const auto& record : orderSrv(answer->srv, random_)) {
            if (!isHostName(record.target)) {
                notes_.push_back("SRV " + name.name + ": target \"" + record.target +
                                 "\" is not a host name");
                continue;
            }
            Host host{withoutFinalDot(record.target), record.port, name.transport};
            bool seen = std::any_of(hosts.begin(), hosts.end(), [&](const Host& other) {
                return other.name == host.name && other.port == host.port &&
                       other.transport == host.transport;
            });
            if (!seen && hosts.size() < kMaxHosts) hosts.push_back(std::move(host));
        }
    }
    if (hosts.empty() && anySrv) {  // only "." targets: the service is not offered (RFC 2782)
        notes_.push_back("SRV: no target offers SIP over UDP or TCP");
        finish({});
        return {};
    }
    // RFC 3263 4.2: no SRV records, then the address records of the name itself, on the
    // default port, with the transport chosen so far.
    if (hosts.empty()) hosts.push_back(Host{name_, kDefaultSipPort, srvNames_.front().transport});
    return askAddresses(std::move(hosts));
}

std::vector<Query> Procedure::askAddresses(std::vector<Host> hosts) {
    hosts_ = std::move(hosts);
    std::vector<Query> queries;
    for (const auto& host : hosts_) {
        queries.push_back(Query{RecordType::Aaaa, host.name});
        queries.push_back(Query{RecordType::A, host.name});
    }
    return ask(Stage::Address, std::move(queries));
}

void Procedure::afterAddresses() {
    std::vector<Target> targets;
    for (const auto& host : hosts_) {
        // IPv6 first, as the default policy of RFC 6724 orders them; the caller keeps
        // the family of its local address.
        for (auto type : {RecordType::Aaaa, RecordType::A}) {
            const auto* answer = answerOf(type, host.name);
            if (!answer) continue;
            for (const auto& address : answer->addresses) {
                if (!isIpLiteral(address)) continue;
                Target target{address, host.port, host.transport};
                if (std::find(targets.begin(), targets.end(), target) == targets.end())
                    targets.push_back(std::move(target));
            }
        }
    }
    finish(std::move(targets));
}

void Procedure::finish(std::vector<Target> targets) {
    stage_ = Stage::Done;
    targets_ = std::move(targets);
    if (!targets_.empty()) return;
    failure_ = "no address for " + name_;
    std::string separator = " (";
    for (const auto& note : notes_) {
        failure_ += separator + note;
        separator = "; ";
    }
    if (!notes_.empty()) failure_ += ")";
}

}  // namespace imsaka::resolver
