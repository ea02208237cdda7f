// What the application adds to its REGISTERs: Contact feature tags (24.229 5.1.1.2.1 c),
// RFC 3840) and extra headers (P-Access-Network-Info, User-Agent, ...), checked so that they
// can neither break the request nor replace what the engine writes, and their update.
#include <algorithm>
#include <set>

#include "impl.h"

namespace imsaka::daemon {
namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string lowered(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = lower(c);
    return out;
}

// RFC 3261 25.1 token characters.
bool isToken(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
    });
}

bool isControl(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

// A quoted-string with nothing after its closing quote.
bool isQuotedString(std::string_view text) {
    if (text.size() < 2 || text.front() != '"' || text.back() != '"') return false;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
        if (isControl(text[i])) return false;
        if (text[i] == '"') return false;
        if (text[i] == '\\' && ++i + 1 >= text.size()) return false;
    }
    return true;
}

[[noreturn]] void refuse(const std::string& what) {
    throw EngineError(EngineErrc::InvalidConfig, what);
}

// The headers the engine writes (with their compact forms), and those the application's
// transport adds; an extra header of one of these names would contradict them.
bool isOwnedHeader(std::string_view name) {
    static const std::set<std::string> owned = {"via",
                                                "v",
                                                "from",
                                                "f",
                                                "to",
                                                "t",
                                                "call-id",
                                                "i",
                                                "cseq",
                                                "contact",
                                                "m",
                                                "expires",
                                                "authorization",
                                                "security-client",
                                                "security-verify",
                                                "security-server",
                                                "require",
                                                "proxy-require",
                                                "supported",
                                                "k",
                                                "max-forwards",
                                                "content-length",
                                                "l",
                                                "content-type",
                                                "c"};
    return owned.count(lowered(name)) != 0;
}

// The name of a feature tag ("+g.3gpp.smsip" of "+g.3gpp.smsip" or of "+x=\"1\""), lower-case.
std::string tagName(std::string_view tag) {
    return lowered(tag.substr(0, tag.find('=')));
}

}  // namespace

void validateFeatureTags(const std::vector<std::string>& tags) {
    std::set<std::string> seen;
    for (const auto& tag : tags) {
        std::string name = tagName(tag);
        if (!isToken(name)) refuse("feature tag \"" + tag + "\": the name is not a token");
        if (name == "+sip.instance" || name == "reg-id" || name == "expires")
            refuse("feature tag " + name + " is written by the daemon");
        if (name == "pub-gruu" || name == "temp-gruu")
            refuse("feature tag " + name + " is the registrar's");
        if (auto equals = tag.find('='); equals != std::string::npos) {
            std::string_view value = std::string_view(tag).substr(equals + 1);
            if (!isToken(value) && !isQuotedString(value))
                refuse("feature tag " + name + ": the value is neither a token nor quoted");
        }
        if (!seen.insert(name).second) refuse("feature tag " + name + " is given twice");
    }
}

void validateExtraHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
    for (const auto& [name, value] : headers) {
        if (!isToken(name)) refuse("header \"" + name + "\": the name is not a token");
        if (isOwnedHeader(name)) refuse("header " + name + " is written by the daemon");
        if (std::any_of(value.begin(), value.end(), isControl))
            refuse("header " + name + ": the value holds a line break or control character");
    }
}

bool isAccessNetworkInfo(std::string_view headerName) {
    return lowered(headerName) == "p-access-network-info";
}

// Feature tags as a set: the order of Contact parameters means nothing (RFC 3840).
std::vector<std::string> normalizedTags(const std::vector<std::string>& tags) {
    std::vector<std::string> out;
    for (const auto& tag : tags) {
        auto equals = tag.find('=');
        out.push_back(tagName(tag) + (equals == std::string::npos ? "" : tag.substr(equals)));
    }
    std::sort(out.begin(), out.end());
    return out;
}

Actions RegistrationEngine::Impl::update(Time, const RegistrationUpdate& update) {
    requireOpen();
    if (update.featureTags) validateFeatureTags(*update.featureTags);
    if (update.extraHeaders) validateExtraHeaders(*update.extraHeaders);
    Actions out;
    bool tagsChanged = update.featureTags &&
                       normalizedTags(*update.featureTags) != normalizedTags(config.featureTags);
    if (update.featureTags) config.featureTags = *update.featureTags;
    if (update.extraHeaders) config.extraHeaders = *update.extraHeaders;
    // 24.229 5.1.1.4.1: the UE re-registers "when the UE needs to modify the ICSI values
    // that the UE intends to use in a g.3gpp.icsi-ref media feature tag" (and the IARI
    // values, and its capabilities per RFC 3840). With a REGISTER outstanding, its 200 OK
    // says whether it already carried the new set (onSuccess).
    if (tagsChanged && state == RegistrationState::Registered) {
        setState(out, RegistrationState::Reregistering);
        startAttempt(out, Purpose::Refresh);
    }
    return out;
}

}  // namespace imsaka::daemon
