// Parsing and formatting of the Digest challenge and credentials (RFC 2617 section 3.2,
// RFC 3261 section 25.1, RFC 3310 for auts).
#include "imsaka/sip/digest.h"

#include "crypto.h"
#include "digest_fail.h"
#include "scanner.h"

namespace imsaka::sip {

namespace {

struct RawParameter {
    std::string name;
    std::string value;
    bool quoted;
    size_t position;  // of the value
};

// "Digest" LWS name=value *("," name=value)
std::vector<RawParameter> parseDigestParameters(std::string_view text) {
    Scanner scanner(text);
    scanner.skipWhiteSpace();
    size_t schemeStart = scanner.position();
    if (!equalsIgnoreCase(scanner.token(), "Digest")) {
        fail(DigestErrc::NotDigest, "the scheme is not Digest", schemeStart);
    }
    std::vector<RawParameter> parameters;
    size_t afterScheme = scanner.position();
    scanner.skipWhiteSpace();
    if (scanner.atEnd()) return parameters;
    if (scanner.position() == afterScheme) {
        fail(DigestErrc::NotDigest, "the scheme is not Digest", schemeStart);
    }
    while (true) {
        while (scanner.consume(',')) {
        }  // RFC 2616 #rule: empty list elements are allowed
        if (scanner.atEnd()) break;
        size_t nameStart = scanner.position();
        std::string name(scanner.token());
        if (name.empty()) {
            fail(DigestErrc::ExpectedParameterName, "expected a parameter name", nameStart);
        }
        for (const auto& earlier : parameters) {
            if (equalsIgnoreCase(earlier.name, name)) {
                fail(DigestErrc::DuplicateParameter, "parameter " + name + " given twice",
                     nameStart);
            }
        }
        if (!scanner.consume('=')) {
            fail(DigestErrc::ExpectedEquals, "expected '=' after " + name, scanner.position());
        }
        RawParameter parameter{std::move(name), {}, false, scanner.position()};
        if (scanner.peek() == '"') {
            auto value = scanner.quotedString();
            if (!value) {
                fail(DigestErrc::UnterminatedQuote, "unterminated quoted string",
                     scanner.position());
            }
            parameter.value = std::move(*value);
            parameter.quoted = true;
        } else {
            auto token = scanner.token();
            if (token.empty())
                fail(DigestErrc::ExpectedValue, "expected a value", parameter.position);
            parameter.value = std::string(token);
        }
        parameters.push_back(std::move(parameter));
        scanner.skipWhiteSpace();
        if (scanner.atEnd()) break;
        if (!scanner.consume(',')) {
            fail(DigestErrc::UnexpectedCharacter, "expected ','", scanner.position());
        }
    }
    return parameters;
}

DigestAlgorithm algorithmFrom(std::string_view text) {
    for (auto algorithm :
         {DigestAlgorithm::Md5, DigestAlgorithm::AkaV1Md5, DigestAlgorithm::AkaV2Md5}) {
        if (equalsIgnoreCase(text, toString(algorithm))) return algorithm;
    }
    return DigestAlgorithm::Other;
}

std::optional<SecureBytes> keyFromHex(std::string_view text) {
    if (text.size() != 32 || !isHexDigits(text)) return std::nullopt;
    auto bytes = fromHex(text);
    if (!bytes) return std::nullopt;
    SecureBytes key = secureCopy(*bytes);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return key;
}

std::vector<std::string> splitQop(const RawParameter& parameter) {
    std::vector<std::string> values;
    std::string_view text = parameter.value;
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        std::string_view item = text.substr(start, comma - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!isToken(item)) fail(DigestErrc::BadValue, "bad qop list", parameter.position);
        values.emplace_back(item);
        start = comma + 1;
    }
    return values;
}

// Writes name=value, quoted or as a token, after checking it cannot break the header.
void appendParameter(std::string& out, std::string_view name, std::string_view value, bool quoted) {
    if (!isToken(name)) {
        fail(DigestErrc::InvalidArgument, "parameter name is not a token: " + std::string(name));
    }
    if (!isHeaderSafe(value) || (!quoted && !isToken(value))) {
        fail(DigestErrc::InvalidArgument, "value of " + std::string(name) + " cannot be written");
    }
    if (out.size() > 7) out += ", ";  // after "Digest "
    out += name;
    out += '=';
    if (quoted) {
        appendQuoted(out, value);
    } else {
        out += value;
    }
}

}  // namespace

