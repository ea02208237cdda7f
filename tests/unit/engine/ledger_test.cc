// Nothing leaks, whatever the order of events: a ledger of what the engine asked for
// (reservations, SA sets) is kept while seeded random events drive it; the engine's sets
// are always the ledger's, and after close() every reservation has been released or
// turned into a set, and every set removed.
#include <deque>
#include <map>
#include <random>
#include <set>

#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

class Ledger {
  public:
    explicit Ledger(uint32_t seed) : random_(seed) {}

    // Carries out the actions as a caller would, answering the asynchronous ones.
    void perform(Actions actions) {
        std::deque<Action> queue(actions.begin(), actions.end());
        while (!queue.empty()) {
            Action action = std::move(queue.front());
            queue.pop_front();
            Actions more = step(action);
            queue.insert(queue.end(), more.begin(), more.end());
        }
    }

    // One random event from outside: the network, the application or a timer.
    void randomEvent() {
        switch (pick(9)) {
            case 0:
            case 1:
            case 2:
                if (pending_) respond();
                return;
            case 3:
                attempt([&] { return engine.registerNow(now()); });
                return;
            case 4:
                attempt([&] { return engine.deregister(now()); });
                return;
            case 5:
                attempt([&] { return engine.timerFired(now(), randomTimer()); });
                return;
            case 6:
                attempt([&] { return engine.transportError(now()); });
                return;
            case 7:
                if (pick(3) == 0) {
                    attempt([&] { return engine.retiringTransactions(now(), pick(2) == 0); });
                } else if (!sets.empty()) {
                    auto id = *std::next(sets.begin(), static_cast<long>(pick(sets.size())));
                    attempt([&] { return engine.inboundTraffic(now(), id); });
                }
                return;
            default:
                attempt([&] { return engine.notify(now(), randomReginfo()); });
                return;
        }
    }

    RegistrationEngine engine{testConfig()};
    std::set<uint32_t> offers;  // reserved (by spiUc), neither released nor installed
    std::set<SaSetId> sets;     // installed (or being installed), not removed
    std::vector<std::string> errors;

