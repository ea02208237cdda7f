#include "imsaka/cardio/pcsc.h"

#include <algorithm>
#include <array>

#include "imsaka/cardio/error.h"

namespace imsaka::cardio {

void throwForPcsc(LONG rv, const std::string& where) {
    std::string detail = pcsc_stringify_error(rv);
    switch (rv) {
        case SCARD_E_NO_SERVICE:
        case SCARD_E_SERVICE_STOPPED:
        case SCARD_E_INVALID_HANDLE:
            throw CardError(CardErrc::PcscUnavailable, where, detail);
        case SCARD_E_UNKNOWN_READER:
        case SCARD_E_READER_UNAVAILABLE:
        case SCARD_E_NO_READERS_AVAILABLE:
            throw CardError(CardErrc::ReaderNotFound, where, detail);
        case SCARD_E_NO_SMARTCARD:
            throw CardError(CardErrc::NoCard, where, detail);
        case SCARD_W_REMOVED_CARD:
            throw CardError(CardErrc::CardRemoved, where, detail);
        case SCARD_W_RESET_CARD:
            throw CardError(CardErrc::CardReset, where, detail);
        default:
            throw CardError(CardErrc::PcscFailure, where, detail);
    }
}

PcscContext::PcscContext() {
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &handle_);
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardEstablishContext");
}

PcscContext::~PcscContext() {
    SCardReleaseContext(handle_);
}

void PcscContext::cancel() noexcept {
    SCardCancel(handle_);
}

std::vector<std::string> PcscContext::readers() {
    DWORD length = 0;
    LONG rv = SCardListReaders(handle_, nullptr, nullptr, &length);
    if (rv == SCARD_E_NO_READERS_AVAILABLE) return {};
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardListReaders");
    std::string buffer(length, '\0');
    rv = SCardListReaders(handle_, nullptr, buffer.data(), &length);
    if (rv == SCARD_E_NO_READERS_AVAILABLE) return {};
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardListReaders");
    std::vector<std::string> names;
    for (size_t pos = 0; pos < buffer.size() && buffer[pos] != '\0';) {
        std::string name(buffer.c_str() + pos);
        pos += name.size() + 1;
        names.push_back(std::move(name));
    }
    return names;
}

PcscConnection::PcscConnection(PcscContext& context, std::string reader)
    : reader_(std::move(reader)) {
    LONG rv = SCardConnect(context.handle(), reader_.c_str(), SCARD_SHARE_SHARED,
                           SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &handle_, &protocol_);
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardConnect " + reader_);
}

PcscConnection::~PcscConnection() {
    SCardDisconnect(handle_, SCARD_LEAVE_CARD);
}

SecureBytes PcscConnection::transmit(ByteView command) {
    const SCARD_IO_REQUEST* pci = protocol_ == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    SecureBytes response(258 + 2);
    DWORD length = static_cast<DWORD>(response.size());
    LONG rv = SCardTransmit(handle_, pci, command.data(), static_cast<DWORD>(command.size()),
                            nullptr, response.data(), &length);
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardTransmit");
    response.resize(length);
    return response;
}

void PcscConnection::reconnect() {
    LONG rv = SCardReconnect(handle_, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                             SCARD_LEAVE_CARD, &protocol_);
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardReconnect " + reader_);
}

Bytes PcscConnection::atr() {
    std::array<uint8_t, MAX_ATR_SIZE> buffer{};
    DWORD atrLength = static_cast<DWORD>(buffer.size());
    DWORD state = 0, protocol = 0, nameLength = 0;
    LONG rv =
        SCardStatus(handle_, nullptr, &nameLength, &state, &protocol, buffer.data(), &atrLength);
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardStatus");
    return Bytes(buffer.begin(), buffer.begin() + atrLength);
}

PcscConnection::Transaction::Transaction(PcscConnection& connection) : connection_(connection) {
    LONG rv = SCardBeginTransaction(connection_.handle_);
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardBeginTransaction");
}

