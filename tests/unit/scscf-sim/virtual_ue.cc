#include "virtual_ue.h"

#include <algorithm>

namespace imsaka::scscfsim::test {
namespace {

const std::string kIsimAid = "a0000000871004ff49ff0289000000ff";

SecureBytes transmitHex(vicc::Card& card, const std::string& hex) {
    auto bytes = fromHex(hex);
    if (!bytes) throw std::runtime_error("bad APDU hex in test: " + hex);
    return card.transmit(*bytes);
}

}  // namespace

VirtualUe::VirtualUe(std::string contactUri, std::string impu, std::string callId)
    : profile_(vicc::loadProfile(IMSAKA_VICC_PROFILES "/default.ini")),
      card_(std::make_unique<vicc::Card>(profile_)),
      contactUri_(std::move(contactUri)),
      impu_(std::move(impu)),
      callId_(std::move(callId)) {
    card_->powerOn();
    auto selected = transmitHex(*card_, "00a4040c10" + kIsimAid);
    if (toHex(selected) != "9000") throw std::runtime_error("the virtual card has no ISIM");
}

std::string VirtualUe::registerText(const RegisterRequest& request) const {
    std::string cseq = std::to_string(request.cseq);
    std::string branch = request.branch.empty() ? "z9hG4bKpcscf" + cseq : request.branch;
    std::string authorization;
    if (request.credentials) {
        authorization = sip::formatAuthorization(*request.credentials);
    } else {
        authorization = "Digest username=\"" + kImpi + "\", realm=\"" + kRealm +
                        "\", nonce=\"\", uri=\"sip:" + kRealm + "\", response=\"\"";
    }
    if (!request.integrity.empty())
        authorization += ", integrity-protected=\"" + request.integrity + "\"";
    std::string contact = "<" + contactUri_ + ">";
    if (request.expires) contact += ";expires=" + std::to_string(*request.expires);
    contact += ";+sip.instance=\"<urn:gsma:imei:35209900-176148-1>\";+g.3gpp.icsi-ref=\"x\"";
    return "REGISTER sip:" + kRealm +
           " SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.46.0.2;branch=" +
           branch +
           "\r\n"
           "Via: SIP/2.0/UDP 10.46.0.1:5100;received=10.46.0.1;rport=5100;branch=z9hG4bKue" +
           cseq +
           "\r\n"
           "Max-Forwards: 69\r\n"
           "From: <" +
           impu_ +
           ">;tag=ue1\r\n"
           "To: <" +
           impu_ +
           ">\r\n"
           "Call-ID: " +
           callId_ +
           "\r\n"
           "CSeq: " +
           cseq +
           " REGISTER\r\n"
           "Contact: " +
           contact +
           "\r\n"
           "Expires: " +
           std::to_string(request.expires.value_or(600)) +
           "\r\n"
           "Supported: path, sec-agree\r\n"
           "Authorization: " +
           authorization +
           "\r\n"
           "Require: path\r\n"
           "Path: " +
           kPath +
           "\r\n"
           "P-Visited-Network-ID: ims.test\r\n"
           "Content-Length: 0\r\n\r\n";
}

std::string VirtualUe::subscribeText(uint32_t cseq, uint32_t expires) const {
    std::string number = std::to_string(cseq);
    return "SUBSCRIBE " + impu_ +
           " SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.46.0.2;branch=z9hG4bKsub" +
           number +
           "\r\n"
           "Via: SIP/2.0/UDP 10.46.0.1:5100;rport=5100;branch=z9hG4bKuesub" +
           number +
           "\r\n"
           "Max-Forwards: 69\r\n"
           "Route: <sip:orig@127.0.0.1:6060;lr>\r\n"
           "From: <" +
           impu_ +
           ">;tag=sub1\r\n"
           "To: <" +
           impu_ +
           ">\r\n"
           "Call-ID: sub1@10.46.0.1\r\n"
           "CSeq: " +
           number +
           " SUBSCRIBE\r\n"
           "Contact: <" +
           contactUri_ +
           ">\r\n"
           "Event: reg\r\n"
           "Expires: " +
           std::to_string(expires) +
           "\r\n"
           "Accept: application/reginfo+xml\r\n"
           "Content-Length: 0\r\n\r\n";
}

std::string VirtualUe::okTo(const SipMessage& request) {
    std::string text = "SIP/2.0 200 OK\r\n";
    for (const auto& via : request.vias()) text += "Via: " + via + "\r\n";
    text += "From: " + request.from() + "\r\nTo: " + request.to() + ";tag=ue9\r\n";
    text += "Call-ID: " + request.callId() + "\r\nCSeq: " + request.cseq() + "\r\n";
    return text + "Content-Length: 0\r\n\r\n";
}

sip::AkaResult VirtualUe::authenticate(const sip::DigestChallenge& challenge) {
    auto nonce = sip::decodeAkaNonce(challenge.nonce);
    std::string apdu = "008800812210" + toHex(nonce.rand) + "10" + toHex(nonce.autn) + "00";
    SecureBytes answer = transmitHex(*card_, apdu);
    std::string sw = toHex(ByteView(answer).last(2));
    if (sw == "9862") return sip::AkaMacFailure{};
    if (sw != "9000" || answer.size() < 4) throw std::runtime_error("card answered " + sw);
    if (answer[0] == 0xdc) {
        return sip::AkaSyncFailure{Bytes(answer.begin() + 2, answer.begin() + 2 + answer[1])};
    }
    // DB, then RES, CK and IK each with its length.
    sip::AkaSuccess success;
    size_t at = 1;
    for (SecureBytes* field : {&success.res, &success.ck, &success.ik}) {
        size_t length = answer.at(at);
        field->assign(answer.begin() + static_cast<long>(at + 1),
                      answer.begin() + static_cast<long>(at + 1 + length));
        at += 1 + length;
    }
    return success;
}

sip::DigestCredentials VirtualUe::answer(const SipMessage& unauthorized) {
    auto challenge = challengeOf(unauthorized);
    last_ = authenticate(challenge);
    sip::DigestRequest request;
    request.username = kImpi;
    request.uri = "sip:" + kRealm;
    request.cnonce = "0a4f113b";
    return sip::answerAkaChallenge(challenge, request, *last_);
}

sip::AkaResult VirtualUe::lastResult() const {
    if (!last_) throw std::runtime_error("no AUTHENTICATE yet");
    return *last_;
}

sip::DigestChallenge challengeOf(const SipMessage& unauthorized) {
    auto header = unauthorized.rawHeader("WWW-Authenticate");
    if (!header) throw std::runtime_error("the response has no WWW-Authenticate");
    return sip::parseWwwAuthenticate(*header);
}

bool EventLog::has(const std::string& line) const {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

std::vector<std::string> EventLog::starting(const std::string& word) const {
    std::vector<std::string> out;
    for (const auto& line : lines)
        if (line == word || line.rfind(word + " ", 0) == 0) out.push_back(line);
    return out;
}

SipMessage only(const std::vector<Datagram>& datagrams) {
    if (datagrams.size() != 1)
        throw std::runtime_error("expected one datagram, got " + std::to_string(datagrams.size()));
    return SipMessage::parse(datagrams.front().text);
}

}  // namespace imsaka::scscfsim::test
