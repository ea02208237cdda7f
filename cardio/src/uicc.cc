#include "imsaka/cardio/uicc.h"

#include <algorithm>

#include "imsaka/cardio/error.h"

namespace imsaka::cardio {

namespace {

constexpr uint8_t kSelect = 0xA4, kReadBinary = 0xB0, kReadRecord = 0xB2, kVerify = 0x20,
                  kUnblockPin = 0x2C, kAuthenticate = 0x88, kManageChannel = 0x70;
constexpr uint16_t kMasterFile = 0x3F00, kEfDir = 0x2F00;
constexpr uint16_t kEfImpi = 0x6F02, kEfDomain = 0x6F03, kEfImpu = 0x6F04, kEfPcscf = 0x6F09;
constexpr uint16_t kEfImsi = 0x6F07, kEfAd = 0x6FAD;

SecureBytes fileIdBytes(uint16_t fileId) {
    return {static_cast<uint8_t>(fileId >> 8), static_cast<uint8_t>(fileId & 0xFF)};
}

bool digits(std::string_view text, size_t min, size_t max) {
    return text.size() >= min && text.size() <= max &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A PIN as VERIFY and UNBLOCK PIN carry it: ASCII digits padded with FF to 8 bytes.
void appendPinBlock(SecureBytes& out, std::string_view pin) {
    out.insert(out.end(), pin.begin(), pin.end());
    out.insert(out.end(), 8 - pin.size(), 0xFF);
}

bool isRetryCounter(uint16_t sw) {
    return (sw & 0xFFF0) == 0x63C0;
}

// 6983, or a counter at zero (some cards say 63C0): nothing may be tried any more.
bool isBlocked(uint16_t sw) {
    return sw == 0x6983 || sw == 0x63C0;
}

}  // namespace

uint8_t classForChannel(uint8_t channel) {
    if (channel < 4) return channel;
    return static_cast<uint8_t>(0x40 | (channel - 4));
}

void throwForStatus(uint16_t sw, const std::string& where) {
    switch (sw) {
        case 0x6A82:
            throw CardError(CardErrc::FileNotFound, where, {}, sw);
        case 0x6A83:
            throw CardError(CardErrc::RecordNotFound, where, {}, sw);
        case 0x6982:
            throw CardError(CardErrc::PinRequired, where, "PIN not verified", sw);
        case 0x6983:
            throw CardError(CardErrc::PinBlocked, where, {}, sw);
        case 0x9862:
            throw CardError(CardErrc::MacFailure, where, "AUTN MAC check failed", sw);
        case 0x9864:
            throw CardError(CardErrc::ContextNotSupported, where, {}, sw);
        case 0x6985:
            throw CardError(CardErrc::NoApplication, where, "no ADF selected", sw);
        default:
            break;
    }
    if ((sw & 0xFFF0) == 0x63C0)
        throw CardError(CardErrc::WrongPin, where, std::to_string(sw & 0x0F) + " retries left", sw);
    throw CardError(CardErrc::UnexpectedStatus, where, {}, sw);
}

UiccSession::UiccSession(Transport& transport, SessionOptions options)
    : transport_(transport), options_(options) {}

Response UiccSession::run(Command command) {
    command.cla = static_cast<uint8_t>(classForChannel(channel_) | (command.cla & 0x80));
    return exchange(transport_, command, &exchanges_);
}

FileControl UiccSession::select(uint16_t fileId, const char* what) {
    Response r =
        run({.ins = kSelect, .p1 = 0x00, .p2 = 0x04, .data = fileIdBytes(fileId), .le = 0});
    if (!r.ok()) throwForStatus(r.sw, std::string("SELECT ") + what);
    return parseFcp(r.data);
}

SecureBytes UiccSession::readBinary(const FileControl& file, const char* what) {
    if (file.structure != FileControl::Structure::Transparent || !file.fileSize)
        throw CardError(CardErrc::MalformedResponse, what, "not a transparent file with a size");
    SecureBytes content;
    size_t size = std::min<size_t>(*file.fileSize, 0x7FFF);
    while (content.size() < size) {
        size_t chunk = std::min<size_t>(size - content.size(), 0xFF);
        Response r = run({.ins = kReadBinary,
                          .p1 = static_cast<uint8_t>(content.size() >> 8),
                          .p2 = static_cast<uint8_t>(content.size() & 0xFF),
                          .data = {},
                          .le = static_cast<uint16_t>(chunk)});
        if (!r.ok()) throwForStatus(r.sw, std::string("READ BINARY ") + what);
        if (r.data.empty())
            throw CardError(CardErrc::MalformedResponse, what, "READ BINARY returned nothing");
        content.insert(content.end(), r.data.begin(), r.data.end());
    }
    return content;
}

std::vector<SecureBytes> UiccSession::readRecords(const FileControl& file, const char* what) {
    if (file.structure != FileControl::Structure::LinearFixed || file.recordLength == 0 ||
        file.recordLength > 0xFF)
        throw CardError(CardErrc::MalformedResponse, what, "not a linear fixed file");
    std::vector<SecureBytes> records;
    for (size_t number = 1; number <= file.recordCount; ++number) {
        Response r = run({.ins = kReadRecord,
                          .p1 = static_cast<uint8_t>(number),
                          .p2 = 0x04,
                          .data = {},
                          .le = static_cast<uint16_t>(file.recordLength)});
        if (!r.ok()) throwForStatus(r.sw, std::string("READ RECORD ") + what);
        records.push_back(std::move(r.data));
    }
    return records;
}

std::vector<Application> UiccSession::readDir() {
    select(kMasterFile, "MF");
    FileControl dir = select(kEfDir, "EF_DIR");
    std::vector<Application> apps;
    for (const auto& record : readRecords(dir, "EF_DIR"))
        if (auto app = parseDirRecord(record)) apps.push_back(std::move(*app));
    return apps;
}

uint8_t UiccSession::openChannel() {
    Response r = run({.ins = kManageChannel, .p1 = 0x00, .p2 = 0x00, .data = {}, .le = 1});
    // Cards without (free) logical channels refuse in several ways; all mean "use channel 0".
    if (!r.ok() || r.data.size() != 1 || r.data[0] == 0 || r.data[0] > 19) return 0;
    return r.data[0];
}

void UiccSession::open() {
    channel_ = 0;
    applications_ = readDir();
    auto find = [&](AppType type) {
        return std::find_if(applications_.begin(), applications_.end(),
                            [&](const Application& app) { return app.type == type; });
    };
    auto chosen = applications_.end();
    if (options_.preference == AppPreference::IsimThenUsim) chosen = find(AppType::Isim);
    if (chosen == applications_.end()) chosen = find(AppType::Usim);
    if (chosen == applications_.end())
        throw CardError(CardErrc::NoApplication, "EF_DIR", "no ISIM or USIM on the card");
    application_ = *chosen;
    if (options_.useLogicalChannel) channel_ = openChannel();
    try {
        reselect();
    } catch (...) {
        close();  // cards have few channels: one this session cannot use goes back at once
        throw;
    }
}

void UiccSession::reselect() {
    SecureBytes aid(application_.aid.begin(), application_.aid.end());
    Response r = run({.ins = kSelect, .p1 = 0x04, .p2 = 0x04, .data = aid, .le = 0});
    if (!r.ok()) throwForStatus(r.sw, "SELECT ADF");
    pin_ = parseFcp(r.data).pin;
}

void UiccSession::close() noexcept {
    if (channel_ == 0) return;
    try {
        exchange(
            transport_,
            {.cla = 0x00, .ins = kManageChannel, .p1 = 0x80, .p2 = channel_, .data = {}, .le = {}},
            &exchanges_);
    } catch (...) {
        // The card may have gone; a channel on a card that left needs no closing.
    }
    channel_ = 0;
}

Identities UiccSession::readIdentities() {
    return application_.type == AppType::Isim ? readIsimIdentities() : readUsimIdentities();
}

Identities UiccSession::readIsimIdentities() {
    Identities ids;
    ids.source = AppType::Isim;
    auto impi = parseTextFile(readBinary(select(kEfImpi, "EF_IMPI"), "EF_IMPI"), "EF_IMPI");
    if (!impi) throw CardError(CardErrc::MalformedResponse, "EF_IMPI", "empty");
    ids.impi = *impi;
    if (auto domain =
            parseTextFile(readBinary(select(kEfDomain, "EF_DOMAIN"), "EF_DOMAIN"), "EF_DOMAIN"))
        ids.homeDomain = *domain;
    for (const auto& record : readRecords(select(kEfImpu, "EF_IMPU"), "EF_IMPU"))
        if (auto impu = parseTextFile(record, "EF_IMPU record")) ids.impus.push_back(*impu);
    try {
        for (const auto& record : readRecords(select(kEfPcscf, "EF_P-CSCF"), "EF_P-CSCF"))
            if (auto pcscf = parsePcscfRecord(record)) ids.pcscfs.push_back(*pcscf);
    } catch (const CardError& error) {
        if (error.code() != CardErrc::FileNotFound) throw;  // EF_P-CSCF is optional
    }
    return ids;
}

Identities UiccSession::readUsimIdentities() {
    std::string imsi = parseImsi(readBinary(select(kEfImsi, "EF_IMSI"), "EF_IMSI"));
    // Without EF_AD's MNC length, two digits is the common case (TS 31.102 leaves it to the ME).
    int mncLength = 2;
    try {
        if (auto length = parseMncLength(readBinary(select(kEfAd, "EF_AD"), "EF_AD")))
            mncLength = *length;
    } catch (const CardError& error) {
        if (error.code() != CardErrc::FileNotFound) throw;
    }
    return deriveIdentitiesFromImsi(imsi, mncLength);
}

uint8_t UiccSession::pinReference() const {
    return pin_ ? pin_->keyReference : kApplicationPin1;
}

Response UiccSession::askCounter(uint8_t instruction) {
    return run({.ins = instruction, .p1 = 0x00, .p2 = pinReference(), .data = {}, .le = {}});
}

PinStatus UiccSession::pinStatus() {
    PinStatus status;
    status.keyReference = pinReference();
    status.enabled = pin_ && pin_->enabled;
    Response r = askCounter(kVerify);
    if (r.ok()) {
        status.verified = true;
    } else if (isBlocked(r.sw)) {
        status.enabled = true;
        status.blocked = true;
        status.retriesLeft = 0;
    } else if (isRetryCounter(r.sw)) {
        status.enabled = true;
        status.retriesLeft = r.sw & 0x0F;
    } else {
        throwForStatus(r.sw, "VERIFY PIN status");
    }
    // As oFono asks: UNBLOCK PIN without data answers 63Cx with the PUK's tries left. Cards
    // that answer otherwise simply do not report them.
    Response puk = askCounter(kUnblockPin);
    if (isBlocked(puk.sw))
        status.pukRetriesLeft = 0;
    else if (isRetryCounter(puk.sw))
        status.pukRetriesLeft = puk.sw & 0x0F;
    return status;
}

PinStatus UiccSession::verifyPin(std::string_view pin) {
    if (!digits(pin, 4, 8))
        throw CardError(CardErrc::InvalidArgument, "VERIFY PIN", "a PIN is 4 to 8 digits");
    // Only a PIN the card asks for is sent: a wrong one counts down even when the PIN is
    // disabled or verified, and three of them block the card.
    Response state = askCounter(kVerify);
    if (state.ok())
        throw CardError(
            CardErrc::PinNotRequired, "VERIFY PIN",
            pin_ && pin_->enabled ? "the PIN is verified already" : "the PIN is disabled",
            state.sw);
    if (isBlocked(state.sw)) throw CardError(CardErrc::PinBlocked, "VERIFY PIN", {}, state.sw);
    if (!isRetryCounter(state.sw)) throwForStatus(state.sw, "VERIFY PIN status");
    SecureBytes block;
    appendPinBlock(block, pin);
    Response r =
        run({.ins = kVerify, .p1 = 0x00, .p2 = pinReference(), .data = std::move(block), .le = {}});
    if (!r.ok()) throwForStatus(r.sw, "VERIFY PIN");
    return pinStatus();
}

PinStatus UiccSession::unblockPin(std::string_view puk, std::string_view newPin) {
    if (!digits(puk, 8, 8))
        throw CardError(CardErrc::InvalidArgument, "UNBLOCK PIN", "a PUK is 8 digits");
    if (!digits(newPin, 4, 8))
        throw CardError(CardErrc::InvalidArgument, "UNBLOCK PIN", "a PIN is 4 to 8 digits");
    Response state = askCounter(kVerify);
    if (!isBlocked(state.sw))
        throw CardError(CardErrc::PinNotBlocked, "UNBLOCK PIN", "the PIN is not blocked", state.sw);
    Response left = askCounter(kUnblockPin);
    if (isBlocked(left.sw))
        throw CardError(CardErrc::PukBlocked, "UNBLOCK PIN", "no PUK tries left", left.sw);
    SecureBytes data(puk.begin(), puk.end());
    appendPinBlock(data, newPin);
    Response r = run(
        {.ins = kUnblockPin, .p1 = 0x00, .p2 = pinReference(), .data = std::move(data), .le = {}});
    if (isBlocked(r.sw))
        throw CardError(CardErrc::PukBlocked, "UNBLOCK PIN", "no PUK tries left", r.sw);
    if (isRetryCounter(r.sw))
        throw CardError(CardErrc::WrongPuk, "UNBLOCK PIN",
                        std::to_string(r.sw & 0x0F) + " PUK tries left", r.sw);
    if (!r.ok()) throwForStatus(r.sw, "UNBLOCK PIN");
    return pinStatus();
}

AuthResult UiccSession::authenticate(ByteView rand, ByteView autn) {
    if (rand.size() != 16 || autn.size() != 16)
        throw CardError(CardErrc::InvalidArgument, "AUTHENTICATE",
                        "RAND and AUTN must be 16 bytes each (got " + std::to_string(rand.size()) +
                            " and " + std::to_string(autn.size()) + ")");
    SecureBytes data;
    data.reserve(34);
    data.push_back(16);
    data.insert(data.end(), rand.begin(), rand.end());
    data.push_back(16);
    data.insert(data.end(), autn.begin(), autn.end());
    Response r =
        run({.ins = kAuthenticate, .p1 = 0x00, .p2 = 0x81, .data = std::move(data), .le = 0});
    if (!r.ok()) throwForStatus(r.sw, "AUTHENTICATE");
    return parseAuthenticateResponse(r.data);
}

}  // namespace imsaka::cardio
