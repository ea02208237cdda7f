// Child processes for the imsakactl tests: run one to completion, or keep one running and
// read its output line by line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace imsaka::testing {

struct Finished {
    int status = -1;  // exit status, or 128 + signal
    std::string out;
    std::string err;
};

// Runs PROGRAM ARGS... with `input` on its standard input; gives up (and fails) after 20 s.
Finished run(const std::string& program, const std::vector<std::string>& args,
             const std::string& input = "");

class Running {
  public:
    Running(const std::string& program, const std::vector<std::string>& args);
    ~Running();
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

    // The next line of standard output, or nothing when none came in time.
    std::optional<std::string> readLine(std::chrono::milliseconds timeout);
    void signal(int number);
    // Waits for the exit and returns its status (128 + signal when killed); -1 on time-out.
    int wait(std::chrono::milliseconds timeout);
    pid_t pid() const { return pid_; }

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buffered_;
};

}  // namespace imsaka::testing
