// A UICC in a PC/SC reader, ready for the daemon and the tools: connects on first use, one
// PC/SC transaction per command sequence, recovers from a reset by another party
// (reconnect and re-select) and from removal (a fresh connection once a card is back).
// Thread-safe: calls from several threads never interleave APDUs.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "imsaka/cardio/types.h"
#include "imsaka/cardio/uicc.h"

namespace imsaka::cardio {

class PcscContext;
class PcscConnection;

struct CardOptions {
    std::string reader;  // empty: the first reader that holds a card
    SessionOptions session;
};

struct CardInfo {
    std::string reader;
    int protocol = 1;  // 0 for T=0, 1 for T=1
    Bytes atr;
    std::vector<Application> applications;
    Application selected;
    bool logicalChannel = false;
    PinStatus pin;
    std::optional<Identities> identities;  // absent while the PIN blocks reading them
};

class Card {
  public:
    explicit Card(CardOptions options);
    ~Card();
    Card(const Card&) = delete;
    Card& operator=(const Card&) = delete;

    CardInfo info();
    Identities identities();
    PinStatus pinStatus();
    PinStatus verifyPin(std::string_view pin);
    PinStatus unblockPin(std::string_view puk, std::string_view newPin);
    AuthResult authenticate(ByteView rand, ByteView autn);

    // Closes the logical channel and the connection; the next call connects again.
    void disconnect() noexcept;
    // Raw APDU exchanges so far, over every connection this Card made.
    uint64_t exchanges();

  private:
    template <typename Operation>
    auto withSession(Operation operation);
    void connect();
    std::unique_ptr<PcscConnection> openConnection();
    void openSession();
    void dropConnection() noexcept;

    CardOptions options_;
    std::mutex mutex_;
    std::unique_ptr<PcscContext> context_;
    std::unique_ptr<PcscConnection> connection_;
    std::unique_ptr<UiccSession> session_;
    uint64_t pastExchanges_ = 0;
};

}  // namespace imsaka::cardio
