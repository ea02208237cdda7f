#include "imsaka/testing/ims_network.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

namespace imsaka::testing {
namespace {

bool sameName(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// RFC 3261 7.3.3 compact forms of the headers a REGISTER exchange uses: the other form of
// a name (compact for full, full for compact), or nothing.
std::string_view otherForm(std::string_view name) {
    static const std::pair<std::string_view, std::string_view> forms[] = {
        {"call-id", "i"}, {"contact", "m"},   {"from", "f"},          {"to", "t"},
        {"via", "v"},     {"supported", "k"}, {"content-length", "l"}};
    for (const auto& [full, compact] : forms) {
        if (sameName(name, full)) return compact;
        if (sameName(name, compact)) return full;
    }
    return {};
}

std::string randomTag() {
    uint8_t bytes[6];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw ImsNetworkError("RAND_bytes failed");
    return toHex(ByteView(bytes, sizeof bytes));
}

std::string required(const SipHeaders& headers, std::string_view name) {
    auto value = headerValue(headers, name);
    if (!value) throw ImsNetworkError("the request has no " + std::string(name));
    return *value;
}

sip::SecurityMechanism serverMechanism(const ImsNetworkOptions& options) {
    auto parameter = [](std::string name, std::string value) {
        return sip::MechanismParameter{std::move(name), std::move(value), false};
    };
    sip::SecurityMechanism mechanism;
    mechanism.name = "ipsec-3gpp";
    mechanism.parameters = {parameter("q", "0.1"),
                            parameter("alg", std::string(sip::toString(options.integrity))),
                            parameter("ealg", std::string(sip::toString(options.encryption))),
                            parameter("spi-c", std::to_string(options.spiC)),
                            parameter("spi-s", std::to_string(options.spiS)),
                            parameter("port-c", std::to_string(options.portC)),
                            parameter("port-s", std::to_string(options.portS)),
                            parameter("prot", "esp"),
                            parameter("mod", "trans")};
    return mechanism;
}

}  // namespace

std::vector<std::string> headerValues(const SipHeaders& headers, std::string_view name) {
    std::string_view other = otherForm(name);
    std::vector<std::string> values;
    for (const auto& [headerName, value] : headers)
        if (sameName(headerName, name) || (!other.empty() && sameName(headerName, other)))
            values.push_back(value);
    return values;
}

std::optional<std::string> headerValue(const SipHeaders& headers, std::string_view name) {
    auto values = headerValues(headers, name);
    if (values.empty()) return std::nullopt;
    return values.front();
}

ImsNetwork::ImsNetwork(ImsNetworkOptions options)
    : options_(std::move(options)), centre_(options_.k, options_.opc, options_.amf) {}

const Challenge& ImsNetwork::challenge(const SipHeaders& request) {
    Challenge next;
    next.securityClient = required(request, "Security-Client");
    auto offered = sip::parseSecurityHeader(next.securityClient);
    auto chosen = std::find_if(offered.begin(), offered.end(), [&](const auto& mechanism) {
        if (!mechanism.isIpsec3gpp()) return false;
        auto parameters = sip::ipsecParameters(mechanism);
        return parameters.alg == options_.integrity && parameters.ealg == options_.encryption;
    });
    if (chosen == offered.end())
        throw ImsNetworkError("the Security-Client does not offer " +
                              std::string(sip::toString(options_.integrity)) + " with " +
                              std::string(sip::toString(options_.encryption)) + ": " +
                              next.securityClient);
    next.ue = sip::ipsecParameters(*chosen);
    auto mechanism = serverMechanism(options_);
    next.pcscf = sip::ipsecParameters(mechanism);
    next.securityServer = sip::formatSecurityHeader(std::span(&mechanism, 1));

    static_cast<IssuedVector&>(next) = centre_.issue(options_.sqn);
    options_.sqn += 32;  // next SEQ, same IND

    sip::DigestChallenge digest;
    digest.realm = options_.realm;
    digest.nonce = next.nonce;
    digest.algorithm = sip::DigestAlgorithm::AkaV1Md5;
    digest.algorithmText = "AKAv1-MD5";
    digest.qop = {"auth"};
    next.headers = response(request);
    next.headers.emplace_back("WWW-Authenticate", sip::formatWwwAuthenticate(digest));
    next.headers.emplace_back("Security-Server", next.securityServer);
    last_ = std::move(next);
    return *last_;
}

const Challenge& ImsNetwork::lastChallenge() const {
    if (!last_) throw ImsNetworkError("no challenge was sent");
    return *last_;
}

AuthorizationCheck ImsNetwork::checkAuthorization(const SipHeaders& request,
                                                  std::string_view requestUri) const {
    const Challenge& challenge = lastChallenge();
    AuthorizationCheck check;
    check.credentials = sip::parseAuthorization(required(request, "Authorization"));
    const auto& credentials = check.credentials;
    if (credentials.nonce != challenge.nonce)
        throw ImsNetworkError("Authorization answers another nonce: " + credentials.nonce);
    if (credentials.realm != options_.realm)
        throw ImsNetworkError("Authorization names another realm: " + credentials.realm);
    if (credentials.uri != requestUri)
        throw ImsNetworkError("Authorization uri " + credentials.uri + " is not the Request-URI " +
                              std::string(requestUri));
    check.securityVerifyMatches =
        headerValue(request, "Security-Verify") == std::optional(challenge.securityServer);
    check.securityClientMatches =
        headerValue(request, "Security-Client") == std::optional(challenge.securityClient);

    auto verdict =
        centre_.verify(challenge, credentials, sip::DigestAlgorithm::AkaV1Md5, "REGISTER");
    check.kind = verdict.kind;
    check.expectedResponse = std::move(verdict.expectedResponse);
    check.sqnMs = verdict.sqnMs;
    return check;
}

void ImsNetwork::resynchronise(uint64_t sqnMs) {
    options_.sqn = sqnMs + 32;
}

SipHeaders ImsNetwork::ok(const SipHeaders& request, uint32_t expires,
                          const std::vector<std::string>& associatedUris,
                          const std::vector<std::string>& serviceRoute) const {
    SipHeaders headers = response(request);
    for (auto contact : headerValues(request, "Contact")) {
        // The registrar's expires replaces the one the UE asked for.
        if (auto at = contact.find(";expires="); at != std::string::npos)
            contact.erase(at, contact.find(';', at + 1) - at);
        headers.emplace_back("Contact", contact + ";expires=" + std::to_string(expires));
    }
    for (const auto& uri : associatedUris)
        headers.emplace_back("P-Associated-URI", "<" + uri + ">");
    for (const auto& route : serviceRoute) headers.emplace_back("Service-Route", "<" + route + ">");
    return headers;
}

SipHeaders ImsNetwork::response(const SipHeaders& request) const {
    SipHeaders headers;
    for (const auto& via : headerValues(request, "Via")) headers.emplace_back("Via", via);
    headers.emplace_back("From", required(request, "From"));
    std::string to = required(request, "To");
    if (to.find(";tag=") == std::string::npos) to += ";tag=" + randomTag();
    headers.emplace_back("To", to);
    headers.emplace_back("Call-ID", required(request, "Call-ID"));
    headers.emplace_back("CSeq", required(request, "CSeq"));
    return headers;
}

}  // namespace imsaka::testing
