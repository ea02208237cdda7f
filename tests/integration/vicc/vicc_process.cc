#include "vicc_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace imsaka::vicc::test {

ViccProcess::ViccProcess(const std::vector<std::string>& arguments, const std::string& stderrPath) {
    int pipeFds[2];
    if (pipe2(pipeFds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        dup2(pipeFds[1], STDOUT_FILENO);
        if (!stderrPath.empty()) {
            int log = open(stderrPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (log >= 0) dup2(log, STDERR_FILENO);
        }
        std::vector<char*> argv;
        for (const std::string& argument : arguments)
            argv.push_back(const_cast<char*>(argument.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(pipeFds[1]);
    stdoutFd_ = pipeFds[0];
}

ViccProcess::~ViccProcess() {
    stop();
    if (stdoutFd_ >= 0) close(stdoutFd_);
}

bool ViccProcess::waitForLine(const std::string& line, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        size_t end;
        while ((end = buffer_.find('\n')) != std::string::npos) {
            std::string got = buffer_.substr(0, end);
            buffer_.erase(0, end + 1);
            if (got == line) return true;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd fd{stdoutFd_, POLLIN, 0};
        if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
        char chunk[256];
        ssize_t got = read(stdoutFd_, chunk, sizeof chunk);
        if (got <= 0) return false;  // the program ended
        buffer_.append(chunk, static_cast<size_t>(got));
    }
}

void ViccProcess::signal(int number) const {
    if (pid_ > 0) kill(pid_, number);
}

int ViccProcess::stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace imsaka::vicc::test
