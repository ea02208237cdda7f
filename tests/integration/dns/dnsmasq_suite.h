// A GoogleTest suite sharing one dnsmasq (the zone of dnsmasq.h) across its tests; a failing
// test prints what dnsmasq was asked.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <memory>

#include "dnsmasq.h"

namespace imsaka::dnstest {

class DnsmasqSuite : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { dns_ = std::make_unique<Dnsmasq>(); }
    static void TearDownTestSuite() { dns_.reset(); }
    void TearDown() override {
        if (HasFailure() && dns_) std::cerr << "dnsmasq log:\n" << dns_->log();
    }

    inline static std::unique_ptr<Dnsmasq> dns_;
};

}  // namespace imsaka::dnstest