PcscConnection::Transaction::~Transaction() {
    SCardEndTransaction(connection_.handle_, SCARD_LEAVE_CARD);
}

std::string_view toString(ReaderEvent::Kind kind) {
    switch (kind) {
        case ReaderEvent::Kind::ReaderAdded:
            return "reader-added";
        case ReaderEvent::Kind::ReaderRemoved:
            return "reader-removed";
        case ReaderEvent::Kind::CardInserted:
            return "card-inserted";
        case ReaderEvent::Kind::CardRemoved:
            return "card-removed";
    }
    return "unknown";
}

ReaderMonitor::ReaderMonitor() = default;

void ReaderMonitor::syncReaders(std::vector<ReaderEvent>& events) {
    auto names = context_.readers();
    for (auto it = readers_.begin(); it != readers_.end();) {
        if (std::find(names.begin(), names.end(), it->name) != names.end()) {
            ++it;
            continue;
        }
        if (it->present) events.push_back({ReaderEvent::Kind::CardRemoved, it->name, {}});
        events.push_back({ReaderEvent::Kind::ReaderRemoved, it->name, {}});
        it = readers_.erase(it);
    }
    for (const auto& name : names) {
        auto known = std::find_if(readers_.begin(), readers_.end(),
                                  [&](const Watched& w) { return w.name == name; });
        if (known != readers_.end()) continue;
        events.push_back({ReaderEvent::Kind::ReaderAdded, name, {}});
        readers_.push_back({name, SCARD_STATE_UNAWARE, false});
    }
}

std::vector<ReaderEvent> ReaderMonitor::wait(std::chrono::milliseconds timeout) {
    std::vector<ReaderEvent> events;
    if (pnpState_ == SCARD_STATE_UNAWARE) syncReaders(events);

    std::vector<SCARD_READERSTATE> states(readers_.size() + 1);
    for (size_t i = 0; i < readers_.size(); ++i) {
        states[i].szReader = readers_[i].name.c_str();
        states[i].dwCurrentState = readers_[i].state;
    }
    states.back().szReader = R"(\\?PnP?\Notification)";
    states.back().dwCurrentState = pnpState_;

    // Nothing to report yet: block until something changes (or the time runs out).
    DWORD wait = events.empty() ? static_cast<DWORD>(timeout.count()) : 0;
    LONG rv = SCardGetStatusChange(context_.handle(), wait, states.data(),
                                   static_cast<DWORD>(states.size()));
    if (rv == SCARD_E_TIMEOUT || rv == SCARD_E_CANCELLED) return events;
    if (rv == SCARD_E_UNKNOWN_READER) {  // a reader left between listing and waiting
        syncReaders(events);
        return events;
    }
    if (rv != SCARD_S_SUCCESS) throwForPcsc(rv, "SCardGetStatusChange");

    pnpState_ = states.back().dwEventState & ~DWORD{SCARD_STATE_CHANGED};
    for (size_t i = 0; i < readers_.size(); ++i) {
        DWORD now = states[i].dwEventState;
        if (!(now & SCARD_STATE_CHANGED) && readers_[i].state != SCARD_STATE_UNAWARE) continue;
        readers_[i].state = now & ~DWORD{SCARD_STATE_CHANGED};
        bool present = (now & SCARD_STATE_PRESENT) && !(now & SCARD_STATE_MUTE);
        if (present && !readers_[i].present) {
            Bytes atr(states[i].rgbAtr, states[i].rgbAtr + states[i].cbAtr);
            events.push_back({ReaderEvent::Kind::CardInserted, readers_[i].name, std::move(atr)});
        } else if (!present && readers_[i].present) {
            events.push_back({ReaderEvent::Kind::CardRemoved, readers_[i].name, {}});
        }
        readers_[i].present = present;
    }
    if (states.back().dwEventState & SCARD_STATE_CHANGED) syncReaders(events);
    return events;
}

}  // namespace imsaka::cardio
