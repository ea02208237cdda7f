#include "user_client.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace imsaka::busclient {

namespace {

using Clock = std::chrono::steady_clock;
using ManagedObjects = std::map<sdbus::ObjectPath, std::map<std::string, Properties>>;

std::unique_ptr<sdbus::IProxy> proxyFor(sdbus::IConnection& connection, const std::string& path) {
    return sdbus::createProxy(connection, kService, path);
}

std::string errorLine(const sdbus::Error& error) {
    return "error " + error.getName();
}

}  // namespace

std::string sandboxValue(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0')
        throw std::runtime_error(
            std::string(name) +
            " is not set: run this test inside tests/support/daemon-sandbox.sh");
    return value;
}

std::string errorNameOf(const std::function<void()>& call) {
    try {
        call();
    } catch (const sdbus::Error& error) {
        return error.getName();
    }
    return "";
}

std::string errorTextOf(const std::function<void()>& call) {
    try {
        call();
    } catch (const sdbus::Error& error) {
        return error.getName() + ": " + error.getMessage();
    }
    return "";
}

Client::Client() : connection_(sdbus::createSystemBusConnection()) {}

std::string Client::createRegistration(const Options& options) {
    sdbus::ObjectPath path;
    proxyFor(*connection_, "/org/imsaka")
        ->callMethod("CreateRegistration")
        .onInterface(kManagerInterface)
        .withArguments(options)
        .storeResultsTo(path);
    return path;
}

void Client::close(const std::string& registration) {
    proxyFor(*connection_, registration)->callMethod("Close").onInterface(kRegistrationInterface);
}

void Client::closeWithoutWaiting(const std::string& registration) {
    proxyFor(*connection_, registration)
        ->callMethod("Close")
        .onInterface(kRegistrationInterface)
        .dontExpectReply();
}

uint8_t Client::verifyPin(const std::string& card, const std::string& pin) {
    uint8_t retries = 0;
    proxyFor(*connection_, card)
        ->callMethod("VerifyPin")
        .onInterface(kCardInterface)
        .withArguments(pin)
        .storeResultsTo(retries);
    return retries;
}

void Client::unblockPin(const std::string& card, const std::string& puk,
                        const std::string& newPin) {
    proxyFor(*connection_, card)
        ->callMethod("UnblockPin")
        .onInterface(kCardInterface)
        .withArguments(puk, newPin);
}

Properties Client::cardProperties(const std::string& card) {
    Properties properties;
    proxyFor(*connection_, card)
        ->callMethod("GetAll")
        .onInterface("org.freedesktop.DBus.Properties")
        .withArguments(std::string(kCardInterface))
        .storeResultsTo(properties);
    return properties;
}

std::string Client::cardOfReader(const std::string& reader) {
    ManagedObjects objects;
    proxyFor(*connection_, "/org/imsaka")
        ->callMethod("GetManagedObjects")
        .onInterface("org.freedesktop.DBus.ObjectManager")
        .storeResultsTo(objects);
    for (const auto& [path, interfaces] : objects) {
        auto card = interfaces.find(kCardInterface);
        if (card != interfaces.end() && text(card->second, "Reader") == reader) return path;
    }
    throw std::runtime_error("no Card1 object for reader " + reader);
}

