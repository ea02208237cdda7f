// DNS answer messages read through c-ares's parsers (parseAnswer), then the procedure: the
// fuzz target's first seed, a NAPTR-SRV-A/AAAA exchange in wire format, gives the targets.
#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <iterator>

#include "imsaka/resolver/ares_resolver.h"

namespace imsaka::resolver {
namespace {

std::vector<uint8_t> seed(const std::string& name) {
    std::ifstream file(std::string(IMSAKA_RESOLVER_SEEDS) + "/" + name, std::ios::binary);
    EXPECT_TRUE(file) << name;
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// The messages of a seed: after the settings byte, 2-byte lengths and messages.
std::vector<std::vector<uint8_t>> messages(const std::vector<uint8_t>& bytes) {
    std::vector<std::vector<uint8_t>> out;
    for (size_t offset = 1; offset + 2 <= bytes.size();) {
        size_t length = (size_t{bytes[offset]} << 8) | bytes[offset + 1];
        out.emplace_back(bytes.begin() + static_cast<long>(offset + 2),
                         bytes.begin() + static_cast<long>(offset + 2 + length));
        offset += 2 + length;
    }
    return out;
}

TEST(ParseAnswer, NaptrSrvAndAddressRecordsInWireFormat) {
    auto wire = messages(seed("naptr-srv-addresses"));
    ASSERT_EQ(wire.size(), 7u);
    auto naptr = parseAnswer(RecordType::Naptr, wire[0].data(), static_cast<int>(wire[0].size()));
    ASSERT_EQ(naptr.status, Answer::Status::Records);
    ASSERT_EQ(naptr.naptr.size(), 3u);
    EXPECT_EQ(naptr.naptr[0].service, "SIP+D2U");
    EXPECT_EQ(naptr.naptr[0].flags, "s");
    EXPECT_EQ(naptr.naptr[0].replacement, "_sip._udp.ims.test");
    auto srv = parseAnswer(RecordType::Srv, wire[1].data(), static_cast<int>(wire[1].size()));
    ASSERT_EQ(srv.srv.size(), 3u);
    EXPECT_EQ(srv.srv[1].port, 5062);
    EXPECT_EQ(srv.srv[1].weight, 40);
    auto noAaaa = parseAnswer(RecordType::Aaaa, wire[5].data(), static_cast<int>(wire[5].size()));
    EXPECT_EQ(noAaaa.status, Answer::Status::NoRecords);
    auto a = parseAnswer(RecordType::A, wire[6].data(), static_cast<int>(wire[6].size()));
    EXPECT_EQ(a.addresses, (std::vector<std::string>{"192.0.2.12", "192.0.2.13"}));
    // A message that is not DNS, or of another type than asked, is no answer.
    EXPECT_EQ(parseAnswer(RecordType::Srv, wire[0].data(), 5).status, Answer::Status::Failed);
    EXPECT_NE(parseAnswer(RecordType::Srv, wire[0].data(), static_cast<int>(wire[0].size())).status,
              Answer::Status::Records);
}

TEST(ParseAnswer, TheExchangeOfTheSeedEndsInTheTargetsInOrder) {
    auto wire = messages(seed("naptr-srv-addresses"));
    Procedure procedure({"ims.test", {}, {}}, [](uint32_t) { return 0u; });
    std::deque<Query> queue;
    for (auto& query : procedure.start()) queue.push_back(query);
    size_t next = 0;
    while (!queue.empty()) {
        auto query = queue.front();
        queue.pop_front();
        ASSERT_LT(next, wire.size()) << "unexpected query " << query.name;
        auto answer =
            parseAnswer(query.type, wire[next].data(), static_cast<int>(wire[next].size()));
        ++next;
        for (auto& more : procedure.answer(query, answer)) queue.push_back(more);
    }
    EXPECT_EQ(procedure.targets(), (std::vector<Target>{{"2001:db8::11", 5060, Transport::Udp},
                                                        {"192.0.2.11", 5060, Transport::Udp},
                                                        {"192.0.2.12", 5062, Transport::Udp},
                                                        {"192.0.2.13", 5062, Transport::Udp},
                                                        {"192.0.2.12", 5070, Transport::Tcp},
                                                        {"192.0.2.13", 5070, Transport::Tcp}}));
}

}  // namespace
}  // namespace imsaka::resolver
