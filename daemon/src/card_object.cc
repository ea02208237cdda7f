#include "card_object.h"

#include <algorithm>
#include <optional>

#include "access.h"
#include "imsaka/cardio/error.h"
#include "log.h"
#include "quiet_signal.h"

namespace imsaka::daemon {

namespace {

constexpr const char* kInterface = "org.imsaka.Card1";

cardio::SessionOptions sessionOptions(const DaemonConfig& config) {
    cardio::SessionOptions options;
    options.preference = config.application == ApplicationChoice::Usim
                             ? cardio::AppPreference::UsimOnly
                             : cardio::AppPreference::IsimThenUsim;
    return options;
}

sdbus::Error toDbus(const DaemonError& error) {
    return sdbus::Error(std::string(dbusErrorName(error.code())), error.what());
}

bool digits(std::string_view text, size_t min, size_t max) {
    return text.size() >= min && text.size() <= max &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A secret from a D-Bus argument, which is wiped.
std::shared_ptr<SecureBytes> takeSecret(std::string& text) {
    auto secret = std::make_shared<SecureBytes>(text.begin(), text.end());
    std::fill(text.begin(), text.end(), '\0');
    return secret;
}

std::string_view view(const SecureBytes& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void wipe(std::vector<uint8_t>& bytes) {
    std::fill(bytes.begin(), bytes.end(), uint8_t{0});
    // The compiler may not drop the fill: the vector is read again by its destructor's
    // deallocation through an opaque call.
    asm volatile("" : : "r"(bytes.data()) : "memory");
}

}  // namespace

struct CardObject::Snapshot {
    std::string state, application, impi, homeDomain, pinState, pinKind, lastError;
    std::vector<std::string> impus, pcscfs;
    uint8_t pinRetries = 0, pukRetries = 0;
};

CardObject::CardObject(sdbus::IConnection& connection, std::string path, std::string reader,
                       EventLoop& loop, const DaemonConfig& config)
    : AdaptorInterfaces(connection, path),
      path_(std::move(path)),
      reader_(std::move(reader)),
      loop_(loop),
      config_(config) {
    registerAdaptor();
    published_ = std::make_shared<Snapshot>();
    published_->state = state_;
    published_->pinState = pinState_;
    emitInterfacesAddedSignal({kInterface});
}

CardObject::~CardObject() {
    *alive_ = false;
    emitQuietly("InterfacesRemoved", [&] { emitInterfacesRemovedSignal({kInterface}); });
    unregisterAdaptor();
}

std::vector<std::string> CardObject::PcscfAddresses() {
    std::vector<std::string> addresses;
    for (const auto& pcscf : identities_.pcscfs) addresses.push_back(pcscf.address);
    return addresses;
}

template <typename Job>
void CardObject::runOnCard(Job job) {
    if (worker_) worker_->submit(std::move(job));
}

void CardObject::cardInserted() {
    // The worker thread starts with the first card: an empty reader costs no thread.
    if (!worker_) worker_ = std::make_unique<CardWorker>(reader_, sessionOptions(config_));
    ++generation_;
    state_ = "reading";  // until the first read says what the card is
    lastError_.clear();
    refresh();
}

void CardObject::cardRemoved() {
    ++generation_;
    state_ = "absent";
    application_.clear();
    identities_ = {};
    pinState_ = "unknown";
    pinKind_.clear();
    pinRetries_ = 0;
    pukRetries_ = 0;
    publish();
    // The connection belonged to the card that left; the next job connects afresh.
    runOnCard([](cardio::Card& card) { card.disconnect(); });
}

void CardObject::refresh() {
    std::weak_ptr<bool> alive = alive_;
    auto generation = generation_;
    runOnCard([this, loop = &loop_, alive, generation](cardio::Card& card) {
        std::variant<cardio::CardInfo, DaemonError> outcome = DaemonError(DaemonErrc::Failed, "");
        try {
            try {
                outcome = card.info();
            } catch (const cardio::CardError& e) {
                // A connection that saw the card leave fails once; the monitor says a card
                // is there now, so connect again.
                if (e.code() != cardio::CardErrc::CardRemoved &&
                    e.code() != cardio::CardErrc::CardReset)
                    throw;
                card.disconnect();
                outcome = card.info();
            }
        } catch (...) {
            outcome = classify(std::current_exception());
        }
        loop->post([this, alive, generation, outcome = std::move(outcome)] {
            if (alive.expired() || generation != generation_) return;
            if (auto* info = std::get_if<cardio::CardInfo>(&outcome))
                applyInfo(*info);
            else
                applyFailure(std::get<DaemonError>(outcome));
            publish();
        });
    });
}

void CardObject::applyInfo(const cardio::CardInfo& info) {
    application_ = info.selected.type == cardio::AppType::Isim   ? "isim"
                   : info.selected.type == cardio::AppType::Usim ? "usim"
                                                                 : "";
    identities_ = info.identities.value_or(cardio::Identities{});
    applyPin(info.pin);
    if (config_.application == ApplicationChoice::Isim && application_ != "isim") {
        state_ = "error";
        lastError_ = "the card has no ISIM and the configuration asks for one";
    }
    log::info("card in " + reader_ + ": " + state_ + ", " + application_ +
              (identities_.impi.empty() ? "" : ", IMPI " + identities_.impi));
}

void CardObject::applyPin(const cardio::PinStatus& pin) {
    pinRetries_ = static_cast<uint8_t>(std::clamp(pin.retriesLeft.value_or(0), 0, 255));
    pukRetries_ = static_cast<uint8_t>(std::clamp(pin.pukRetriesLeft.value_or(0), 0, 255));
    pinKind_ = pin.keyReference == cardio::kUniversalPin ? "universal" : "application";
    if (pin.blocked) {
        pinState_ = "blocked";
        state_ = "pin-blocked";
    } else if (!pin.enabled) {
        pinState_ = "disabled";
        state_ = "ready";
    } else if (pin.verified) {
        pinState_ = "verified";
        state_ = "ready";
    } else {
        pinState_ = "required";
        state_ = "pin-required";
    }
    if (state_ == "ready") lastError_.clear();
}

void CardObject::applyFailure(const DaemonError& error) {
    if (error.code() == DaemonErrc::CardAbsent) {
        state_ = "absent";
        return;
    }
    state_ = error.code() == DaemonErrc::PinBlocked    ? "pin-blocked"
             : error.code() == DaemonErrc::PinRequired ? "pin-required"
                                                       : "error";
    lastError_ = error.what();
    log::warning("card in " + reader_ + ": " + lastError_);
}

void CardObject::publish() {
    Snapshot now{state_,           application_, identities_.impi, identities_.homeDomain,
                 pinState_,        pinKind_,     lastError_,       identities_.impus,
                 PcscfAddresses(), pinRetries_,  pukRetries_};
    std::vector<std::string> changed;
    const auto& old = *published_;
    if (now.state != old.state) changed.push_back("State");
    if (now.application != old.application) changed.push_back("Application");
    if (now.impi != old.impi) changed.push_back("Impi");
    if (now.impus != old.impus) changed.push_back("Impus");
    if (now.homeDomain != old.homeDomain) changed.push_back("HomeDomain");
    if (now.pcscfs != old.pcscfs) changed.push_back("PcscfAddresses");
    if (now.pinState != old.pinState) changed.push_back("PinState");
    if (now.pinKind != old.pinKind) changed.push_back("PinKind");
    if (now.pinRetries != old.pinRetries) changed.push_back("PinRetries");
    if (now.pukRetries != old.pukRetries) changed.push_back("PukRetries");
    if (now.lastError != old.lastError) changed.push_back("LastError");
    *published_ = std::move(now);
    if (!changed.empty()) emitPropertiesChangedSignal(kInterface, changed);
}

std::optional<DaemonError> CardObject::pinCallRefused() {
    const auto* message = getObject().getCurrentlyProcessedMessage();
    uid_t uid = callerUid(getObject().getConnection(), message->getSender());
    if (!mayUsePin(uid, config_)) {
        log::notice("a PIN or PUK of the card in " + reader_ + " refused to uid " +
                    std::to_string(uid));
        return DaemonError(DaemonErrc::NotAllowed, "this user may not try the card's PIN or PUK");
    }
    if (!present()) return DaemonError(DaemonErrc::CardAbsent, "no card in " + reader_);
    return std::nullopt;
}

void CardObject::runPinOperation(PinOperation operation, PinAnswer answer) {
    std::weak_ptr<bool> alive = alive_;
    auto generation = generation_;
    runOnCard([this, loop = &loop_, alive, generation, operation = std::move(operation),
               answer = std::move(answer)](cardio::Card& card) {
        std::variant<cardio::PinStatus, DaemonError> outcome = DaemonError(DaemonErrc::Failed, "");
        try {
            outcome = operation(card);
        } catch (...) {
            outcome = classify(std::current_exception());
        }
        // Read the card again in the same job, so that the reply comes after the properties
        // show the new state (identities readable, retries, blocked).
        std::optional<cardio::CardInfo> info;
        try {
            info = card.info();
        } catch (const std::exception&) {
            // The answer stands on its own; the properties catch up at the next event.
        }
        loop->post([this, alive, generation, answer, outcome = std::move(outcome),
                    info = std::move(info)] {
            if (!alive.expired() && generation == generation_ && info) {
                applyInfo(*info);
                publish();
            }
            answer(outcome);
        });
    });
}

void CardObject::VerifyPin(sdbus::Result<uint8_t>&& result, std::string pin) {
    auto secret = takeSecret(pin);
    auto refused = pinCallRefused();
    if (!refused && !digits(view(*secret), 4, 8))
        refused = DaemonError(DaemonErrc::InvalidArguments, "a PIN is 4 to 8 digits");
    // What the card last said; the worker asks the card again before anything is sent.
    if (!refused && (pinState_ == "disabled" || pinState_ == "verified"))
        refused = DaemonError(DaemonErrc::WrongState,
                              "the PIN is " + pinState_ + ": nothing to verify (PinState)");
    if (!refused && pinState_ == "blocked")
        refused =
            DaemonError(DaemonErrc::PinBlocked, "the PIN is blocked: UnblockPin with the PUK");
    if (refused) {
        result.returnError(toDbus(*refused));
        return;
    }
    auto reply = std::make_shared<sdbus::Result<uint8_t>>(std::move(result));
    runPinOperation(
        [secret](cardio::Card& card) {
            auto status = card.verifyPin(view(*secret));
            secret->clear();
            return status;
        },
        [reply](std::variant<cardio::PinStatus, DaemonError> outcome) {
            if (auto* error = std::get_if<DaemonError>(&outcome)) {
                reply->returnError(toDbus(*error));
                return;
            }
            auto retries = std::get<cardio::PinStatus>(outcome).retriesLeft.value_or(0);
            reply->returnResults(static_cast<uint8_t>(std::clamp(retries, 0, 255)));
        });
}

void CardObject::UnblockPin(sdbus::Result<>&& result, std::string puk, std::string newPin) {
    auto pukSecret = takeSecret(puk);
    auto pinSecret = takeSecret(newPin);
    auto refused = pinCallRefused();
    if (!refused && !digits(view(*pukSecret), 8, 8))
        refused = DaemonError(DaemonErrc::InvalidArguments, "a PUK is 8 digits");
    if (!refused && !digits(view(*pinSecret), 4, 8))
        refused = DaemonError(DaemonErrc::InvalidArguments, "a PIN is 4 to 8 digits");
    if (!refused && (pinState_ == "disabled" || pinState_ == "verified" || pinState_ == "required"))
        refused = DaemonError(DaemonErrc::WrongState,
                              "the PIN is " + pinState_ + ", not blocked: no PUK is needed");
    if (refused) {
        result.returnError(toDbus(*refused));
        return;
    }
    auto reply = std::make_shared<sdbus::Result<>>(std::move(result));
    runPinOperation(
        [pukSecret, pinSecret](cardio::Card& card) {
            auto status = card.unblockPin(view(*pukSecret), view(*pinSecret));
            pukSecret->clear();
            pinSecret->clear();
            return status;
        },
        [reply](std::variant<cardio::PinStatus, DaemonError> outcome) {
            if (auto* error = std::get_if<DaemonError>(&outcome)) {
                reply->returnError(toDbus(*error));
                return;
            }
            reply->returnResults();
        });
}

void CardObject::Authenticate(sdbus::Result<std::string, std::vector<uint8_t>, std::vector<uint8_t>,
                                            std::vector<uint8_t>, std::vector<uint8_t>>&& result,
                              std::vector<uint8_t> rand, std::vector<uint8_t> autn) {
    const auto* message = getObject().getCurrentlyProcessedMessage();
    uid_t uid = callerUid(getObject().getConnection(), message->getSender());
    if (!mayAuthenticate(uid, config_)) {
        log::notice("Card1.Authenticate refused to uid " + std::to_string(uid));
        result.returnError(toDbus(
            DaemonError(DaemonErrc::NotAllowed, "raw AUTHENTICATE is not allowed to this user")));
        return;
    }
    if (rand.size() != 16 || autn.size() != 16) {
        result.returnError(toDbus(
            DaemonError(DaemonErrc::InvalidArguments, "RAND and AUTN must be 16 bytes each")));
        return;
    }
    using Reply = sdbus::Result<std::string, std::vector<uint8_t>, std::vector<uint8_t>,
                                std::vector<uint8_t>, std::vector<uint8_t>>;
    auto reply = std::make_shared<Reply>(std::move(result));
    authenticate(SecureBytes(rand.begin(), rand.end()), SecureBytes(autn.begin(), autn.end()),
                 [reply](std::variant<cardio::AuthResult, DaemonError> outcome) {
                     if (auto* error = std::get_if<DaemonError>(&outcome)) {
                         reply->returnError(toDbus(*error));
                         return;
                     }
                     auto& auth = std::get<cardio::AuthResult>(outcome);
                     bool success = auth.kind == cardio::AuthResult::Kind::Success;
                     std::vector<uint8_t> res(auth.res.begin(), auth.res.end());
                     std::vector<uint8_t> ck(auth.ck.begin(), auth.ck.end());
                     std::vector<uint8_t> ik(auth.ik.begin(), auth.ik.end());
                     std::vector<uint8_t> auts(auth.auts.begin(), auth.auts.end());
                     reply->returnResults(std::string(success ? "success" : "sync-failure"), res,
                                          ck, ik, auts);
                     wipe(res);
                     wipe(ck);
                     wipe(ik);
                 });
}

void CardObject::authenticate(SecureBytes rand, SecureBytes autn, AuthCallback done) {
    if (!present()) {
        done(DaemonError(DaemonErrc::CardAbsent, "no card in " + reader_));
        return;
    }
    auto input =
        std::make_shared<std::pair<SecureBytes, SecureBytes>>(std::move(rand), std::move(autn));
    auto callback = std::make_shared<AuthCallback>(std::move(done));
    runOnCard([loop = &loop_, input, callback](cardio::Card& card) {
        auto outcome = std::make_shared<std::variant<cardio::AuthResult, DaemonError>>(
            DaemonError(DaemonErrc::Failed, ""));
        try {
            *outcome = card.authenticate(input->first, input->second);
        } catch (...) {
            *outcome = classify(std::current_exception());
        }
        loop->post([callback, outcome] { (*callback)(std::move(*outcome)); });
    });
}

}  // namespace imsaka::daemon
