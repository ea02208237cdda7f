// Results of the actions that set up security: SPI reservation, AUTHENTICATE on the card
// and SA installation (24.229 5.1.1.5.1, TS 33.203 7.1).
#include "impl.h"

namespace imsaka::daemon {

Offer RegistrationEngine::Impl::makeOffer(const SecurityOffer& ports) const {
    sip::SecurityCapabilities capabilities;
    capabilities.integrity = config.integrity;
    capabilities.encryption = config.encryption;
    capabilities.spiC = ports.spiUc;
    capabilities.spiS = ports.spiUs;
    capabilities.portC = ports.portUc;
    capabilities.portS = ports.portUs;
    Offer offer{ports, {}, {}};
    try {
        // Kept in buildSecurityClient's order: Kamailio 5.6 takes the last mechanism.
        offer.client = sip::buildSecurityClient(capabilities);
        offer.clientText = sip::formatSecurityHeader(offer.client);
    } catch (const sip::SecAgreeError& error) {
        throw EngineError(EngineErrc::InvalidConfig,
                          std::string("cannot write Security-Client: ") + error.what());
    }
    return offer;
}

// What the kernel would refuse in the network's half of an SA set, found before the card
// runs (an AUTHENTICATE consumes a sequence number) and before anything is installed.
std::optional<std::string> RegistrationEngine::Impl::unusableServer(
    const sip::IpsecParameters& server, std::optional<SaSetId> replaced) const {
    // RFC 4303 2.1: SPIs 1-255 are reserved by IANA, 0 for local use.
    for (uint32_t spi : {server.spiC, server.spiS})
        if (spi < 256) return "SPI " + std::to_string(spi) + " is reserved (below 256)";
    // Both are inbound SAs at the P-CSCF's address, told apart by SPI alone.
    if (server.spiC == server.spiS) return "spi-c and spi-s are the same";
    // A set still in use with this P-CSCF holds these SPIs (its SAs A and D here, the
    // P-CSCF's inbound ones there): the kernel refuses a second SA under the same SPI. A
    // temporary set that a second challenge replaces goes before the new one comes.
    for (const auto& set : sets_) {
        if (set.view.pcscfAddress != pcscfAddress() || set.view.id == replaced) continue;
        for (uint32_t spi : {server.spiC, server.spiS})
            if (spi == set.view.theirs.spiC || spi == set.view.theirs.spiS)
                return "SPI " + std::to_string(spi) + " belongs to an SA set still in use";
    }
    return std::nullopt;
}

Actions RegistrationEngine::Impl::securityReserved(Time now, const SecurityOffer& ports) {
    requireOpen();
    if (awaiting_ == Awaiting::Reclaim) return reclaimDone(ports);
    if (awaiting_ != Awaiting::Reservation) throwWrongState("no SPI reservation was asked for");
    if (ports.portUc == 0 || ports.portUs == 0 || ports.spiUc == 0 || ports.spiUs == 0) {
        throw EngineError(EngineErrc::InvalidConfig, "a reserved port or SPI is zero");
    }
    Offer offer = makeOffer(ports);
    Actions out;
    awaiting_ = Awaiting::Nothing;
    offer_ = std::move(offer);
    const SaSet* established = findSet(established_);
    if (invalidChallengeAnswer_) {
        // The answer to a challenge the card found invalid, with its new offer.
        auto answer = std::move(*invalidChallengeAnswer_);
        invalidChallengeAnswer_.reset();
        setState(out, attemptState());
        sendRegister(now, out, purpose_ == Purpose::Initial ? nullptr : established, answer);
    } else if (purpose_ == Purpose::Initial) {
        sendInitial(now, out);
    } else {
        // Re-registration or deregistration: over the set in use, same Call-ID, the new
        // Security-Client.
        sendRegister(now, out, established, lastAuthorization_);
    }
    return out;
}

// The temporary set's ports and SPIs are reserved again: on to the card.
Actions RegistrationEngine::Impl::reclaimDone(const SecurityOffer& ports) {
    const auto& mine = reclaimed_->ports;
    if (ports.portUc != mine.portUc || ports.portUs != mine.portUs || ports.spiUc != mine.spiUc ||
        ports.spiUs != mine.spiUs) {
        throw EngineError(EngineErrc::InvalidConfig, "a reclaimed set came back with other ports");
    }
    Actions out;
    offer_ = std::move(*reclaimed_);
    reclaimed_.reset();
    awaiting_ = Awaiting::Authentication;
    out.push_back(action::Authenticate{challenge_->nonce.rand, challenge_->nonce.autn});
    return out;
}

Actions RegistrationEngine::Impl::securityUnavailable(Time now, std::string_view reason) {
    requireOpen();
    if (awaiting_ != Awaiting::Reservation && awaiting_ != Awaiting::Reclaim) {
        throwWrongState("no SPI reservation was asked for");
    }
    Actions out;
    const SaSet* established = findSet(established_);
    if (purpose_ == Purpose::Deregister && awaiting_ == Awaiting::Reservation &&
        !invalidChallengeAnswer_ && established) {
        // The de-REGISTER goes anyway, with the set's own offer: a challenge to it cannot be
        // answered with SAs, but the network learns that the registration ends.
        awaiting_ = Awaiting::Nothing;
        sendRegister(now, out, established, lastAuthorization_);
        return out;
    }
    failAttempt(now, out, "no SPIs or ports for a new SA set: " + std::string(reason),
                Failure::Other);
    return out;
}

Actions RegistrationEngine::Impl::authenticated(Time now, const sip::AkaResult& result) {
    requireOpen();
    if (awaiting_ != Awaiting::Authentication || !challenge_ || !offer_) {
        throwWrongState("no authentication was asked for");
    }
    Actions out;
    sip::DigestRequest request;
    request.username = config.impi;
    request.uri = "sip:" + config.homeDomain;
    request.cnonce = newToken();
    sip::DigestCredentials answer;
    try {
        answer = sip::answerAkaChallenge(challenge_->digest, request, result);
    } catch (const sip::DigestError& error) {
        failAttempt(now, out, std::string("cannot answer the challenge: ") + error.message(),
                    Failure::Other);
        return out;
    }

    const auto* success = std::get_if<sip::AkaSuccess>(&result);
    if (!success) {
        // 24.229 5.1.1.5.3 (MAC failure: empty response, no auts) and 5.1.1.5.4 (SQN
        // failure: auts): no SA set, and a Security-Client with "new parameter values" for
        // new SAs: the P-CSCF may hold SAs keyed for the rejected challenge under the old
        // ones. The Kamailio 5.6 profile repeats the offer instead (a pending contact keeps
        // its first one there).
        setError(std::holds_alternative<sip::AkaMacFailure>(result)
                     ? "the network failed authentication (MAC mismatch)"
                     : "the card asked for resynchronisation (SQN out of range)");
        awaiting_ = Awaiting::Nothing;
        challenge_.reset();
        if (!config.keepOfferAfterInvalidChallenge) {
            invalidChallengeAnswer_ = std::move(answer);
            releaseOffer(out);
            awaiting_ = Awaiting::Reservation;
            out.push_back(reservation());
            return out;
        }
        setState(out, attemptState());
        sendRegister(now, out, purpose_ == Purpose::Initial ? nullptr : findSet(established_),
                     answer);
        return out;
    }

    SaSet set;
    set.view.id = nextSetId_++;
    set.view.state = SaSetState::Temporary;
    set.view.ours = offer_->ports;
    set.view.theirs = challenge_->server;
    set.view.pcscfAddress = pcscfAddress();
    set.view.lifetime = config.timers.regAwaitAuth;
    set.offer = std::move(*offer_);
    set.securityVerify = challenge_->securityVerify;
    set.endsAt = now + config.timers.regAwaitAuth;
    offer_.reset();
    temporary_ = set.view.id;
    answer_ = std::move(answer);
    awaiting_ = Awaiting::Installation;
    out.push_back(action::InstallSaSet{set.view, secureCopy(success->ck), secureCopy(success->ik)});
    sets_.push_back(std::move(set));
    changed_ = true;
    return out;
}

Actions RegistrationEngine::Impl::authenticationFailed(Time now, std::string_view reason) {
    requireOpen();
    if (awaiting_ != Awaiting::Authentication) throwWrongState("no authentication was asked for");
    Actions out;
    failAttempt(now, out, "authentication failed: " + std::string(reason), Failure::Other);
    return out;
}

Actions RegistrationEngine::Impl::saSetInstalled(Time now, SaSetId id) {
    requireOpen();
    SaSet* set = findSet(id);
    if (awaiting_ != Awaiting::Installation || temporary_ != id || !set) {
        throwWrongState("no installation of this SA set was asked for");
    }
    Actions out;
    awaiting_ = Awaiting::Nothing;
    arm(out, TimerKind::RegAwaitAuth, now + config.timers.regAwaitAuth);
    setState(out, attemptState());
    sendRegister(now, out, set, answer_);
    return out;
}

Actions RegistrationEngine::Impl::saSetFailed(Time now, SaSetId id, std::string_view reason) {
    requireOpen();
    if (awaiting_ != Awaiting::Installation || temporary_ != id) {
        throwWrongState("no installation of this SA set was asked for");
    }
    Actions out;
    // failAttempt removes the temporary set: whatever part of it was installed goes too.
    failAttempt(now, out, "SA set could not be installed: " + std::string(reason), Failure::Other);
    return out;
}

}  // namespace imsaka::daemon
