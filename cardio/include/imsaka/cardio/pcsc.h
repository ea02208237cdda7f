// PC/SC (pcsc-lite) adapters: a context, a connection to a card that is a Transport, the
// transaction guard, and a monitor of readers and cards coming and going.
#pragma once

#include <winscard.h>

#include <chrono>
#include <string>
#include <vector>

#include "imsaka/cardio/transport.h"

namespace imsaka::cardio {

// Turns a PC/SC return code into the card part's named error.
[[noreturn]] void throwForPcsc(LONG rv, const std::string& where);

class PcscContext {
  public:
    PcscContext();
    ~PcscContext();
    PcscContext(const PcscContext&) = delete;
    PcscContext& operator=(const PcscContext&) = delete;

    std::vector<std::string> readers();
    SCARDCONTEXT handle() const { return handle_; }
    // Wakes a blocking SCardGetStatusChange on this context; safe from another thread.
    void cancel() noexcept;

  private:
    SCARDCONTEXT handle_ = 0;
};

class PcscConnection : public Transport {
  public:
    // Connects in shared mode with T=0 or T=1, whichever the card offers.
    PcscConnection(PcscContext& context, std::string reader);
    ~PcscConnection() override;
    PcscConnection(const PcscConnection&) = delete;
    PcscConnection& operator=(const PcscConnection&) = delete;

    SecureBytes transmit(ByteView command) override;
    // After SCARD_W_RESET_CARD: reconnect without resetting again.
    void reconnect();

    const std::string& reader() const { return reader_; }
    int protocol() const { return protocol_ == SCARD_PROTOCOL_T0 ? 0 : 1; }
    Bytes atr();

    // Holds exclusive access to the card for one command sequence. A deferred transaction
    // takes the lock only before the sequence's second APDU: a lone APDU is already atomic
    // in pcscd, so a one-command sequence costs no locking round trips. The price: should a
    // T=1 card answer 61xx, another program may send one command before our GET RESPONSE.
    class Transaction {
      public:
        enum class Start { Now, BeforeSecondCommand };
        explicit Transaction(PcscConnection& connection, Start start = Start::Now);
        ~Transaction();
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;

      private:
        friend class PcscConnection;
        void lock();
        PcscConnection& connection_;
        bool locked_ = false;
        int sent_ = 0;
    };

  private:
    std::string reader_;
    SCARDHANDLE handle_ = 0;
    DWORD protocol_ = 0;
    Transaction* deferred_ = nullptr;  // the open deferred transaction, if any
};

struct ReaderEvent {
    enum class Kind { ReaderAdded, ReaderRemoved, CardInserted, CardRemoved };
    Kind kind;
    std::string reader;
    Bytes atr;  // for CardInserted
};
std::string_view toString(ReaderEvent::Kind kind);

// Watches readers (through the \\?PnP?\Notification pseudo-reader) and the cards in them.
// The first wait reports every reader and card already present.
class ReaderMonitor {
  public:
    ReaderMonitor();
    // Returns the changes since the last call, waiting up to `timeout` for the first one;
    // an empty list on time-out or after cancel().
    std::vector<ReaderEvent> wait(std::chrono::milliseconds timeout);
    void cancel() noexcept { context_.cancel(); }

  private:
    struct Watched {
        std::string name;
        DWORD state = SCARD_STATE_UNAWARE;
        bool present = false;
    };
    void syncReaders(std::vector<ReaderEvent>& events);

    PcscContext context_;
    std::vector<Watched> readers_;
    DWORD pnpState_ = SCARD_STATE_UNAWARE;
};

}  // namespace imsaka::cardio
