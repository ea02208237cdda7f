// A Transport that plays a script of (expected command, response) pairs, in hex, and
// fails the test on any command it did not expect.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>

#include "imsaka/cardio/transport.h"

namespace imsaka::cardio::testing {

inline Bytes hex(const std::string& text) {
    auto bytes = fromHex(text);
    EXPECT_TRUE(bytes) << "bad hex in test: " << text;
    return bytes.value_or(Bytes{});
}

class ScriptedTransport : public Transport {
  public:
    // A command the code under test never sent is as much a failure as an extra one.
    ~ScriptedTransport() override {
        if (!script_.empty())
            ADD_FAILURE() << script_.size() << " scripted command(s) never sent, first "
                          << toHex(script_.front().first);
    }
    ScriptedTransport& expect(const std::string& command, const std::string& response) {
        script_.emplace_back(hex(command), hex(response));
        return *this;
    }
    SecureBytes transmit(ByteView command) override {
        ++sent_;
        if (script_.empty()) {
            ADD_FAILURE() << "unexpected command " << toHex(command);
            return {0x6F, 0x00};
        }
        auto [expected, response] = script_.front();
        script_.pop_front();
        EXPECT_EQ(toHex(command), toHex(expected));
        return SecureBytes(response.begin(), response.end());
    }
    bool done() const { return script_.empty(); }
    int sent() const { return sent_; }

  private:
    std::deque<std::pair<Bytes, Bytes>> script_;
    int sent_ = 0;
};

}  // namespace imsaka::cardio::testing
