#include "imsaka/cardio/card.h"

#include "imsaka/cardio/error.h"
#include "imsaka/cardio/pcsc.h"

namespace imsaka::cardio {

Card::Card(CardOptions options) : options_(std::move(options)) {}

Card::~Card() {
    disconnect();
}

void Card::dropConnection() noexcept {
    if (session_) pastExchanges_ += session_->exchanges();
    session_.reset();
    connection_.reset();
}

void Card::disconnect() noexcept {
    std::lock_guard lock(mutex_);
    if (session_ && connection_) {
        try {
            PcscConnection::Transaction transaction(*connection_);
            session_->close();
        } catch (...) {
            // Gone already: nothing to close.
        }
    }
    dropConnection();
}

uint64_t Card::exchanges() {
    std::lock_guard lock(mutex_);
    return pastExchanges_ + (session_ ? session_->exchanges() : 0);
}

// The named reader, or else the first reader that holds a card; with no card anywhere, the
// first reader, so that its NoCard error names it.
std::unique_ptr<PcscConnection> Card::openConnection() {
    if (!options_.reader.empty())
        return std::make_unique<PcscConnection>(*context_, options_.reader);
    auto readers = context_->readers();
    if (readers.empty()) throw CardError(CardErrc::ReaderNotFound, "reader discovery", "no reader");
    for (const auto& name : readers) {
        try {
            return std::make_unique<PcscConnection>(*context_, name);
        } catch (const CardError&) {
        }
    }
    return std::make_unique<PcscConnection>(*context_, readers.front());
}

// A new session on the current connection: EF_DIR, the application, its channel.
void Card::openSession() {
    if (session_) pastExchanges_ += session_->exchanges();
    session_ = std::make_unique<UiccSession>(*connection_, options_.session);
    PcscConnection::Transaction transaction(*connection_);
    session_->open();
}

void Card::connect() {
    if (!context_) context_ = std::make_unique<PcscContext>();
    connection_ = openConnection();
    try {
        openSession();
    } catch (const CardError& error) {
        // A session that did not open has no application selected: the next call must
        // start afresh, not run on it. After a reset withSession reconnects this one.
        if (error.code() != CardErrc::CardReset) dropConnection();
        throw;
    }
}

// Runs one command sequence inside a transaction. A reset by someone else costs one
// reconnect, re-select and retry; a removed card or a vanished pcscd drops the connection
// so that the next call starts afresh, and is reported.
template <typename Operation>
auto Card::withSession(Operation operation) {
    std::lock_guard lock(mutex_);
    for (int attempt = 0;; ++attempt) {
        try {
            if (!session_) connect();
            // On our own logical channel over T=1 a lone APDU needs no lock; T=0 (61xx then
            // GET RESPONSE) and the shared basic channel always lock for the whole sequence.
            bool ownChannelT1 = !session_->onBasicChannel() && connection_->protocol() == 1;
            PcscConnection::Transaction transaction(
                *connection_, ownChannelT1 ? PcscConnection::Transaction::Start::BeforeSecondCommand
                                           : PcscConnection::Transaction::Start::Now);
            if (session_->onBasicChannel()) session_->reselect();
            return operation(*session_);
        } catch (const CardError& error) {
            switch (error.code()) {
                case CardErrc::CardReset:
                    if (attempt > 0) throw;
                    try {
                        connection_->reconnect();
                        openSession();
                    } catch (const CardError&) {
                        dropConnection();
                        throw;
                    }
                    continue;
                case CardErrc::CardRemoved:
                case CardErrc::NoCard:
                    dropConnection();
                    if (error.code() == CardErrc::CardRemoved) throw;
                    throw CardError(CardErrc::NoCard, error.where(), "no card in the reader");
                case CardErrc::PcscUnavailable:
                    dropConnection();
                    context_.reset();
                    throw;
                default:
                    throw;
            }
        }
    }
}

CardInfo Card::info() {
    return withSession([&](UiccSession& session) {
        CardInfo info;
        info.reader = connection_->reader();
        info.protocol = connection_->protocol();
        info.atr = connection_->atr();
        info.applications = session.applications();
        info.selected = session.application();
        info.logicalChannel = !session.onBasicChannel();
        info.pin = session.pinStatus();
        try {
            info.identities = session.readIdentities();
        } catch (const CardError& error) {
            if (error.code() != CardErrc::PinRequired) throw;
        }
        return info;
    });
}

Identities Card::identities() {
    return withSession([](UiccSession& session) { return session.readIdentities(); });
}

PinStatus Card::pinStatus() {
    return withSession([](UiccSession& session) { return session.pinStatus(); });
}

PinStatus Card::verifyPin(std::string_view pin) {
    return withSession([&](UiccSession& session) { return session.verifyPin(pin); });
}

PinStatus Card::unblockPin(std::string_view puk, std::string_view newPin) {
    return withSession([&](UiccSession& session) { return session.unblockPin(puk, newPin); });
}

AuthResult Card::authenticate(ByteView rand, ByteView autn) {
    if (rand.size() != 16 || autn.size() != 16)  // before touching the card at all
        throw CardError(CardErrc::InvalidArgument, "AUTHENTICATE",
                        "RAND and AUTN must be 16 bytes each");
    return withSession([&](UiccSession& session) { return session.authenticate(rand, autn); });
}

}  // namespace imsaka::cardio
