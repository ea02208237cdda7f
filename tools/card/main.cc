// imsaka-card: checks a UICC directly over PC/SC, before (or without) the daemon.
//   imsaka-card readers | info | auth RAND AUTN | verify-pin [PIN] | monitor
// Exit status: 0 success, 1 other error, 2 usage, 3 sync failure (AUTS), 4 MAC failure,
// 5 no pcscd, reader or card, 6 PIN required, wrong or blocked.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "imsaka/version.h"
#include "report.h"

namespace {

using namespace imsaka;
using json = nlohmann::ordered_json;

enum Exit {
    kOk = 0,
    kError = 1,
    kUsage = 2,
    kSyncFailure = 3,
    kMacFailure = 4,
    kNoCard = 5,
    kPin = 6
};

int exitFor(cardio::CardErrc code) {
    switch (code) {
        case cardio::CardErrc::MacFailure:
            return kMacFailure;
        case cardio::CardErrc::PcscUnavailable:
        case cardio::CardErrc::ReaderNotFound:
        case cardio::CardErrc::NoCard:
        case cardio::CardErrc::CardRemoved:
            return kNoCard;
        case cardio::CardErrc::PinRequired:
        case cardio::CardErrc::PinBlocked:
        case cardio::CardErrc::WrongPin:
        case cardio::CardErrc::PinNotRequired:
            return kPin;
        case cardio::CardErrc::InvalidArgument:
            return kUsage;
        default:
            return kError;
    }
}

struct Output {
    bool asJson = false;
    void show(const json& document) const {
        if (asJson) {
            std::cout << document.dump(2) << std::endl;
        } else {
            tools::printHuman(document);
        }
    }
};

json readers() {
    cardio::ReaderMonitor monitor;
    json list = json::array();
    for (const auto& event : monitor.wait(std::chrono::milliseconds(0))) {
        if (event.kind == cardio::ReaderEvent::Kind::ReaderAdded) {
            list.push_back({{"name", event.reader}, {"card", false}});
        } else if (event.kind == cardio::ReaderEvent::Kind::CardInserted) {
            for (auto& reader : list)
                if (reader["name"] == event.reader) {
                    reader["card"] = true;
                    reader["atr"] = toHex(event.atr);
                }
        }
    }
    return {{"readers", list}};
}

volatile std::sig_atomic_t stopRequested = 0;

// Waits in one-second steps so that a signal ends it without work in the handler.
int monitor(const Output& output) {
    cardio::ReaderMonitor monitor;
    std::signal(SIGINT, [](int) { stopRequested = 1; });
    std::signal(SIGTERM, [](int) { stopRequested = 1; });
    while (!stopRequested) {
        for (const auto& event : monitor.wait(std::chrono::seconds(1))) {
            json line{{"event", cardio::toString(event.kind)}, {"reader", event.reader}};
            if (!event.atr.empty()) line["atr"] = toHex(event.atr);
            if (output.asJson) {
                std::cout << line.dump() << std::endl;
            } else {
                std::cout << line["event"].get<std::string>() << " " << event.reader << std::endl;
            }
        }
    }
    return kOk;
}

Bytes hexArgument(const std::string& text, const char* name) {
    auto bytes = fromHex(text);
    if (!bytes) throw cardio::CardError(cardio::CardErrc::InvalidArgument, name, "not hex");
    return *bytes;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Check a UICC (ISIM/USIM) over PC/SC: readers, identities, PIN and AKA."};
    app.set_version_flag("--version", std::string("imsaka-card ") + imsaka::kVersion);
    app.require_subcommand(1);
    Output output;
    cardio::CardOptions options;
    bool usimOnly = false, basicChannel = false;
    app.add_flag("--json", output.asJson, "print JSON for scripts");
    app.add_option("--reader", options.reader, "reader name (default: the first one with a card)");
    app.add_flag("--usim", usimOnly, "use the USIM even when the card has an ISIM");
    app.add_flag("--basic-channel", basicChannel, "do not open a logical channel");

    auto* readersCommand =
        app.add_subcommand("readers", "list readers and whether they hold a card");
    auto* infoCommand = app.add_subcommand("info", "applications, identities and PIN state");
    auto* authCommand = app.add_subcommand("auth", "run AUTHENTICATE (3G/IMS context)");
    std::string randHex, autnHex;
    authCommand->add_option("RAND", randHex, "16 bytes, hex")->required();
    authCommand->add_option("AUTN", autnHex, "16 bytes, hex")->required();
    auto* pinCommand =
        app.add_subcommand("verify-pin", "verify PIN1 (read from standard input when not given)");
    std::string pin;
    // Wiped however main ends: a wrong PIN (an exception) is the usual way out.
    struct WipeOnExit {
        std::string& text;
        ~WipeOnExit() { OPENSSL_cleanse(text.data(), text.size()); }
    } wipePin{pin};
    pinCommand->add_option("PIN", pin, "4 to 8 digits");
    auto* monitorCommand =
        app.add_subcommand("monitor", "print readers and cards as they come and go");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? kOk : kUsage;
    }
    if (usimOnly) options.session.preference = cardio::AppPreference::UsimOnly;
    options.session.useLogicalChannel = !basicChannel;

    try {
        if (*readersCommand) {
            output.show(readers());
            return kOk;
        }
        if (*monitorCommand) return monitor(output);
        cardio::Card card(options);
        if (*infoCommand) {
            output.show(tools::toJson(card.info()));
        } else if (*authCommand) {
            Bytes rand = hexArgument(randHex, "RAND"), autn = hexArgument(autnHex, "AUTN");
            auto result = card.authenticate(rand, autn);
            output.show(tools::toJson(result));
            return result.kind == cardio::AuthResult::Kind::SyncFailure ? kSyncFailure : kOk;
        } else if (*pinCommand) {
            if (pin.empty() && !std::getline(std::cin, pin)) pin.clear();
            auto status = card.verifyPin(pin);
            output.show({{"pin", tools::toJson(status)}});
        }
        return kOk;
    } catch (const cardio::CardError& error) {
        if (output.asJson) {
            std::cout << tools::toJson(error).dump(2) << std::endl;
        } else {
            std::cerr << "imsaka-card: " << error.what() << std::endl;
        }
        return exitFor(error.code());
    }
}
