// A GoogleTest fixture for the daemon's kernel tests: a Sandbox started for each test, and
// its diagnostics (daemon log, kernel state) printed when the test fails.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <memory>

#include "scenario.h"

namespace imsaka::daemontest {

class SandboxTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (auto error = startSandbox(sandbox_); !error.empty()) FAIL() << error;
    }
    void TearDown() override {
        if (HasFailure() && sandbox_) std::cerr << sandbox_->diagnostics();
    }
    sdbus::IConnection& bus() { return *sandbox_->connection; }

    std::unique_ptr<Sandbox> sandbox_;
};

}  // namespace imsaka::daemontest