std::string_view toString(DigestAlgorithm algorithm) {
    switch (algorithm) {
        case DigestAlgorithm::Md5:
            return "MD5";
        case DigestAlgorithm::AkaV1Md5:
            return "AKAv1-MD5";
        case DigestAlgorithm::AkaV2Md5:
            return "AKAv2-MD5";
        case DigestAlgorithm::Other:
            break;
    }
    return "unknown";
}

bool DigestChallenge::offersQop(std::string_view value) const {
    for (const auto& offered : qop) {
        if (equalsIgnoreCase(offered, value)) return true;
    }
    return false;
}

DigestChallenge parseWwwAuthenticate(std::string_view value) {
    DigestChallenge challenge;
    bool haveRealm = false, haveNonce = false;
    for (auto& parameter : parseDigestParameters(value)) {
        const std::string& name = parameter.name;
        if (equalsIgnoreCase(name, "realm")) {
            challenge.realm = std::move(parameter.value);
            haveRealm = true;
        } else if (equalsIgnoreCase(name, "nonce")) {
            challenge.nonce = std::move(parameter.value);
            haveNonce = true;
        } else if (equalsIgnoreCase(name, "algorithm")) {
            challenge.algorithm = algorithmFrom(parameter.value);
            challenge.algorithmText = std::move(parameter.value);
        } else if (equalsIgnoreCase(name, "qop")) {
            challenge.qop = splitQop(parameter);
        } else if (equalsIgnoreCase(name, "opaque")) {
            challenge.opaque = std::move(parameter.value);
        } else if (equalsIgnoreCase(name, "domain")) {
            challenge.domain = std::move(parameter.value);
        } else if (equalsIgnoreCase(name, "stale")) {
            if (equalsIgnoreCase(parameter.value, "true")) {
                challenge.stale = true;
            } else if (!equalsIgnoreCase(parameter.value, "false")) {
                fail(DigestErrc::BadValue, "stale must be true or false", parameter.position);
            }
        } else if (equalsIgnoreCase(name, "ck") || equalsIgnoreCase(name, "ik")) {
            // Keys meant for the P-CSCF; kept only as wiped buffers, and the copy in the
            // parameter is wiped too.
            auto key = keyFromHex(parameter.value);
            (equalsIgnoreCase(name, "ck") ? challenge.ck : challenge.ik) = std::move(key);
            OPENSSL_cleanse(parameter.value.data(), parameter.value.size());
        } else {
            challenge.otherParameters.push_back(
                {std::move(parameter.name), std::move(parameter.value), parameter.quoted});
        }
    }
    if (!haveRealm) fail(DigestErrc::MissingParameter, "the challenge has no realm", value.size());
    if (!haveNonce) fail(DigestErrc::MissingParameter, "the challenge has no nonce", value.size());
    return challenge;
}

std::string formatWwwAuthenticate(const DigestChallenge& challenge) {
    std::string out = "Digest ";
    appendParameter(out, "realm", challenge.realm, true);
    appendParameter(out, "nonce", challenge.nonce, true);
    if (!challenge.algorithmText.empty()) {
        appendParameter(out, "algorithm", challenge.algorithmText, false);
    } else if (challenge.algorithm != DigestAlgorithm::Md5) {
        appendParameter(out, "algorithm", toString(challenge.algorithm), false);
    }
    if (!challenge.qop.empty()) {
        std::string list;
        for (const auto& qop : challenge.qop) {
            if (!isToken(qop)) fail(DigestErrc::InvalidArgument, "qop is not a token: " + qop);
            if (!list.empty()) list += ',';
            list += qop;
        }
        appendParameter(out, "qop", list, true);
    }
    if (challenge.opaque) appendParameter(out, "opaque", *challenge.opaque, true);
    if (challenge.domain) appendParameter(out, "domain", *challenge.domain, true);
    if (challenge.stale) appendParameter(out, "stale", "true", false);
    if (challenge.ik) appendParameter(out, "ik", toHex(*challenge.ik), true);
    if (challenge.ck) appendParameter(out, "ck", toHex(*challenge.ck), true);
    for (const auto& parameter : challenge.otherParameters) {
        appendParameter(out, parameter.name, parameter.value, parameter.quoted);
    }
    return out;
}