Properties Client::waitForCardState(const std::string& card, const std::string& state) {
    auto deadline = Clock::now() + std::chrono::seconds(30);
    Properties properties;
    while (Clock::now() < deadline) {
        properties = cardProperties(card);
        if (text(properties, "State") == state) return properties;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error(card + " never reached state " + state + " (it is " +
                             text(properties, "State") + ")");
}

std::string text(const Properties& properties, const std::string& name) {
    auto found = properties.find(name);
    if (found == properties.end()) return "<no property " + name + ">";
    return found->second.get<std::string>();
}

unsigned number(const Properties& properties, const std::string& name) {
    auto found = properties.find(name);
    if (found == properties.end()) throw std::runtime_error("no property " + name);
    return found->second.get<uint8_t>();
}

Options sandboxRegistration() {
    return {{"pcscf", sdbus::Variant(sandboxValue("SANDBOX_PCSCF_ADDRESS"))},
            {"local_address", sdbus::Variant(sandboxValue("SANDBOX_UE_ADDRESS"))}};
}

UserClient::UserClient(const std::string& user) {
    int toChild[2], fromChild[2];
    if (pipe2(toChild, O_CLOEXEC) != 0 || pipe2(fromChild, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
        dup2(toChild[0], STDIN_FILENO);
        dup2(fromChild[1], STDOUT_FILENO);
        execl("/proc/self/exe", "/proc/self/exe", "--client", user.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    close(toChild[0]);
    close(fromChild[1]);
    in_ = toChild[1];
    out_ = fromChild[0];
}

UserClient::~UserClient() {
    if (in_ >= 0) close(in_);
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
}

std::string UserClient::ask(const std::string& command) {
    std::string line = command + "\n";
    if (write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return "";
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (true) {
        if (auto end = buffered_.find('\n'); end != std::string::npos) {
            std::string answer = buffered_.substr(0, end);
            buffered_.erase(0, end + 1);
            return answer;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return "";
        pollfd wait{out_, POLLIN, 0};
        if (poll(&wait, 1, static_cast<int>(left.count())) <= 0) continue;
        char chunk[512];
        ssize_t got = read(out_, chunk, sizeof chunk);
        if (got <= 0) return "";
        buffered_.append(chunk, static_cast<size_t>(got));
    }
}

namespace {

// The child's state: its connections and the signals its listener saw.
struct ChildState {
    std::vector<std::unique_ptr<Client>> clients;
    std::unique_ptr<sdbus::IConnection> listener;
    sdbus::Slot watch;
    std::vector<std::string> seen;
};

std::string answer(ChildState& state, const std::string& line) {
    std::istringstream words(line);
    std::string command;
    words >> command;
    try {
        if (command == "connect") {
            state.clients.push_back(std::make_unique<Client>());
            return "ok " + std::to_string(state.clients.size() - 1);
        }
        if (command == "create") {
            size_t index = 0;
            std::string pcscf, local;
            words >> index >> pcscf >> local;
            if (index >= state.clients.size()) return "error no-such-connection";
            return "ok " + state.clients[index]->createRegistration(
                               {{"pcscf", sdbus::Variant(pcscf)},
                                {"local_address", sdbus::Variant(local)}});
        }
        if (command == "verify-pin" || command == "unblock-pin") {
            if (state.clients.empty()) state.clients.push_back(std::make_unique<Client>());
            std::string card, first, second;
            words >> card >> first >> second;
            if (command == "verify-pin")
                return "ok " + std::to_string(state.clients[0]->verifyPin(card, first));
            state.clients[0]->unblockPin(card, first, second);
            return "ok";
        }
        if (command == "listen") {
            state.listener = sdbus::createSystemBusConnection();
            state.watch = state.listener->addMatch(
                "type='signal',sender='org.imsaka'", [&state](sdbus::Message& message) {
                    state.seen.push_back(message.getInterfaceName() + "." +
                                         message.getMemberName());
                });
            return "ok";
        }
        if (command == "sync") {
            if (!state.listener) return "error not-listening";
            // The reply to this call comes after whatever the bus queued for us before it.
            std::string id;
            sdbus::createProxy(*state.listener, "org.freedesktop.DBus", "/org/freedesktop/DBus")
                ->callMethod("GetId")
                .onInterface("org.freedesktop.DBus")
                .storeResultsTo(id);
            while (state.listener->processPendingRequest()) {
            }
            std::string list;
            for (const auto& name : state.seen) list += (list.empty() ? "" : ",") + name;
            return "seen " + (list.empty() ? std::string("-") : list);
        }
        return "error unknown-command";
    } catch (const sdbus::Error& error) {
        return errorLine(error);
    } catch (const std::exception& error) {
        return std::string("error exception ") + error.what();
    }
}

}  // namespace

int runUserClient(const std::string& user) {
    passwd* account = getpwnam(user.c_str());
    if (!account) {
        std::cout << "error no-user " << user << " (tests/support/test-accounts.sh)" << std::endl;
        return 1;
    }
    if (initgroups(account->pw_name, account->pw_gid) != 0 || setgid(account->pw_gid) != 0 ||
        setuid(account->pw_uid) != 0) {
        std::cout << "error cannot-become " << user << std::endl;
        return 1;
    }
    ChildState state;
    std::string line;
    while (std::getline(std::cin, line)) std::cout << answer(state, line) << std::endl;
    return 0;
}

}  // namespace imsaka::busclient
