#include "imsaka/cardio/codec.h"

#include <arpa/inet.h>

#include <algorithm>

#include "imsaka/cardio/error.h"

namespace imsaka::cardio {

std::string_view toString(AppType type) {
    switch (type) {
        case AppType::Isim:
            return "isim";
        case AppType::Usim:
            return "usim";
        case AppType::Other:
            return "other";
    }
    return "other";
}

std::string_view toString(PcscfAddress::Kind kind) {
    switch (kind) {
        case PcscfAddress::Kind::Fqdn:
            return "fqdn";
        case PcscfAddress::Kind::Ipv4:
            return "ipv4";
        case PcscfAddress::Kind::Ipv6:
            return "ipv6";
    }
    return "fqdn";
}

namespace {

[[noreturn]] void malformed(std::string_view what, const std::string& detail) {
    throw CardError(CardErrc::MalformedResponse, std::string(what), detail);
}

bool allPadding(ByteView data) {
    return std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0xFF; });
}

}  // namespace

std::vector<Tlv> parseTlvs(ByteView data, std::string_view what) {
    std::vector<Tlv> tlvs;
    size_t pos = 0;
    while (pos < data.size() && data[pos] != 0xFF) {
        uint8_t tag = data[pos++];
        if (pos >= data.size()) malformed(what, "tag without length at " + std::to_string(pos));
        size_t length = data[pos++];
        if (length == 0x81 || length == 0x82) {
            size_t lengthBytes = length - 0x80;
            if (data.size() - pos < lengthBytes)
                malformed(what, "truncated length at " + std::to_string(pos));
            length = 0;
            for (size_t i = 0; i < lengthBytes; ++i) length = length << 8 | data[pos++];
        } else if (length > 0x7F) {
            malformed(what, "unsupported length form at " + std::to_string(pos - 1));
        }
        if (data.size() - pos < length)
            malformed(what, "value of tag " + std::to_string(tag) + " runs past the end");
        tlvs.push_back({tag, data.subspan(pos, length)});
        pos += length;
    }
    return tlvs;
}

std::optional<ByteView> findTlv(const std::vector<Tlv>& tlvs, uint8_t tag) {
    for (const auto& tlv : tlvs)
        if (tlv.tag == tag) return tlv.value;
    return std::nullopt;
}

namespace {

// The PIN status template (TS 102 221 9.5.2): a PS_DO bitmap (tag 90) whose bits, from the
// most significant, tell which of the key references (tag 83) that follow are enabled; a
// usage qualifier (tag 95) may precede a key reference, 08 meaning "use it for user
// verification", 00 "do not". The application PIN (01-08) guards the application when it is
// enabled; otherwise the universal PIN (11) does when it is enabled and not marked "do not
// use"; otherwise no PIN is needed.
std::optional<PinReference> pinReferenceFrom(ByteView template_) {
    auto tlvs = parseTlvs(template_, "FCP PIN status template");
    auto bitmap = findTlv(tlvs, 0x90);
    if (!bitmap) return std::nullopt;
    constexpr int kNoQualifier = -1;
    struct Listed {
        bool enabled = false;
        int usage = kNoQualifier;
    };
    std::optional<std::pair<uint8_t, Listed>> application;
    std::optional<Listed> universal;
    int usage = kNoQualifier;
    size_t index = 0;
    for (const auto& tlv : tlvs) {
        if (tlv.tag == 0x95 && tlv.value.size() == 1) usage = tlv.value[0];
        if (tlv.tag != 0x83) continue;
        size_t byte = index / 8;
        Listed listed{byte < bitmap->size() && ((*bitmap)[byte] >> (7 - index % 8) & 1) != 0,
                      usage};
        usage = kNoQualifier;
        ++index;
        if (tlv.value.size() != 1) continue;
        uint8_t reference = tlv.value[0];
        if (reference >= 0x01 && reference <= 0x08 && !application)
            application = std::pair{reference, listed};
        else if (reference == kUniversalPin)
            universal = listed;
    }
    if (application && application->second.enabled) return PinReference{application->first, true};
    if (universal && universal->enabled && universal->usage != 0x00)
        return PinReference{kUniversalPin, true};
    if (!application && !universal) return std::nullopt;
    return PinReference{application ? application->first : kApplicationPin1, false};
}

}  // namespace

