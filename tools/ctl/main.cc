// imsakactl: looks at and drives imsakad over D-Bus.
//   imsakactl [--json] [--address ADDR] cards | card [N|PATH] | registrations |
//             registration N|PATH | sa [N|PATH] | monitor | verify-pin [--card N|PATH] |
//             unblock-pin [--card N|PATH] | register ARGS... (runs imsaka-register)
// Exit statuses: exit_status.h, doc/imsakactl.md.
#include <openssl/crypto.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bus.h"
#include "exit_status.h"
#include "human.h"
#include "imsaka/version.h"
#include "monitor.h"

namespace {

using namespace imsaka::ctl;

struct Options {
    bool asJson = false;
    std::string address;
    std::string card;
    std::string registration;
    std::string pinFile;
};

void show(const Options& options, const json& document,
          const std::function<void(std::ostream&)>& human) {
    if (options.asJson) {
        std::cout << document.dump(2) << std::endl;
    } else {
        human(std::cout);
    }
}

// A failure that is not a D-Bus error: its name and exit status are chosen here.
struct Failure {
    std::string name;
    std::string message;
    int status;
};

int report(const Options& options, const Failure& failure) {
    if (options.asJson) {
        std::cout << json{{"error", failure.name}, {"message", failure.message}}.dump(2)
                  << std::endl;
    } else {
        std::cerr << "imsakactl: " << failure.name << ": " << failure.message << std::endl;
    }
    return failure.status;
}

json findObject(const json& objects, const std::string& path, const char* what) {
    for (const auto& object : objects)
        if (object["path"] == path) return object;
    throw Failure{"org.freedesktop.DBus.Error.UnknownObject",
                  "no " + std::string(what) + " " + path, kNotFound};
}

json cardFor(const ManagedObjects& objects, const std::string& argument) {
    json cards = objectsWith(objects, kCardInterface);
    if (!argument.empty()) return findObject(cards, objectPath(ObjectKind::Card, argument), "card");
    if (cards.empty())
        throw Failure{"org.freedesktop.DBus.Error.UnknownObject", "no cards", kNotFound};
    return cards.front();
}

json registrationWithSets(const ManagedObjects& objects, const std::string& argument) {
    std::string path = objectPath(ObjectKind::Registration, argument);
    json registration =
        findObject(objectsWith(objects, kRegistrationInterface), path, "registration");
    registration["sa_sets"] = saSetsOf(objects, path);
    return registration;
}

json saSetsWithCounters(Bus& bus, const ManagedObjects& objects, const std::string& argument) {
    json sets;
    if (argument.empty()) {
        sets = objectsWith(objects, kSaSetInterface);
    } else {
        std::string path = objectPath(ObjectKind::Registration, argument);
        findObject(objectsWith(objects, kRegistrationInterface), path, "registration");
        sets = saSetsOf(objects, path);
    }
    // A set can go between listing and reading: that set says so, the others still show.
    for (auto& set : sets) {
        try {
            set["counters"] = toJson(bus.counters(set["path"].get<std::string>()));
        } catch (const sdbus::Error& error) {
            set["counters_error"] = error.getName() + ": " + error.getMessage();
        }
    }
    return sets;
}

// Secrets never come from the command line: lines of a file or of standard input.
class Secrets {
  public:
    explicit Secrets(const Options& options) {
        if (options.pinFile.empty()) return;
        file_.open(options.pinFile);
        if (!file_) throw Failure{"usage", "cannot read " + options.pinFile, kUsage};
    }
    ~Secrets() {
        for (auto& line : lines_) OPENSSL_cleanse(line.data(), line.size());
    }
    // The next line; `what` names it when it is missing.
    const std::string& next(const char* what) {
        std::string line;
        std::getline(file_.is_open() ? static_cast<std::istream&>(file_) : std::cin, line);
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
        lines_.push_back(std::move(line));
        if (lines_.back().empty())
            throw Failure{"usage", std::string("no ") + what + " given", kUsage};
        return lines_.back();
    }