  private:
    Time now() { return at(clock_ += static_cast<int64_t>(pick(200))); }
    size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random_); }

    template <typename Call>
    void attempt(Call call) {
        try {
            perform(call());
        } catch (const EngineError&) {
        }
    }

    TimerKind randomTimer() {
        static constexpr TimerKind kinds[] = {TimerKind::TimerF, TimerKind::RegAwaitAuth,
                                              TimerKind::Refresh, TimerKind::Backoff,
                                              TimerKind::Retire};
        return kinds[pick(5)];
    }

    std::string randomReginfo() {
        static const char* events[] = {"shortened", "deactivated", "rejected", "unregistered",
                                       "refreshed"};
        std::string event = events[pick(5)];
        std::string state = event == "shortened" || event == "refreshed" ? "active" : "terminated";
        std::string uri = pending_ ? pending_->second : std::string("sip:10.0.0.2:6101");
        // Versions go up, as within one subscription (RFC 3680).
        return "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"" +
               std::to_string(reginfoVersion_++) +
               "\" state=\"full\">"
               "<registration aor=\"sip:user1_public1@home1.net\" id=\"a\" state=\"active\">"
               "<contact id=\"c\" state=\"" +
               state + "\" event=\"" + event + "\" expires=\"300\"><uri>" + uri +
               "</uri></contact></registration></reginfo>";
    }

    void respond() {
        const OutgoingRegister request = pending_->first;
        SipResponse response;
        switch (pick(7)) {
            case 0:
            case 1:
                vector_ = network_.nextVector();
                response = network_.challenge(request, *vector_);
                break;
            case 2:
            case 3:
                response = network_.ok(request, static_cast<uint32_t>(60 + pick(4000)));
                break;
            case 4:
                response = Network::answer(423, request, {{"Min-Expires", "700000"}});
                break;
            case 5:
                response = Network::answer(305, request);
                break;
            default:
                response = Network::answer(pick(2) ? 403 : 500, request);
                break;
        }
        attempt([&] { return engine.response(now(), response); });
    }

    Actions step(const Action& action) {
        Time t = at(clock_);
        if (std::holds_alternative<action::ReserveSecurity>(action)) {
            if (pick(8) == 0) return engine.securityUnavailable(t, "no ports");
            ++next_;
            SecurityOffer offer{static_cast<uint16_t>(10000 + 2 * next_),
                                static_cast<uint16_t>(10001 + 2 * next_), 1000 + next_,
                                500000 + next_};
            offers.insert(offer.spiUc);
            try {
                return engine.securityReserved(t, offer);
            } catch (const EngineError&) {
                offers.erase(offer.spiUc);  // still ours: released by us
                return {};
            }
        }
        if (const auto* release = std::get_if<action::ReleaseSecurity>(&action)) {
            if (offers.erase(release->offer.spiUc) == 0) {
                errors.push_back("released an offer not held: " +
                                 std::to_string(release->offer.spiUc));
            }
            return {};
        }
        if (std::holds_alternative<action::Authenticate>(action)) {
            switch (pick(6)) {
                case 0:
                    return engine.authenticated(t, sip::AkaMacFailure{});
                case 1:
                    return engine.authenticationFailed(t, "card gone");
                default:
                    return engine.authenticated(t, Network::success(*vector_));
            }
        }
        if (const auto* reclaim = std::get_if<action::ReclaimSecurity>(&action)) {
            if (sets.erase(reclaim->id) == 0) {
                errors.push_back("reclaimed a set not held: " + std::to_string(reclaim->id));
                return {};
            }
            SecurityOffer offer = offerOfSet_.at(reclaim->id);
            if (pick(8) == 0) return engine.securityUnavailable(t, "SPI taken");
            offers.insert(offer.spiUc);
            try {
                return engine.securityReserved(t, offer);
            } catch (const EngineError&) {
                offers.erase(offer.spiUc);
                return {};
            }
        }
        if (const auto* install = std::get_if<action::InstallSaSet>(&action)) {
            if (offers.erase(install->set.ours.spiUc) == 0) {
                errors.push_back("installed a set from an offer not held");
            }
            sets.insert(install->set.id);
            offerOfSet_[install->set.id] = install->set.ours;
            if (pick(8) == 0) return engine.saSetFailed(t, install->set.id, "EPERM");
            return engine.saSetInstalled(t, install->set.id);
        }
        if (const auto* remove = std::get_if<action::RemoveSaSet>(&action)) {
            if (sets.erase(remove->id) == 0) {
                errors.push_back("removed a set not held: " + std::to_string(remove->id));
            }
            return {};
        }
        if (const auto* send = std::get_if<action::Send>(&action)) {
            std::string contact = header(send->request, "Contact");
            contact = contact.substr(1, contact.find('>') - 1);
            pending_ = std::make_pair(send->request, contact);
        }
        return {};
    }

    std::mt19937 random_;
    Network network_;
    std::optional<milenage::AuthVector> vector_;
    std::optional<std::pair<OutgoingRegister, std::string>> pending_;
    std::map<SaSetId, SecurityOffer> offerOfSet_;
    unsigned reginfoVersion_ = 0;
    int64_t clock_ = 0;
    uint32_t next_ = 0;
};

TEST(Ledger, EveryReservationAndSetIsGivenBackWhateverHappens) {
    for (uint32_t seed = 1; seed <= 400; ++seed) {
        Ledger ledger(seed);
        for (int event = 0; event < 60 && !HasFailure(); ++event) {
            ledger.randomEvent();
            // The sets the engine keeps are exactly those it asked the caller to hold.
            std::set<SaSetId> kept;
            for (const auto& set : ledger.engine.saSets()) kept.insert(set.id);
            EXPECT_EQ(kept, ledger.sets) << "seed " << seed << ", event " << event;
            // At rest nothing is held but what the registration in force uses.
            auto state = ledger.engine.state();
            bool registered = state == RegistrationState::Registered;
            bool atRest = registered || state == RegistrationState::Unregistered ||
                          state == RegistrationState::Failed || state == RegistrationState::Backoff;
            if (atRest) {
                EXPECT_TRUE(ledger.offers.empty()) << "seed " << seed << ", event " << event;
                for (const auto& set : ledger.engine.saSets()) {
                    EXPECT_TRUE(registered && set.state != SaSetState::Temporary)
                        << "seed " << seed << ", event " << event << ": set " << set.id << " "
                        << toString(set.state) << " in " << toString(state);
                }
            }
        }
        ledger.perform(ledger.engine.close(at(1000000)));
        EXPECT_TRUE(ledger.errors.empty()) << "seed " << seed << ": " << ledger.errors.front();
        EXPECT_TRUE(ledger.offers.empty()) << "seed " << seed << ": an offer never released";
        EXPECT_TRUE(ledger.sets.empty()) << "seed " << seed << ": a set never removed";
        if (HasFailure()) break;
    }
}

}  // namespace
}  // namespace imsaka::daemon::test
