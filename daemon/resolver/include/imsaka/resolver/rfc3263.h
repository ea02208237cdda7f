#pragma once

// Locating a P-CSCF by name as RFC 3263 clause 4 describes (NAPTR, then SRV, then A/AAAA),
// with the SRV ordering of RFC 2782. No I/O: a Procedure names the DNS queries it needs,
// takes their answers and ends with an ordered list of targets (address, port, transport).
// The caller makes the queries (ares_client.h does it with c-ares) and chooses the random
// source, so that tests can fix the RFC 2782 weighted choice.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace imsaka::resolver {

enum class Transport { Udp, Tcp };
std::string_view toString(Transport transport);  // "udp", "tcp"

inline constexpr uint16_t kDefaultSipPort = 5060;  // RFC 3261 19.1.2, for UDP and TCP

struct Target {
    std::string address;  // IP literal
    uint16_t port = kDefaultSipPort;
    Transport transport = Transport::Udp;
    bool operator==(const Target&) const = default;
};
std::string toString(const Target& target);  // "192.0.2.1:5060/udp", "[2001:db8::1]:5060/tcp"

struct NaptrRecord {
    uint16_t order = 0;
    uint16_t preference = 0;
    std::string flags;
    std::string service;
    std::string regexp;
    std::string replacement;
};

struct SrvRecord {
    uint16_t priority = 0;
    uint16_t weight = 0;
    uint16_t port = 0;
    std::string target;
};

enum class RecordType { Naptr, Srv, A, Aaaa };
std::string_view toString(RecordType type);  // "NAPTR", "SRV", "A", "AAAA"

struct Query {
    RecordType type = RecordType::A;
    std::string name;
    bool operator==(const Query&) const = default;
    auto operator<=>(const Query&) const = default;
};

struct Answer {
    enum class Status {
        Records,    // the name has records of the type (in the vector of that type)
        NoRecords,  // NXDOMAIN, or the name has none of the type
        Failed,     // no usable answer (timeout, refused, server failure, malformed)
    };
    Status status = Status::NoRecords;
    std::string error;  // for NoRecords and Failed: what the resolver said
    std::vector<NaptrRecord> naptr;
    std::vector<SrvRecord> srv;
    std::vector<std::string> addresses;  // A or AAAA, as IP literals
};

// Uniform in [0, bound] (both ends included), as RFC 2782's weighted choice asks.
using RandomSource = std::function<uint32_t(uint32_t bound)>;
// std::mt19937 seeded from std::random_device (the choice spreads load; it guards nothing).
RandomSource defaultRandom();

// What to locate. An explicit port or transport narrows the procedure as RFC 3263 4.1/4.2 say.
struct Request {
    std::string name;                    // a host name, or an IPv4/IPv6 literal
    std::optional<uint16_t> port;        // given: A/AAAA of name only, no NAPTR or SRV
    std::optional<Transport> transport;  // given: SRV for that transport only, no NAPTR
};

bool isIpLiteral(std::string_view text);
// A host name as RFC 1123 2.1 allows (letters, digits, hyphens; labels of 1 to 63; at most
// 253 characters; an optional final dot). Not an IP literal.
bool isHostName(std::string_view text);

// RFC 3263 4.1: the NAPTR records a SIP client over UDP or TCP can use, best first (lowest
// order, then lowest preference; ties keep the answer's order). Kept: flag "s", service
// SIP+D2U or SIP+D2T (case-insensitive) for a transport in `wanted`, a replacement name.
std::vector<NaptrRecord> usableNaptr(std::vector<NaptrRecord> records,
                                     const std::set<Transport>& wanted);
// The transport a usable NAPTR record names.
Transport naptrTransport(const NaptrRecord& record);

// RFC 2782: lowest priority first; within a priority a weighted random order. Before each
// draw the records stand weight 0 first (so they are rarely picked early), then by target
// and port, so that the order depends on the draws alone.
// A single record with target "." (the service is not offered) yields nothing.
std::vector<SrvRecord> orderSrv(std::vector<SrvRecord> records, const RandomSource& random);

// One resolution. start() and answer() return the queries to make next (possibly several at
// once; answer them in any order). When done(), targets() holds the result in the order to
// try, or failure() says why there is none.
class Procedure {
  public:
    Procedure(Request request, RandomSource random);

    std::vector<Query> start();
    std::vector<Query> answer(const Query& query, const Answer& answer);

    bool done() const { return stage_ == Stage::Done; }
    const std::vector<Target>& targets() const { return targets_; }
    const std::string& failure() const { return failure_; }
    const Request& request() const { return request_; }

    // At most this many hosts are looked up for one name (SRV answers can be long).
    static constexpr size_t kMaxHosts = 16;

  private:
    enum class Stage { Idle, Naptr, Srv, Address, Done };
    struct SrvName {
        std::string name;
        Transport transport;
    };
    struct Host {
        std::string name;
        uint16_t port;
        Transport transport;
    };

    std::vector<Query> ask(Stage stage, std::vector<Query> queries);
    std::vector<Query> askSrv(std::vector<SrvName> names);
    std::vector<Query> askAddresses(std::vector<Host> hosts);
    std::vector<Query> afterNaptr(const Answer& answer);
    std::vector<Query> afterSrv();
    void afterAddresses();
    const Answer* answerOf(RecordType type, const std::string& name) const;
    void finish(std::vector<Target> targets);

    Request request_;
    std::string name_;  // request_.name without a final dot
    RandomSource random_;
    Stage stage_ = Stage::Idle;
    std::set<Query> outstanding_;
    std::map<Query, Answer> answers_;
    std::vector<SrvName> srvNames_;
    std::vector<Host> hosts_;
    std::vector<Target> targets_;
    std::vector<std::string> notes_;  // what each empty or failed query said, for failure()
    std::string failure_;
};

}  // namespace imsaka::resolver