DigestChallenge selectAkaChallenge(std::span<const std::string_view> values) {
    std::string seen;
    for (size_t i = 0; i < values.size(); ++i) {
        std::string what;
        try {
            auto challenge = parseWwwAuthenticate(values[i]);
            if (challenge.isAka()) return challenge;
            what = "algorithm " +
                   (challenge.algorithmText.empty() ? "MD5 (none given)" : challenge.algorithmText);
        } catch (const DigestError& error) {
            what = error.what();
        }
        seen += (seen.empty() ? "" : "; ") + ("[" + std::to_string(i + 1) + "] " + what);
    }
    fail(DigestErrc::NotAka, "no AKA challenge among " + std::to_string(values.size()) +
                                 " WWW-Authenticate values" + (seen.empty() ? "" : ": " + seen));
}

DigestCredentials parseAuthorization(std::string_view value) {
    DigestCredentials credentials;
    struct Field {
        std::string_view name;
        std::string* required;
        std::optional<std::string>* optional;
    };
    const Field fields[] = {
        {"username", &credentials.username, nullptr},
        {"realm", &credentials.realm, nullptr},
        {"nonce", &credentials.nonce, nullptr},
        {"uri", &credentials.uri, nullptr},
        {"response", &credentials.response, nullptr},
        {"algorithm", nullptr, &credentials.algorithmText},
        {"qop", nullptr, &credentials.qop},
        {"nc", nullptr, &credentials.nc},
        {"cnonce", nullptr, &credentials.cnonce},
        {"opaque", nullptr, &credentials.opaque},
        {"auts", nullptr, &credentials.auts},
    };
    bool seen[std::size(fields)] = {};
    for (auto& parameter : parseDigestParameters(value)) {
        bool known = false;
        for (size_t i = 0; i < std::size(fields); ++i) {
            if (!equalsIgnoreCase(parameter.name, fields[i].name)) continue;
            known = seen[i] = true;
            if (fields[i].required) {
                *fields[i].required = std::move(parameter.value);
            } else {
                *fields[i].optional = std::move(parameter.value);
            }
        }
        if (known) {
            if (equalsIgnoreCase(parameter.name, "nc") &&
                (credentials.nc->size() != 8 || !isHexDigits(*credentials.nc))) {
                fail(DigestErrc::BadValue, "nc must be 8 hex digits", parameter.position);
            }
            if (equalsIgnoreCase(parameter.name, "qop") && !isToken(*credentials.qop)) {
                fail(DigestErrc::BadValue, "qop must be a token", parameter.position);
            }
            if (equalsIgnoreCase(parameter.name, "auts")) {
                auto auts = base64Decode(*credentials.auts);
                if (!auts.bytes || auts.bytes->size() != 14) {
                    fail(DigestErrc::BadValue, "auts must be base64 of the 14-byte AUTS",
                         parameter.position);
                }
            }
            continue;
        }
        credentials.otherParameters.push_back(
            {std::move(parameter.name), std::move(parameter.value), parameter.quoted});
    }
    for (size_t i = 0; i < std::size(fields); ++i) {
        if (fields[i].required && !seen[i]) {
            fail(DigestErrc::MissingParameter,
                 "the credentials have no " + std::string(fields[i].name), value.size());
        }
    }
    if (credentials.qop.has_value() != credentials.nc.has_value() ||
        credentials.qop.has_value() != credentials.cnonce.has_value()) {
        fail(DigestErrc::MissingParameter, "qop, nc and cnonce go together", value.size());
    }
    return credentials;
}

std::string formatAuthorization(const DigestCredentials& credentials) {
    std::string out = "Digest ";
    out.reserve(384);
    appendParameter(out, "username", credentials.username, true);
    appendParameter(out, "realm", credentials.realm, true);
    appendParameter(out, "nonce", credentials.nonce, true);
    appendParameter(out, "uri", credentials.uri, true);
    if (credentials.algorithmText) {
        appendParameter(out, "algorithm", *credentials.algorithmText, false);
    }
    appendParameter(out, "response", credentials.response, true);
    if (credentials.qop) appendParameter(out, "qop", *credentials.qop, false);
    if (credentials.nc) appendParameter(out, "nc", *credentials.nc, false);
    if (credentials.cnonce) appendParameter(out, "cnonce", *credentials.cnonce, true);
    if (credentials.opaque) appendParameter(out, "opaque", *credentials.opaque, true);
    if (credentials.auts) appendParameter(out, "auts", *credentials.auts, true);
    for (const auto& parameter : credentials.otherParameters) {
        appendParameter(out, parameter.name, parameter.value, parameter.quoted);
    }
    return out;
}

}  // namespace imsaka::sip
