// org.imsaka.Card1 for one reader: the card's state as properties, and the card operations
// run on the reader's worker thread with their answers sent from the event loop.
#pragma once

#include <imsaka/dbus/Card1_adaptor.h>
#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "card_worker.h"
#include "event_loop.h"
#include "imsaka/daemon/config.h"
#include "imsaka/daemon/errors.h"

namespace imsaka::daemon {

class CardObject final
    : public sdbus::AdaptorInterfaces<::org::imsaka::Card1_adaptor, sdbus::ManagedObject_adaptor,
                                      sdbus::Properties_adaptor> {
  public:
    CardObject(sdbus::IConnection& connection, std::string path, std::string reader,
               EventLoop& loop, const DaemonConfig& config);
    ~CardObject();

    const std::string& path() const { return path_; }
    bool present() const { return state_ != "absent"; }
    bool ready() const { return state_ == "ready"; }
    const std::string& state() const { return state_; }
    const std::string& lastError() const { return lastError_; }
    const cardio::Identities& identities() const { return identities_; }

    void cardInserted();
    void cardRemoved();
    // The worker, for the manager to retire when the reader goes.
    std::unique_ptr<CardWorker> takeWorker() { return std::move(worker_); }

    using AuthCallback = std::function<void(std::variant<cardio::AuthResult, DaemonError>)>;
    // AUTHENTICATE for the daemon's own use; done runs on the loop.
    void authenticate(SecureBytes rand, SecureBytes autn, AuthCallback done);

  private:
    // Card1
    void VerifyPin(sdbus::Result<uint8_t>&& result, std::string pin) override;
    void UnblockPin(sdbus::Result<>&& result, std::string puk, std::string newPin) override;
    void Authenticate(sdbus::Result<std::string, std::vector<uint8_t>, std::vector<uint8_t>,
                                    std::vector<uint8_t>, std::vector<uint8_t>>&& result,
                      std::vector<uint8_t> rand, std::vector<uint8_t> autn) override;
    std::string Reader() override { return reader_; }
    std::string State() override { return state_; }
    std::string Application() override { return application_; }
    std::string Impi() override { return identities_.impi; }
    std::vector<std::string> Impus() override { return identities_.impus; }
    std::string HomeDomain() override { return identities_.homeDomain; }
    std::vector<std::string> PcscfAddresses() override;
    std::string PinState() override { return pinState_; }
    std::string PinKind() override { return pinKind_; }
    uint8_t PinRetries() override { return pinRetries_; }
    uint8_t PukRetries() override { return pukRetries_; }
    std::string LastError() override { return lastError_; }

    void refresh();  // reads the card's info on the worker
    void applyInfo(const cardio::CardInfo& info);
    void applyPin(const cardio::PinStatus& pin);
    void applyFailure(const DaemonError& error);
    void publish();  // PropertiesChanged for whatever differs from the last publish
    template <typename Job>
    void runOnCard(Job job);
    // Why the caller may not try a PIN or PUK on this card now (not allowed, no card), or
    // nothing.
    std::optional<DaemonError> pinCallRefused();
    using PinOperation = std::function<cardio::PinStatus(cardio::Card&)>;
    using PinAnswer = std::function<void(std::variant<cardio::PinStatus, DaemonError>)>;
    // Runs a PIN or PUK operation on the worker, reads the card again in the same job and
    // answers once the properties show the outcome.
    void runPinOperation(PinOperation operation, PinAnswer answer);

    std::string path_;
    std::string reader_;
    EventLoop& loop_;
    const DaemonConfig& config_;
    std::unique_ptr<CardWorker> worker_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    uint64_t generation_ = 0;  // bumped at each insertion or removal

    std::string state_ = "absent";
    std::string application_;
    cardio::Identities identities_;
    std::string pinState_ = "unknown";
    std::string pinKind_;
    uint8_t pinRetries_ = 0;
    uint8_t pukRetries_ = 0;
    std::string lastError_;
    struct Snapshot;
    std::shared_ptr<Snapshot> published_;  // the properties as last published
};

}  // namespace imsaka::daemon