  private:
    std::ifstream file_;
    std::deque<std::string> lines_;  // stable references, wiped at the end
};

// The card named by --card, else the first card in `state`, else the first card.
std::string pinCard(Bus& bus, const Options& options, const std::string& state) {
    auto objects = bus.managedObjects();
    if (!options.card.empty()) return cardFor(objects, options.card)["path"];
    for (const auto& card : objectsWith(objects, kCardInterface))
        if (card.value("state", "") == state) return card["path"];
    return cardFor(objects, "")["path"];
}

int verifyPin(Bus& bus, const Options& options) {
    std::string path = pinCard(bus, options, "pin-required");
    Secrets secrets(options);
    uint8_t retries = bus.verifyPin(path, secrets.next("PIN"));
    json result{{"card", path}, {"verified", true}, {"retries_left", retries}};
    show(options, result, [&](std::ostream& out) {
        out << "PIN verified on " << path;
        // Cards rarely report the counter once the PIN is verified; 0 means not reported.
        if (retries > 0) out << " (" << static_cast<unsigned>(retries) << " tries left)";
        out << '\n';
    });
    return kOk;
}

// The PUK on the first line, the new PIN on the second.
int unblockPin(Bus& bus, const Options& options) {
    std::string path = pinCard(bus, options, "pin-blocked");
    Secrets secrets(options);
    const auto& puk = secrets.next("PUK");
    const auto& newPin = secrets.next("new PIN");
    bus.unblockPin(path, puk, newPin);
    show(options, {{"card", path}, {"unblocked", true}}, [&](std::ostream& out) {
        out << "PIN unblocked on " << path << ": the new PIN is set and verified\n";
    });
    return kOk;
}

// `register` is imsaka-register with the same arguments: the one beside this executable (as
// installed), else the one of the build tree, else the one on PATH. It exits as that does.
int runRegister(const Options& options, std::vector<std::string> arguments) {
    if (!options.address.empty())
        arguments.insert(arguments.begin(), {"--address", options.address});
    std::error_code error;
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    std::string program = "imsaka-register";
    for (const auto& candidate :
         {self.parent_path() / program, self.parent_path() / ".." / "register" / program}) {
        if (!error && access(candidate.c_str(), X_OK) == 0) {
            program = candidate;
            break;
        }
    }
    std::vector<char*> argv{program.data()};
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    execvp(program.c_str(), argv.data());
    return report(options,
                  {"error", "cannot run imsaka-register: " + std::string(strerror(errno)), kError});
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Look at and drive imsakad, the IMS registration security daemon, over D-Bus."};
    app.set_version_flag("--version", std::string("imsakactl ") + imsaka::kVersion);
    app.require_subcommand(1);
    Options options;
    app.add_flag("--json", options.asJson,
                 "print JSON for scripts (one object per line for monitor)");
    app.add_option("--address", options.address,
                   "D-Bus address of the bus (default: the system bus)");

    auto* cardsCommand = app.add_subcommand("cards", "list the cards (one per reader)");
    auto* cardCommand = app.add_subcommand("card", "a card's state, application and identities");
    cardCommand->add_option("CARD", options.card,
                            "card number or object path (default: the first)");
    auto* registrationsCommand = app.add_subcommand("registrations", "list the registrations");
    auto* registrationCommand =
        app.add_subcommand("registration", "a registration's state, identities, ports and SA sets");
    registrationCommand
        ->add_option("REG", options.registration, "registration number or object path")
        ->required();
    auto* saCommand =
        app.add_subcommand("sa", "SA sets with SPIs, algorithms, ports and kernel counters");
    saCommand->add_option("REG", options.registration,
                          "only this registration's sets (number or object path)");
    auto* monitorCommand =
        app.add_subcommand("monitor", "print the daemon's signals as they come, until interrupted");
    auto* pinCommand =
        app.add_subcommand("verify-pin", "verify a card's PIN, read from standard input or a file");
    pinCommand->add_option("--card", options.card,
                           "card number or object path (default: the card asking for its PIN)");
    pinCommand->add_option("--pin-file", options.pinFile,
                           "read the PIN from the first line of FILE");
    auto* unblockCommand = app.add_subcommand(
        "unblock-pin",
        "unblock a blocked PIN: the PUK and the new PIN, one line each, from standard input or a "
        "file");
    unblockCommand->add_option("--card", options.card,
                               "card number or object path (default: the card whose PIN is "
                               "blocked)");
    unblockCommand->add_option("--pin-file", options.pinFile,
                               "read the PUK and the new PIN from the first two lines of FILE");

    auto* registerCommand = app.add_subcommand(
        "register", "register to IMS with imsaka-register (its arguments follow; see --help)");
    // Everything after "register" belongs to imsaka-register, --help included.
    registerCommand->prefix_command()->set_help_flag();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? kOk : kUsage;
    }

    if (*registerCommand) return runRegister(options, registerCommand->remaining());

    try {
        // Arguments are checked before the bus is: a typo is a usage error wherever it runs.
        if (!options.card.empty()) objectPath(ObjectKind::Card, options.card);
        if (!options.registration.empty())
            objectPath(ObjectKind::Registration, options.registration);
        std::unique_ptr<Bus> bus;
        try {
            bus = std::make_unique<Bus>(options.address);
        } catch (const sdbus::Error& error) {
            throw Failure{error.getName(), "cannot connect to the bus: " + error.getMessage(),
                          kNoDaemon};
        }
        if (*monitorCommand) return monitor(*bus, options.asJson, std::cout);
        if (*pinCommand) return verifyPin(*bus, options);
        if (*unblockCommand) return unblockPin(*bus, options);

        const std::time_t now = std::time(nullptr);
        auto objects = bus->managedObjects();
        if (*cardsCommand) {
            json cards = objectsWith(objects, kCardInterface);
            show(options, {{"cards", cards}}, [&](std::ostream& out) { printCards(out, cards); });
        } else if (*cardCommand) {
            json card = cardFor(objects, options.card);
            show(options, card, [&](std::ostream& out) { printCard(out, card); });
        } else if (*registrationsCommand) {
            json registrations = objectsWith(objects, kRegistrationInterface);
            show(options, {{"registrations", registrations}},
                 [&](std::ostream& out) { printRegistrations(out, registrations, now); });
        } else if (*registrationCommand) {
            json registration = registrationWithSets(objects, options.registration);
            show(options, registration,
                 [&](std::ostream& out) { printRegistration(out, registration, now); });
        } else if (*saCommand) {
            json sets = saSetsWithCounters(*bus, objects, options.registration);
            show(options, {{"sa_sets", sets}},
                 [&](std::ostream& out) { printSaSets(out, sets, now); });
        }
        return kOk;
    } catch (const Failure& failure) {
        return report(options, failure);
    } catch (const UsageError& error) {
        return report(options, {"usage", error.what(), kUsage});
    } catch (const sdbus::Error& error) {
        ExitStatus status = exitStatusFor(error.getName());
        std::string message = error.getMessage();
        if (status == kNoDaemon) message = "imsakad is not running (" + message + ")";
        return report(options, {error.getName(), message, status});
    } catch (const std::exception& error) {
        return report(options, {"error", error.what(), kError});
    }
}
