// DNS answers from the network, as the daemon reads them: each query a P-CSCF lookup asks is
// answered with the next message of the input, parsed by c-ares's parser for its type and
// fed to the RFC 3263 procedure. Whatever the answers, the lookup ends, and its targets are
// IP literals, each once.
//
// Input: one byte of settings (bit 0: explicit TCP, bit 1: explicit port 5080; bit 2: the
// random source answers its bound instead of 0), then per query a 2-byte big-endian length
// and that many bytes of DNS message. Missing messages are NXDOMAIN.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>

#include "imsaka/resolver/ares_resolver.h"

using namespace imsaka::resolver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    uint8_t settings = data[0];
    size_t offset = 1;
    Request request{"ims.test", std::nullopt, std::nullopt};
    if (settings & 1) request.transport = Transport::Tcp;
    if (settings & 2) request.port = 5080;
    bool high = settings & 4;
    Procedure procedure(request, [high](uint32_t bound) { return high ? bound : 0u; });

    std::deque<Query> queue;
    for (auto& query : procedure.start()) queue.push_back(query);
    size_t asked = 0;
    while (!queue.empty()) {
        if (++asked > 1000) std::abort();  // the procedure must not ask without end
        auto query = queue.front();
        queue.pop_front();
        Answer answer;
        answer.status = Answer::Status::NoRecords;
        if (offset + 2 <= size) {
            size_t length =
                std::min<size_t>((size_t{data[offset]} << 8) | data[offset + 1], size - offset - 2);
            answer = parseAnswer(query.type, data + offset + 2, static_cast<int>(length));
            offset += 2 + length;
        }
        for (auto& next : procedure.answer(query, answer)) queue.push_back(next);
    }
    if (!procedure.done()) std::abort();
    const auto& targets = procedure.targets();
    if (targets.empty() == procedure.failure().empty()) std::abort();
    for (size_t i = 0; i < targets.size(); ++i) {
        if (!isIpLiteral(targets[i].address)) std::abort();
        for (size_t j = 0; j < i; ++j)
            if (targets[j] == targets[i]) std::abort();
    }
    return 0;
}
