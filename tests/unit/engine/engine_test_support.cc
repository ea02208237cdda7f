#include "engine_test_support.h"

namespace imsaka::daemon::test {
namespace {

std::string timerName(TimerKind kind) {
    switch (kind) {
        case TimerKind::TimerF:
            return "timer-f";
        case TimerKind::RegAwaitAuth:
            return "reg-await-auth";
        case TimerKind::Refresh:
            return "refresh";
        case TimerKind::Backoff:
            return "backoff";
        case TimerKind::Retire:
            return "retire";
    }
    return "?";
}

struct Describer {
    std::string operator()(const action::ReserveSecurity& a) const {
        if (!a.serverPort) return "ReserveSecurity";
        return "ReserveSecurity(" + std::to_string(*a.serverPort) + ")";
    }
    std::string operator()(const action::ReleaseSecurity& a) const {
        return "ReleaseSecurity(" + std::to_string(a.offer.portUc) + ")";
    }
    std::string operator()(const action::ReclaimSecurity& a) const {
        return "ReclaimSecurity(" + std::to_string(a.id) + ")";
    }
    std::string operator()(const action::Authenticate&) const { return "Authenticate"; }
    std::string operator()(const action::InstallSaSet& a) const {
        return "InstallSaSet(" + std::to_string(a.set.id) + ")";
    }
    std::string operator()(const action::SetSaLifetime& a) const {
        return "SetSaLifetime(" + std::to_string(a.id) + "," + std::to_string(a.lifetime.count()) +
               ")";
    }
    std::string operator()(const action::RemoveSaSet& a) const {
        return "RemoveSaSet(" + std::to_string(a.id) + ")";
    }
    std::string operator()(const action::WatchInbound& a) const {
        return "WatchInbound(" + std::to_string(a.id) + ")";
    }
    std::string operator()(const action::Send&) const { return "Send"; }
    std::string operator()(const action::ArmTimer& a) const {
        auto seconds = std::chrono::duration_cast<Seconds>(a.at - at(0)).count();
        return "ArmTimer(" + timerName(a.kind) + "@" + std::to_string(seconds) + ")";
    }
    std::string operator()(const action::CancelTimer& a) const {
        return "CancelTimer(" + timerName(a.kind) + ")";
    }
    std::string operator()(const action::RefreshDue& a) const {
        return "RefreshDue(" + std::string(toString(a.reason)) + ")";
    }
    std::string operator()(const action::StateChanged& a) const {
        return "StateChanged(" + std::string(toString(a.state)) + ")";
    }
    std::string operator()(const action::InfoChanged&) const { return "InfoChanged"; }
};

}  // namespace

RegistrationConfig testConfig(std::string localAddress, std::optional<uint32_t> regId,
                              std::string tokenPrefix) {
    RegistrationConfig config;
    config.impi = kImpi;
    config.impu = kImpu;
    config.homeDomain = "home1.net";
    config.instanceId = kInstance;
    config.regId = regId;
    config.localAddress = std::move(localAddress);
    config.pcscfs = {{"10.0.0.1", 5060}, {"10.0.0.9", 5060}};
    config.expires = 600000;
    auto counter = std::make_shared<int>(0);
    config.newToken = [counter, tokenPrefix] { return tokenPrefix + std::to_string(++*counter); };
    config.jitter = [] { return 1.0; };  // pacing waits their whole length
    return config;
}

std::vector<std::string> describe(const Actions& actions) {
    std::vector<std::string> out;
    for (const auto& action : actions) out.push_back(std::visit(Describer{}, action));
    return out;
}

std::vector<std::string> headers(const OutgoingRegister& request, std::string_view name) {
    std::vector<std::string> values;
    for (const auto& [key, value] : request.headers) {
        if (key == name) values.push_back(value);
    }
    return values;
}

std::string header(const OutgoingRegister& request, std::string_view name) {
    auto values = headers(request, name);
    EXPECT_EQ(values.size(), 1u) << "header " << name;
    return values.empty() ? std::string() : values.front();
}

Network::Network() : card_(*fromHex("000102030405060708090a0b0c0d0e0f")) {}

milenage::AuthVector Network::nextVector() {
    sqn_ += 32;
    Bytes rand(16);
    for (size_t i = 0; i < rand.size(); ++i) rand[i] = static_cast<uint8_t>(sqn_ + i * 7);
    return milenage::generateVector(card_, milenage::sqnFromInt(sqn_), Bytes{0x80, 0x00},
                                    ByteView(rand));
}

std::string Network::securityServer(std::string_view alg, std::string_view ealg) const {
    return "ipsec-3gpp;q=0.1;alg=" + std::string(alg) + ";ealg=" + std::string(ealg) +
           ";spi-c=" + std::to_string(spiPc) + ";spi-s=" + std::to_string(spiPs) +
           ";port-c=" + std::to_string(portPc) + ";port-s=" + std::to_string(portPs) +
           ";prot=esp;mod=trans";
}

std::string Network::wwwAuthenticate(const milenage::AuthVector& vector) const {
    sip::AkaNonce nonce{};
    std::copy(vector.rand.begin(), vector.rand.end(), nonce.rand.begin());
    std::copy(vector.autn.begin(), vector.autn.end(), nonce.autn.begin());
    nonce.serverData = {0xde, 0xad};
    return "Digest realm=\"home1.net\", nonce=\"" + sip::encodeAkaNonce(nonce) +
           "\", algorithm=AKAv1-MD5, qop=\"auth\"";
}

SipResponse Network::answer(uint16_t status, const OutgoingRegister& request,
                            std::vector<Header> extra) {
    SipResponse response;
    response.status = status;
    response.headers.emplace_back("Call-ID", header(request, "Call-ID"));
    response.headers.emplace_back("CSeq", header(request, "CSeq"));
    for (auto& entry : extra) response.headers.push_back(std::move(entry));
    return response;
}

SipResponse Network::challenge(const OutgoingRegister& request, const milenage::AuthVector& vector,
                               std::vector<Header> extra) const {
    std::vector<Header> headers{{"WWW-Authenticate", wwwAuthenticate(vector)},
                                {"Security-Server", securityServer()}};
    for (auto& entry : extra) headers.push_back(std::move(entry));
    return answer(401, request, std::move(headers));
}

SipResponse Network::ok(const OutgoingRegister& request, uint32_t expires) const {
    std::string contact = header(request, "Contact");
    contact = contact.substr(0, contact.find(";expires=")) + ";expires=" + std::to_string(expires) +
              ";pub-gruu=\"sip:user1_public1@home1.net;gr=urn:gsma:imei:35209900-176148-1\"" +
              ";temp-gruu=\"sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@home1.net;gr\"";
    return answer(200, request,
                  {{"Contact", contact},
                   {"P-Associated-URI", "<sip:user1_public1@home1.net>, <tel:+358504821437>"},
                   {"Service-Route", "<sip:orig@scscf1.home1.net;lr>"},
                   {"Expires", std::to_string(expires + 1)}});
}

sip::AkaSuccess Network::success(const milenage::AuthVector& vector) {
    return sip::AkaSuccess{vector.xres, vector.ck, vector.ik};
}

OutgoingRegister sent(const Actions& actions) {
    auto sends = all<action::Send>(actions);
    EXPECT_EQ(sends.size(), 1u) << "expected one Send";
    return sends.empty() ? OutgoingRegister{} : sends.front().request;
}

OutgoingRegister startInitial(RegistrationEngine& engine, Time now, const SecurityOffer& offer) {
    engine.registerNow(now);
    return sent(engine.securityReserved(now, offer));
}

OutgoingRegister answerWithSuccess(RegistrationEngine& engine, Time now,
                                   const milenage::AuthVector& vector) {
    auto install = one<action::InstallSaSet>(engine.authenticated(now, Network::success(vector)));
    return sent(engine.saSetInstalled(now, install.set.id));
}

OutgoingRegister authenticateInitial(RegistrationEngine& engine, Network& network, Time now,
                                     const SecurityOffer& offer) {
    auto initial = startInitial(engine, now, offer);
    auto vector = network.nextVector();
    engine.response(now, network.challenge(initial, vector));
    return answerWithSuccess(engine, now, vector);
}

OutgoingRegister registerFully(RegistrationEngine& engine, Network& network, Time now,
                               uint32_t expires, const SecurityOffer& offer) {
    auto protectedRegister = authenticateInitial(engine, network, now, offer);
    engine.response(now, network.ok(protectedRegister, expires));
    EXPECT_EQ(engine.state(), RegistrationState::Registered);
    return protectedRegister;
}

EngineErrc errorOf(const std::function<void()>& call) {
    try {
        call();
    } catch (const EngineError& error) {
        return error.code();
    }
    ADD_FAILURE() << "expected an EngineError";
    return EngineErrc::InvalidConfig;
}

std::string expectedResponse(const OutgoingRegister& request, const sip::DigestCredentials& sent,
                             ByteView password) {
    // DigestInput holds views: keep the optional fields alive here.
    const std::string qop = sent.qop.value_or("");
    const std::string nc = sent.nc.value_or("");
    const std::string cnonce = sent.cnonce.value_or("");
    sip::DigestInput input;
    input.username = kImpi;
    input.realm = "home1.net";
    input.password = password;
    input.method = "REGISTER";
    input.uri = request.requestUri;
    input.nonce = sent.nonce;
    input.qop = qop;
    input.nc = nc;
    input.cnonce = cnonce;
    return sip::digestResponse(input);
}

}  // namespace imsaka::daemon::test
