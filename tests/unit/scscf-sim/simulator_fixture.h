// A simulator driven without sockets, a virtual UE in front of it and a fake clock.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "virtual_ue.h"

namespace imsaka::scscfsim::test {

class SimulatorTest : public ::testing::Test {
  protected:
    void SetUp() override { start(); }

    void start(SimOptions options = {}) {
        sim_ =
            std::make_unique<Simulator>(std::move(options), log_.sink(), [this] { return now_; });
    }
    // The one datagram the simulator answers with.
    SipMessage send(const std::string& text) { return only(sim_->receive(text)); }

    // 401 then the card's answer; returns the answer's response (200 unless a switch says
    // otherwise).
    SipMessage registerWith(VirtualUe& ue, uint32_t firstCseq = 1, uint32_t expires = 600) {
        auto unauthorized = send(ue.registerText({.cseq = firstCseq, .expires = expires}));
        EXPECT_EQ(unauthorized.status(), 401);
        return send(ue.registerText({.cseq = firstCseq + 1,
                                     .expires = expires,
                                     .integrity = "yes",
                                     .credentials = ue.answer(unauthorized)}));
    }

    EventLog log_;
    Simulator::Clock::time_point now_{};
    std::unique_ptr<Simulator> sim_;
    VirtualUe ue_;
};

}  // namespace imsaka::scscfsim::test
