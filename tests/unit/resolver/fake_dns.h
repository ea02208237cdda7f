// A zone in memory that answers a Procedure's queries, recording what was asked.
#pragma once

#include <deque>
#include <map>
#include <vector>

#include "imsaka/resolver/rfc3263.h"

namespace imsaka::resolver::test {

struct FakeDns {
    std::map<Query, Answer> zone;  // absent: NXDOMAIN
    std::vector<Query> asked;

    void naptr(const std::string& name, std::vector<NaptrRecord> records) {
        zone[{RecordType::Naptr, name}] = records_(std::move(records), &Answer::naptr);
    }
    void srv(const std::string& name, std::vector<SrvRecord> records) {
        zone[{RecordType::Srv, name}] = records_(std::move(records), &Answer::srv);
    }
    void a(const std::string& name, std::vector<std::string> addresses) {
        zone[{RecordType::A, name}] = records_(std::move(addresses), &Answer::addresses);
    }
    void aaaa(const std::string& name, std::vector<std::string> addresses) {
        zone[{RecordType::Aaaa, name}] = records_(std::move(addresses), &Answer::addresses);
    }
    void fail(RecordType type, const std::string& name, const std::string& error) {
        Answer answer;
        answer.status = Answer::Status::Failed;
        answer.error = error;
        zone[{type, name}] = answer;
    }

    // Runs the procedure to its end; answers are given in the order the queries were asked.
    void run(Procedure& procedure) {
        std::deque<Query> queue;
        for (auto& query : procedure.start()) queue.push_back(query);
        while (!queue.empty()) {
            auto query = queue.front();
            queue.pop_front();
            asked.push_back(query);
            Answer answer;
            if (auto it = zone.find(query); it != zone.end()) {
                answer = it->second;
            } else {
                answer.status = Answer::Status::NoRecords;
                answer.error = "Domain name not found";
            }
            for (auto& next : procedure.answer(query, answer)) queue.push_back(next);
        }
    }

  private:
    template <typename T>
    static Answer records_(std::vector<T> values, std::vector<T> Answer::*field) {
        Answer answer;
        answer.status = values.empty() ? Answer::Status::NoRecords : Answer::Status::Records;
        answer.*field = std::move(values);
        return answer;
    }
};

// Always the same value (clamped by the caller to the bound).
inline RandomSource fixedRandom(uint32_t value) {
    return [value](uint32_t bound) { return std::min(value, bound); };
}

}  // namespace imsaka::resolver::test