FileControl parseFcp(ByteView data) {
    auto outer = parseTlvs(data, "FCP");
    auto body = findTlv(outer, 0x62);
    if (!body) malformed("FCP", "no FCP template (62)");
    auto tlvs = parseTlvs(*body, "FCP");
    FileControl fcp;
    if (auto descriptor = findTlv(tlvs, 0x82)) {
        if (descriptor->empty()) malformed("FCP", "empty file descriptor");
        uint8_t type = (*descriptor)[0];
        // TS 102 221 table 11.5: b6-b4 = 111 is a DF or ADF (b3-b1 000), or a BER-TLV EF
        // (b3-b1 001), which is neither transparent nor record-based.
        if ((type & 0x38) == 0x38) {
            if ((type & 0x07) == 0) fcp.structure = FileControl::Structure::Dedicated;
        } else {
            switch (type & 0x07) {
                case 1:
                    fcp.structure = FileControl::Structure::Transparent;
                    break;
                case 2:
                    fcp.structure = FileControl::Structure::LinearFixed;
                    break;
                case 6:
                    fcp.structure = FileControl::Structure::Cyclic;
                    break;
                default:
                    break;
            }
        }
        if (descriptor->size() >= 5) {
            fcp.recordLength = size_t{(*descriptor)[2]} << 8 | (*descriptor)[3];
            fcp.recordCount = (*descriptor)[4];
        }
    }
    if (auto id = findTlv(tlvs, 0x83); id && id->size() == 2)
        fcp.fileId = static_cast<uint16_t>((*id)[0] << 8 | (*id)[1]);
    if (auto size = findTlv(tlvs, 0x80); size && !size->empty() && size->size() <= 4) {
        size_t value = 0;
        for (uint8_t b : *size) value = value << 8 | b;
        fcp.fileSize = value;
    }
    if (auto aid = findTlv(tlvs, 0x84)) fcp.aid.assign(aid->begin(), aid->end());
    if (auto pin = findTlv(tlvs, 0xC6)) fcp.pin = pinReferenceFrom(*pin);
    return fcp;
}

AppType classifyAid(ByteView aid) {
    auto startsWith = [&](const auto& prefix) {
        return aid.size() >= std::size(prefix) &&
               std::equal(std::begin(prefix), std::end(prefix), aid.begin());
    };
    if (startsWith(kIsimAidPrefix)) return AppType::Isim;
    if (startsWith(kUsimAidPrefix)) return AppType::Usim;
    return AppType::Other;
}

std::optional<Application> parseDirRecord(ByteView record) {
    if (allPadding(record)) return std::nullopt;
    auto outer = parseTlvs(record, "EF_DIR record");
    auto entry = findTlv(outer, 0x61);
    if (!entry) malformed("EF_DIR record", "no application template (61)");
    auto tlvs = parseTlvs(*entry, "EF_DIR record");
    auto aid = findTlv(tlvs, 0x4F);
    if (!aid || aid->size() < 5 || aid->size() > 16)
        malformed("EF_DIR record", "missing or bad AID (4F)");
    Application app;
    app.aid.assign(aid->begin(), aid->end());
    app.type = classifyAid(*aid);
    if (auto label = findTlv(tlvs, 0x50)) app.label.assign(label->begin(), label->end());
    return app;
}

std::optional<std::string> parseTextFile(ByteView data, std::string_view what) {
    if (allPadding(data)) return std::nullopt;
    auto tlvs = parseTlvs(data, what);
    auto text = findTlv(tlvs, 0x80);
    if (!text) malformed(what, "no text TLV (80)");
    if (text->empty()) return std::nullopt;
    return std::string(text->begin(), text->end());
}

namespace {

bool printable(ByteView bytes) {
    return !bytes.empty() &&
           std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b >= 0x20 && b < 0x7F; });
}

// An IP address as binary (4 or 16 bytes), binary after one filler byte, or text; returned
// in the usual text form.
std::optional<std::string> addressText(int family, ByteView address) {
    size_t binary = family == AF_INET ? 4 : 16;
    char text[INET6_ADDRSTRLEN] = {};
    if (printable(address)) {
        std::string candidate(address.begin(), address.end());
        unsigned char parsed[16];
        if (inet_pton(family, candidate.c_str(), parsed) == 1 &&
            inet_ntop(family, parsed, text, sizeof text))
            return std::string(text);
    }
    if (address.size() == binary + 1) address = address.subspan(1);
    if (address.size() == binary && inet_ntop(family, address.data(), text, sizeof text))
        return std::string(text);
    return std::nullopt;
}

}  // namespace

