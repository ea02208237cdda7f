// Final responses to our REGISTER: 200 (24.229 5.1.1.2.1, 5.1.1.5.1), 401 (5.1.1.5.1),
// 423, 305 and the failures. Each handler reads every header it needs before changing
// anything, so that a malformed response leaves the engine as it was.
#include <algorithm>

#include "impl.h"

namespace imsaka::daemon {
namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool sameName(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 3261 7.3.3 compact forms of the headers a REGISTER response may carry.
std::string_view compactForm(std::string_view name) {
    static constexpr std::pair<std::string_view, std::string_view> forms[] = {
        {"call-id", "i"}, {"contact", "m"}, {"from", "f"},
        {"to", "t"},      {"via", "v"},     {"supported", "k"}};
    for (auto [full, compact] : forms) {
        if (sameName(name, full)) return compact;
    }
    return {};
}

// CSeq: "1 REGISTER" -> "1".
std::string_view firstWord(std::string_view text) {
    size_t begin = std::min(text.size(), text.find_first_not_of(" \t"));
    text.remove_prefix(begin);
    return text.substr(0, text.find_first_of(" \t"));
}

std::optional<std::string_view> singleValue(const SipResponse& response, std::string_view name) {
    auto values = headerValues(response, name);
    if (values.empty()) return std::nullopt;
    if (values.size() > 1) throwMalformed(name, "present more than once");
    return values.front();
}

template <typename Parse>
auto parseHeader(std::string_view name, std::string_view value, Parse parse) {
    try {
        return parse(value);
    } catch (const HeaderError& error) {
        throwMalformed(name, error.what());
    }
}

std::vector<NameAddr> nameAddrs(const SipResponse& response, std::string_view name) {
    std::vector<NameAddr> all;
    for (auto value : headerValues(response, name)) {
        auto list = parseHeader(name, value, parseNameAddrList);
        all.insert(all.end(), std::make_move_iterator(list.begin()),
                   std::make_move_iterator(list.end()));
    }
    return all;
}

std::optional<uint32_t> retryAfter(const SipResponse& response) {
    auto value = singleValue(response, "Retry-After");
    if (!value) return std::nullopt;
    return parseHeader("Retry-After", *value, parseRetryAfter);
}

// 24.228 6.9.3 (403) and 24.229 5.1.1.4.1 (408, 500, 504 to a refresh).
Failure failureOf(uint16_t status) {
    switch (status) {
        case 403:
            return Failure::Forbidden;
        case 408:
        case 500:
        case 504:
            return Failure::Lost;
        default:
            return Failure::Other;
    }
}

std::string unquoteInstance(std::string_view text) {
    if (text.size() >= 2 && text.front() == '<' && text.back() == '>') {
        text = text.substr(1, text.size() - 2);
    }
    return std::string(text);
}

// RFC 5626 4.2.1 and 6: a registrar that took the flow as one says so with the "outbound"
// option tag in Require.
bool requiresOutbound(const SipResponse& response) {
    for (auto value : headerValues(response, "Require")) {
        while (!value.empty()) {
            auto comma = value.find(',');
            auto tag = value.substr(0, comma);
            auto begin = tag.find_first_not_of(" \t");
            auto end = tag.find_last_not_of(" \t");
            if (begin != std::string_view::npos &&
                sameName(tag.substr(begin, end - begin + 1), "outbound"))
                return true;
            if (comma == std::string_view::npos) break;
            value.remove_prefix(comma + 1);
        }
    }
    return false;
}

}  // namespace

std::vector<std::string_view> headerValues(const SipResponse& response, std::string_view name) {
    std::string_view compact = compactForm(name);
    std::vector<std::string_view> values;
    for (const auto& [key, value] : response.headers) {
        if (sameName(key, name) || (!compact.empty() && sameName(key, compact))) {
            values.push_back(value);
        }
    }
    return values;
}

Actions RegistrationEngine::Impl::response(Time now, const SipResponse& response) {
    requireOpen();
    if (!outstanding_) throwWrongState("a response arrived with no REGISTER outstanding");
    if (response.status < 100 || response.status > 699) {
        throwMalformed("status line",
                       "status " + std::to_string(response.status) + " out of range");
    }
    if (auto id = singleValue(response, "Call-ID"); id && *id != callId) {
        throwWrongState("a response to another Call-ID");
    }
    if (auto cseq = singleValue(response, "CSeq")) {
        auto number = parseHeader("CSeq", firstWord(*cseq), parseDeltaSeconds);
        if (number != cseq_) throwWrongState("a response to an earlier REGISTER (CSeq)");
    }
    Actions out;
    if (response.status < 200) return out;  // provisional: timer F keeps running
    silentPcscfs_ = 0;                      // this P-CSCF answers

    if (purpose_ == Purpose::Deregister && response.status != 401) {
        // 24.229 5.1.1.6: whatever the answer, the registration is given up.
        if (response.status >= 300) {
            setError("deregistration answered " + std::to_string(response.status));
        }
        finishDeregistration(out);
        return out;
    }
    if (response.status < 300) {
        onSuccess(now, out, response);
    } else if (response.status == 401) {
        onChallenge(now, out, response);
    } else if (response.status == 423) {
        onIntervalTooBrief(now, out, response);
    } else if (response.status == 305 && purpose_ == Purpose::Initial && !temporary_) {
        onUseProxy(now, out);
    } else {
        auto wait = retryAfter(response);
        failAttempt(now, out, "REGISTER answered " + std::to_string(response.status),
                    failureOf(response.status), wait);
    }
    return out;
}

void RegistrationEngine::Impl::onChallenge(Time now, Actions& out, const SipResponse& response) {
    // The offer this 401 challenges: the one waiting for a challenge or, for a 401 to the
    // REGISTER protected by the temporary set, the offer that set was made from.
    SaSet* temporary = findSet(temporary_);
    const Offer* offer = offer_ ? &*offer_ : temporary ? &temporary->offer : nullptr;
    if (!offer) {
        failAttempt(now, out, "a 401 to a REGISTER without a Security-Client", Failure::Other);
        return;
    }
    auto authenticate = headerValues(response, "WWW-Authenticate");
    sip::DigestChallenge digest;
    try {
        digest = sip::selectAkaChallenge(authenticate);
    } catch (const sip::DigestError& error) {
        failAttempt(now, out, std::string("401 without an AKA challenge: ") + error.message(),
                    Failure::Unusable);
        return;
    }
    sip::AkaNonce nonce;
    try {
        nonce = sip::decodeAkaNonce(digest.nonce);
    } catch (const sip::DigestError& error) {
        throwMalformed("WWW-Authenticate", std::string("nonce: ") + error.what());
    }
    // 24.229 5.1.1.5.1 3): no usable Security-Server means abandoning this attempt.
    auto serverValues = headerValues(response, "Security-Server");
    if (serverValues.empty()) {
        failAttempt(now, out, "401 without Security-Server", Failure::Unusable);
        return;
    }
    std::vector<sip::SecurityMechanism> server;
    std::string verify;
    try {
        server = sip::parseSecurityHeaders(serverValues);
        verify = sip::securityVerifyValue(server);
    } catch (const sip::SecAgreeError& error) {
        throwMalformed("Security-Server", error.what());
    }
    sip::SelectedMechanism selected;
    try {
        selected = sip::selectMechanism(offer->client, server);
    } catch (const sip::SecAgreeError& error) {
        failAttempt(now, out, std::string("Security-Server unusable: ") + error.message(),
                    Failure::Unusable);
        return;
    }
    if (auto why = unusableServer(selected.server,
                                  temporary ? std::optional(temporary->view.id) : std::nullopt)) {
        failAttempt(now, out, "Security-Server unusable: " + *why, Failure::Unusable);
        return;
    }

    cancel(out, TimerKind::TimerF);
    outstanding_ = false;
    challenge_ = Challenge{std::move(digest), selected.server, std::move(verify), nonce};
    if (temporary) {
        // 24.229 5.1.1.5.1: the answer repeats the challenged REGISTER's Security-Client, so
        // the new temporary set has this one's SPIs and ports on our side. This set, keyed
        // for a challenge the network dropped, goes first and hands its reservation on.
        cancel(out, TimerKind::RegAwaitAuth);
        SaSetId id = temporary->view.id;
        reclaimed_ = std::move(temporary->offer);
        std::erase_if(sets_, [&](const SaSet& set) { return set.view.id == id; });
        temporary_.reset();
        changed_ = true;
        out.push_back(action::ReclaimSecurity{id});
        awaiting_ = Awaiting::Reclaim;
        setState(out, RegistrationState::Authenticating);
        return;
    }
    awaiting_ = Awaiting::Authentication;
    setState(out, RegistrationState::Authenticating);
    out.push_back(action::Authenticate{nonce.rand, nonce.autn});
}

void RegistrationEngine::Impl::onSuccess(Time now, Actions& out, const SipResponse& response) {
    // Our Contact: the one with our URI, else the one with our instance and reg-id. Without
    // a reg-id the instance alone names no binding (they are keyed by URI, and an older one
    // of the same instance may be listed).
    auto contacts = nameAddrs(response, "Contact");
    std::string ourHostPort = sipUriHostPort(lastContact_);
    auto isOurInstance = [&](const NameAddr& contact) {
        auto instance = contact.parameter("+sip.instance");
        if (config.instanceId.empty() || !config.regId || !instance || !*instance) return false;
        if (unquoteInstance(**instance) != unquoteInstance(config.instanceId)) return false;
        auto regId = contact.parameter("reg-id");
        return regId && *regId == std::to_string(*config.regId);
    };
    auto ours = std::find_if(contacts.begin(), contacts.end(), [&](const NameAddr& contact) {
        return sipUriHostPort(contact.uri) == ourHostPort;
    });
    if (ours == contacts.end())
        ours = std::find_if(contacts.begin(), contacts.end(), isOurInstance);
    const NameAddr* contact = ours == contacts.end() ? nullptr : &*ours;

    // The lifetime: our Contact's expires, else Expires, else what we asked for.
    uint32_t expires = expires_;
    if (auto param = contact ? contact->parameter("expires") : std::nullopt; param && *param) {
        expires = parseHeader("Contact", **param, parseDeltaSeconds);
    } else if (auto header = singleValue(response, "Expires")) {
        expires = parseHeader("Expires", *header, parseDeltaSeconds);
    }
    std::vector<std::string> associated;
    for (auto& entry : nameAddrs(response, "P-Associated-URI")) associated.push_back(entry.uri);
    std::vector<std::string> routes;
    for (auto& entry : nameAddrs(response, "Service-Route")) routes.push_back(entry.uri);
    auto gruu = [&](std::string_view name) {
        auto value = contact ? contact->parameter(name) : std::nullopt;
        return value && *value ? **value : std::string();
    };

    if (!contact || expires == 0) {
        // 24.229 5.1.1.2.1 e): the Contact "that matches the one included in the REGISTER
        // request". Without it (or with it expiring now) our binding is not registered.
        failAttempt(now, out, "200 OK without our Contact", Failure::Lost);
        return;
    }

    auto answer = std::move(answer_);  // endTransaction forgets it
    endTransaction(out);
    const Seconds duration{expires};
    auto remaining = [&](const SaSet& set) {
        return std::max(Seconds(0), std::chrono::duration_cast<Seconds>(set.endsAt - now));
    };
    // The set's lifetime: the longer of the registration's plus 30 s and what remains of
    // the set it replaces or continues.
    auto extend = [&](SaSet& set, const SaSet* previous) {
        Seconds lifetime = duration + config.timers.saGrace;
        if (previous) lifetime = std::max(lifetime, remaining(*previous));
        set.view.lifetime = lifetime;
        set.endsAt = now + lifetime;
        out.push_back(action::SetSaLifetime{set.view.id, lifetime});
    };
    if (SaSet* fresh = findSet(temporary_)) {
        SaSet* old = findSet(established_);
        extend(*fresh, old);
        fresh->view.state = SaSetState::Established;
        if (old) {
            old->view.state = SaSetState::Retiring;
            out.push_back(action::WatchInbound{fresh->view.id});
        }
        established_ = temporary_;
        temporary_.reset();
        lastAuthorization_ = std::move(answer);
    } else if (SaSet* current = findSet(established_)) {
        extend(*current, current);
    }
    releaseOffer(out);  // a re-registration answered without a challenge keeps its set
    settleRetiringSets(now, out);

    registered_ = true;
    registeredContact_ = lastContact_;
    failedInitialAttempts_ = 0;
    failedRefreshes_ = 0;
    followsFailedReregistration_ = false;
    refusedRefresh_ = false;
    nextRefresh_ = RefreshReason::Expiry;
    info.expiresAt = now + duration;
    // 24.229 5.1.1.2.1 c): an identity the 200 OK does not list is barred.
    auto& barred = info.barredUris;
    std::erase(barred, config.impu);
    if (!associated.empty() &&
        std::find(associated.begin(), associated.end(), config.impu) == associated.end()) {
        barred.push_back(config.impu);
    }
    info.associatedUris = std::move(associated);
    info.serviceRoute = std::move(routes);
    info.publicGruu = gruu("pub-gruu");
    info.temporaryGruu = gruu("temp-gruu");
    info.outbound = config.regId && requiresOutbound(response);
    info.lastError.clear();
    changed_ = true;
    armRefresh(now, out, duration);
    setState(out, RegistrationState::Registered);
    // The feature tags changed while this REGISTER was outstanding: register them too.
    if (lastFeatureTags_ != normalizedTags(config.featureTags))
        out.push_back(action::RefreshDue{RefreshReason::Capabilities});
}

void RegistrationEngine::Impl::onIntervalTooBrief(Time now, Actions& out,
                                                  const SipResponse& response) {
    auto value = singleValue(response, "Min-Expires");
    if (!value) {
        failAttempt(now, out, "423 without Min-Expires", Failure::Other);
        return;
    }
    uint32_t minimum = parseHeader("Min-Expires", *value, parseDeltaSeconds);
    if (minimum <= expires_) {
        failAttempt(now, out, "423 with a Min-Expires not above what was asked", Failure::Other);
        return;
    }
    // A new attempt of the same kind, asking for at least Min-Expires; not a failure.
    endTransaction(out);
    expires_ = minimum;
    setState(out, attemptState());
    if (offer_ && !temporary_) {
        // The offer no SA set was made from is offered again. 24.229 5.1.1.2.1 asks only for
        // the new expiry, and SPIs that protect nothing are no one's (33.203 7.1); Kamailio
        // 5.6 also needs it: it keeps a pending contact's first offer for the SAs of its 401.
        if (purpose_ == Purpose::Initial) {
            sendInitial(now, out);
        } else {
            sendRegister(now, out, findSet(established_), lastAuthorization_);
        }
        return;
    }
    if (temporary_) removeSet(out, *temporary_);
    startAttempt(out, purpose_);
}

// 24.229 5.1.1.2.1: a 305 to the unprotected REGISTER sends us to another P-CSCF.
void RegistrationEngine::Impl::onUseProxy(Time now, Actions& out) {
    if (pcscfIndex_ + 1 >= config.pcscfs.size()) {
        endTransaction(out);
        releaseOffer(out);
        setError("305 (Use Proxy) and no other P-CSCF to try");
        setState(out, RegistrationState::Failed);
        return;
    }
    (void)now;
    endTransaction(out);
    ++pcscfIndex_;
    failedInitialAttempts_ = 0;  // the back-off counts attempts per P-CSCF
    startAttempt(out, Purpose::Initial);
}

}  // namespace imsaka::daemon
