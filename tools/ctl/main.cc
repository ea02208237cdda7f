// imsakactl: looks at and drives imsakad over D-Bus.
//   imsakactl [--json] [--address ADDR] cards | card [N|PATH] | registrations |
//             registration N|PATH | sa [N|PATH] | monitor | verify-pin [--card N|PATH] |
//             register ARGS... (runs imsaka-register)
// Exit statuses: exit_status.h, doc/imsakactl.md.
#include <openssl/crypto.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
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

// The PIN never comes from the command line: the first line of a file or of standard input.
std::string readPin(const Options& options) {
    std::string pin;
    if (options.pinFile.empty()) {
        std::getline(std::cin, pin);
    } else {
        std::ifstream file(options.pinFile);
        if (!file) throw Failure{"usage", "cannot read " + options.pinFile, kUsage};
        std::getline(file, pin);
    }
    while (!pin.empty() && (pin.back() == '\r' || pin.back() == '\n')) pin.pop_back();
    if (pin.empty()) throw Failure{"usage", "no PIN given", kUsage};
    return pin;
}

int verifyPin(Bus& bus, const Options& options) {
    auto objects = bus.managedObjects();
    std::string path;
    if (!options.card.empty()) {
        path = cardFor(objects, options.card)["path"];
    } else {
        // The card asking for its PIN, else the first one.
        json cards = objectsWith(objects, kCardInterface);
        for (const auto& card : cards)
            if (card.value("state", "") == "pin-required" && path.empty()) path = card["path"];
        if (path.empty()) path = cardFor(objects, "")["path"];
    }
    std::string pin = readPin(options);
    struct WipeOnExit {
        std::string& text;
        ~WipeOnExit() { OPENSSL_cleanse(text.data(), text.size()); }
    } wipe{pin};
    uint8_t retries = bus.verifyPin(path, pin);
    json result{{"card", path}, {"verified", true}, {"retries_left", retries}};
    show(options, result, [&](std::ostream& out) {
        out << "PIN verified on " << path;
        // Cards rarely report the counter once the PIN is verified; 0 means not reported.
        if (retries > 0) out << " (" << static_cast<unsigned>(retries) << " tries left)";
        out << '\n';
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
