// Runs imsaka-vicc as a child process and follows the lines it prints.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace imsaka::vicc::test {

class ViccProcess {
  public:
    // Standard error goes to `stderrPath` when one is given.
    explicit ViccProcess(const std::vector<std::string>& arguments,
                         const std::string& stderrPath = "");
    ~ViccProcess();
    ViccProcess(const ViccProcess&) = delete;
    ViccProcess& operator=(const ViccProcess&) = delete;

    // True once a line equal to `line` has been printed (lines already seen count
    // only once: each call consumes the line it returns on).
    bool waitForLine(const std::string& line, std::chrono::milliseconds timeout);
    void signal(int number) const;
    // Sends SIGTERM (unless it ended already) and returns the exit status, or -1
    // when a signal ended it.
    int stop();

  private:
    pid_t pid_ = -1;
    int stdoutFd_ = -1;
    std::string buffer_;
};

}  // namespace imsaka::vicc::test