std::optional<PcscfAddress> parsePcscfRecord(ByteView record) {
    constexpr std::string_view what = "EF_P-CSCF record";
    if (allPadding(record)) return std::nullopt;
    auto tlvs = parseTlvs(record, what);
    auto value = findTlv(tlvs, 0x80);
    if (!value || value->size() < 2) malformed(what, "missing address TLV (80)");
    ByteView address = value->subspan(1);
    PcscfAddress result;
    switch ((*value)[0]) {
        case 0x00:
            if (!printable(address)) malformed(what, "FQDN is not text");
            result.kind = PcscfAddress::Kind::Fqdn;
            result.address.assign(address.begin(), address.end());
            return result;
        case 0x01:
        case 0x02: {
            bool v4 = (*value)[0] == 0x01;
            result.kind = v4 ? PcscfAddress::Kind::Ipv4 : PcscfAddress::Kind::Ipv6;
            auto text = addressText(v4 ? AF_INET : AF_INET6, address);
            if (!text) malformed(what, "address is neither binary nor text");
            result.address = *text;
            return result;
        }
        default:
            malformed(what, "unknown address type " + std::to_string((*value)[0]));
    }
}

namespace {
void appendDigit(std::string& digits, int nibble) {
    if (nibble == 0x0F) return;  // filler after the last digit
    if (nibble > 9) malformed("EF_IMSI", "not BCD");
    digits.push_back(static_cast<char>('0' + nibble));
}
}  // namespace

std::string parseImsi(ByteView data) {
    if (data.size() < 2 || data[0] == 0xFF) malformed("EF_IMSI", "empty");
    size_t length = data[0];
    if (length < 1 || length > 8 || data.size() < length + 1) malformed("EF_IMSI", "bad length");
    std::string digits;
    for (size_t i = 1; i <= length; ++i) {
        int low = data[i] & 0x0F, high = data[i] >> 4;
        // The low nibble of the first byte is the parity/type indicator, not a digit.
        if (i > 1) appendDigit(digits, low);
        appendDigit(digits, high);
    }
    if (digits.size() < 6 || digits.size() > 15) malformed("EF_IMSI", "bad number of digits");
    return digits;
}

std::optional<int> parseMncLength(ByteView data) {
    if (data.size() < 4) return std::nullopt;
    int length = data[3] & 0x0F;
    if (length != 2 && length != 3) return std::nullopt;
    return length;
}

Identities deriveIdentitiesFromImsi(const std::string& imsi, int mncLength) {
    if (mncLength != 2 && mncLength != 3)
        throw CardError(CardErrc::InvalidArgument, "IMSI derivation", "MNC length must be 2 or 3");
    if (imsi.size() < 3 + static_cast<size_t>(mncLength) ||
        !std::all_of(imsi.begin(), imsi.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw CardError(CardErrc::InvalidArgument, "IMSI derivation", "IMSI is not digits");
    std::string mcc = imsi.substr(0, 3);
    std::string mnc = imsi.substr(3, static_cast<size_t>(mncLength));
    if (mnc.size() == 2) mnc = "0" + mnc;
    Identities ids;
    ids.source = AppType::Usim;
    ids.imsi = imsi;
    ids.homeDomain = "ims.mnc" + mnc + ".mcc" + mcc + ".3gppnetwork.org";
    ids.impi = imsi + "@" + ids.homeDomain;
    ids.impus.push_back("sip:" + ids.impi);
    return ids;
}

AuthResult parseAuthenticateResponse(ByteView data) {
    constexpr std::string_view what = "AUTHENTICATE response";
    if (data.empty()) malformed(what, "empty");
    AuthResult result;
    size_t pos = 1;
    // Length-prefixed fields, read with bounds checks.
    auto field = [&](const char* name) -> ByteView {
        if (pos >= data.size()) malformed(what, std::string("missing ") + name);
        size_t length = data[pos++];
        if (data.size() - pos < length) malformed(what, std::string(name) + " runs past the end");
        ByteView value = data.subspan(pos, length);
        pos += length;
        return value;
    };
    if (data[0] == 0xDC) {
        ByteView auts = field("AUTS");
        if (auts.size() != 14) malformed(what, "AUTS is not 14 bytes");
        result.kind = AuthResult::Kind::SyncFailure;
        result.auts.assign(auts.begin(), auts.end());
        return result;
    }
    if (data[0] != 0xDB) malformed(what, "unknown tag " + std::to_string(data[0]));
    ByteView res = field("RES");
    if (res.size() < 4 || res.size() > 16) malformed(what, "RES is not 4 to 16 bytes");
    ByteView ck = field("CK");
    ByteView ik = field("IK");
    if (ck.size() != 16 || ik.size() != 16) malformed(what, "CK or IK is not 16 bytes");
    result.res = secureCopy(res);
    result.ck = secureCopy(ck);
    result.ik = secureCopy(ik);
    if (pos < data.size()) {
        ByteView kc = field("Kc");
        if (kc.size() != 8) malformed(what, "Kc is not 8 bytes");
        result.kc = secureCopy(kc);
    }
    return result;
}

}  // namespace imsaka::cardio
