#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace imsaka::testing {

namespace {

using Clock = std::chrono::steady_clock;

void pipeOrThrow(int fds[2]) {
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
}

// Forks PROGRAM with the given descriptors as 0, 1, 2 (-1 keeps the parent's).
pid_t spawn(const std::string& program, const std::vector<std::string>& args, int in, int out,
            int err) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        if (in >= 0) dup2(in, 0);
        if (out >= 0) dup2(out, 1);
        if (err >= 0) dup2(err, 2);
        execv(program.c_str(), argv.data());
        _exit(127);
    }
    return pid;
}

int decode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

int waitFor(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) return decode(status);
        if (done < 0) return -1;
        if (Clock::now() > deadline) return -1;
        usleep(5000);
    }
}

}  // namespace

Finished run(const std::string& program, const std::vector<std::string>& args,
             const std::string& input) {
    int in[2], out[2], err[2];
    pipeOrThrow(in);
    pipeOrThrow(out);
    pipeOrThrow(err);
    pid_t pid = spawn(program, args, in[0], out[1], err[1]);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    // Small inputs only (a PIN): the pipe buffer takes them whole.
    if (!input.empty()) {
        [[maybe_unused]] ssize_t written = write(in[1], input.data(), input.size());
    }
    close(in[1]);

    Finished result;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    auto deadline = Clock::now() + std::chrono::seconds(20);
    int open = 2;
    while (open > 0 && Clock::now() < deadline) {
        if (poll(fds, 2, 100) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buffer[4096];
            ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<size_t>(n));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    for (auto& fd : fds)
        if (fd.fd >= 0) close(fd.fd);
    if (open > 0) kill(pid, SIGKILL);
    result.status = waitFor(pid, std::chrono::seconds(5));
    return result;
}

Running::Running(const std::string& program, const std::vector<std::string>& args) {
    int out[2];
    pipeOrThrow(out);
    pid_ = spawn(program, args, -1, out[1], -1);
    close(out[1]);
    out_ = out[0];
}

Running::~Running() {
    if (pid_ > 0 && waitFor(pid_, std::chrono::milliseconds(0)) == -1) {
        kill(pid_, SIGKILL);
        waitFor(pid_, std::chrono::seconds(5));
    }
    if (out_ >= 0) close(out_);
}

std::optional<std::string> Running::readLine(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        auto newline = buffered_.find('\n');
        if (newline != std::string::npos) {
            std::string line = buffered_.substr(0, newline);
            buffered_.erase(0, newline + 1);
            return line;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd fd{out_, POLLIN, 0};
        if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
        char buffer[4096];
        ssize_t n = read(out_, buffer, sizeof buffer);
        if (n <= 0) return std::nullopt;
        buffered_.append(buffer, static_cast<size_t>(n));
    }
}

void Running::signal(int number) {
    kill(pid_, number);
}

int Running::wait(std::chrono::milliseconds timeout) {
    int status = waitFor(pid_, timeout);
    if (status != -1) pid_ = -1;
    return status;
}

}  // namespace imsaka::testing
