// The REGISTER requests of 24.229 5.1.1.2.1 (unprotected), 5.1.1.5.1 (protected, answering
// a 401), 5.1.1.4.1 (re-registration) and 5.1.1.6 (deregistration).
#include "impl.h"

namespace imsaka::daemon {
namespace {

std::string hostPort(const std::string& address, uint16_t port) {
    bool ipv6 = address.find(':') != std::string::npos && address.front() != '[';
    return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

}  // namespace

size_t requestSize(const OutgoingRegister& request) {
    size_t size = std::string_view("REGISTER  SIP/2.0\r\n").size() + request.requestUri.size();
    for (const auto& [name, value] : request.headers) size += name.size() + value.size() + 4;
    return size + kApplicationAllowance;
}

std::string RegistrationEngine::Impl::contactUri(uint16_t port) const {
    return "sip:" + hostPort(config.localAddress, port);
}

// The Authorization of a REGISTER sent before any challenge (24.229 5.1.1.2.1, and what
// lets the P-CSCF and S-CSCF find the private identity): empty nonce and response.
sip::DigestCredentials RegistrationEngine::Impl::emptyAuthorization() const {
    sip::DigestCredentials credentials;
    credentials.username = config.impi;
    credentials.realm = config.homeDomain;
    credentials.uri = "sip:" + config.homeDomain;
    return credentials;
}

// A new initial attempt: new Call-ID, From tag and CSeq, no SA set.
void RegistrationEngine::Impl::sendInitial(Time now, Actions& out) {
    callId = newToken();
    fromTag_ = newToken();
    cseq_ = 0;
    lastAuthorization_.reset();
    sendRegister(now, out, nullptr, emptyAuthorization());
}

// over: the SA set protecting the request, or nothing for an unprotected one.
void RegistrationEngine::Impl::sendRegister(
    Time now, Actions& out, const SaSet* over,
    const std::optional<sip::DigestCredentials>& authorization) {
    const uint32_t expires = purpose_ == Purpose::Deregister ? 0 : expires_;
    OutgoingRegister request;
    request.requestUri = "sip:" + config.homeDomain;
    request.transport = config.transport;
    request.localAddress = config.localAddress;

    uint16_t viaPort = 0;
    std::string contactUriText;
    if (over) {
        // Protected: sent from port_uc to port_ps; responses and requests from the P-CSCF
        // come to port_us, so Via and Contact carry it, and Via has no rport.
        viaPort = over->view.ours.portUs;
        contactUriText = contactUri(over->view.ours.portUs);
        request.localPort = over->view.ours.portUc;
        request.remoteAddress = over->view.pcscfAddress;
        request.remotePort = over->view.theirs.portS;
        request.protectedBySa = true;
    } else {
        // Unprotected: sent from the unprotected port, where the UDP response comes back
        // (RFC 3261 18.2.2 with rport). Kamailio 5.6's P-CSCF also treats a REGISTER as
        // initial only when the Via sent-by port is 5060, hence the separate port. The
        // Contact already names port_us, the port the SAs will protect; a registration the
        // network accepted without SAs keeps the binding it registered.
        viaPort = config.unprotectedPort;
        contactUriText = registered_ && !registeredContact_.empty()
                             ? registeredContact_
                             : contactUri(offer_ ? offer_->ports.portUs : config.unprotectedPort);
        request.localPort = config.unprotectedPort;
        request.remoteAddress = config.pcscfs[pcscfIndex_].address;
        request.remotePort = config.pcscfs[pcscfIndex_].port;
    }

    auto& headers = request.headers;
    std::string via = "SIP/2.0/" + std::string(config.transport == Transport::Tcp ? "TCP" : "UDP") +
                      " " + hostPort(config.localAddress, viaPort);
    if (!over) via += ";rport";
    headers.emplace_back("Via", via);
    headers.emplace_back("From", "<" + config.impu + ">;tag=" + fromTag_);
    headers.emplace_back("To", "<" + config.impu + ">");
    headers.emplace_back("Call-ID", callId);
    headers.emplace_back("CSeq", std::to_string(++cseq_) + " REGISTER");

    // Deregistration removes the binding that was registered (RFC 3261 10.2.2).
    if (purpose_ == Purpose::Deregister && !registeredContact_.empty()) {
        contactUriText = registeredContact_;
    }
    std::string contact = "<" + contactUriText + ">";
    if (!config.instanceId.empty()) contact += ";+sip.instance=\"" + config.instanceId + "\"";
    if (config.regId) contact += ";reg-id=" + std::to_string(*config.regId);
    for (const auto& tag : config.featureTags) contact += ";" + tag;
    contact += ";expires=" + std::to_string(expires);
    headers.emplace_back("Contact", contact);
    headers.emplace_back("Expires", std::to_string(expires));
    if (purpose_ != Purpose::Deregister) lastContact_ = contactUriText;
    lastFeatureTags_ = normalizedTags(config.featureTags);

    headers.emplace_back("Authorization",
                         sip::formatAuthorization(authorization.value_or(emptyAuthorization())));
    // The offer waiting for a challenge; else the one that created the set in use.
    const Offer* client = offer_ ? &*offer_ : over ? &over->offer : nullptr;
    if (client) headers.emplace_back("Security-Client", client->clientText);
    if (over) headers.emplace_back("Security-Verify", over->securityVerify);
    // Only a request taking part in the agreement asks for it (RFC 3329 2.3.1): not the
    // deregistration of a registration the network accepted without SAs.
    if (client) {
        headers.emplace_back("Require", "sec-agree");
        headers.emplace_back("Proxy-Require", "sec-agree");
    }
    std::string supported = config.regId ? "path, gruu, outbound" : "path, gruu";
    // 24.229 5.1.1.2.2: with a Security-Client, "sec-agree" in Supported too.
    if (client) supported += ", sec-agree";
    headers.emplace_back("Supported", supported);
    // 24.229 5.1.1.2.1 h): P-Access-Network-Info once a security association exists, that is
    // on the REGISTERs it protects.
    for (const auto& [name, value] : config.extraHeaders)
        if (over || !isAccessNetworkInfo(name)) headers.emplace_back(name, value);

    // RFC 3261 18.1.1: "If a request is within 200 bytes of the path MTU, or if it is larger
    // than 1300 bytes and the path MTU is unknown, the request MUST be sent using an RFC 2914
    // congestion controlled transport protocol, such as TCP. If this causes a change in the
    // transport protocol from the one indicated in the top Via, the value in the top Via
    // MUST be changed." TS 24.229 4.2A holds the UE to it (1300 bytes, whatever MTU it
    // knows). A protected REGISTER fragmented inside ESP is what operators' firewalls drop.
    if (request.transport == Transport::Udp && requestSize(request) > config.maxUdpSize) {
        request.transport = Transport::Tcp;
        headers.front().second.replace(0, std::string_view("SIP/2.0/UDP").size(), "SIP/2.0/TCP");
    }
    out.push_back(action::Send{std::move(request)});
    arm(out, TimerKind::TimerF, now + config.timers.timerF);
    outstanding_ = true;
}

}  // namespace imsaka::daemon
