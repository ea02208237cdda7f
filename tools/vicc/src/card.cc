// Command dispatch, logical channels, file selection and reading, PIN, and the
// T=0 / T=1 rules for returning data (TS 102 221 7.3 and 10, ISO 7816-4).
#include <imsaka/vicc/card.h>

#include <algorithm>

#include "card_impl.h"

namespace imsaka::vicc {
namespace {

constexpr uint8_t kInsSelect = 0xA4;
constexpr uint8_t kInsReadBinary = 0xB0;
constexpr uint8_t kInsReadRecord = 0xB2;
constexpr uint8_t kInsVerify = 0x20;
constexpr uint8_t kInsUnblock = 0x2C;
constexpr uint8_t kInsManageChannel = 0x70;
constexpr uint8_t kInsGetResponse = 0xC0;
constexpr uint8_t kInsAuthenticate = 0x88;

constexpr uint16_t sizedStatus(uint16_t base, size_t length) {
    return static_cast<uint16_t>(base | (length & 0xff));  // 256 encodes as 00
}

// Historical bytes: category 80, card service data (31 E0: selection by full and
// partial AID, EF_DIR present), card capabilities (73 ...); the last byte says the
// card assigns logical channel numbers and offers 8 or more, or none.
Bytes historicalBytes(bool logicalChannels) {
    return Bytes{
        0x80, 0x31, 0xE0, 0x73, 0xFE, 0x21, static_cast<uint8_t>(logicalChannels ? 0x17 : 0x00)};
}

std::unique_ptr<milenage::AkaAlgorithm> makeAlgorithm(const Profile& profile) {
    if (profile.algorithm == AlgorithmKind::Xor) {
        return std::make_unique<milenage::XorTestAlgorithm>(profile.k);
    }
    return std::make_unique<milenage::Milenage>(profile.k, profile.opc);
}

}  // namespace

std::optional<Fault> parseFault(std::string_view name) {
    if (name == "none") return Fault::None;
    if (name == "garbage-auth") return Fault::GarbageAuth;
    if (name == "truncated-auth") return Fault::TruncatedAuth;
    if (name == "unknown-sw") return Fault::UnknownSw;
    if (name == "truncated-dir") return Fault::TruncatedDir;
    return std::nullopt;
}

Card::Impl::Impl(const Profile& profile, Fault faultKind)
    : protocol(profile.protocol),
      logicalChannels(profile.logicalChannels),
      fault(faultKind),
      files(buildFileSystem(profile)),
      algorithm(makeAlgorithm(profile)),
      sqn(profile.sqn, profile.delta),
      pinEnabled(profile.pinEnabled),
      pinKind(profile.pinKind),
      pin(paddedPin(profile.pin)),
      pinRetries(profile.pinRetries),
      pinRetriesMax(profile.pinRetries),
      puk(profile.puk.begin(), profile.puk.end()),
      pukRetries(profile.pukRetries),
      pukRetriesMax(profile.pukRetries) {}

void Card::Impl::powerCycle() {
    pinVerified = false;
    for (auto& channel : channels) channel.reset();
    channels[0].emplace();
}

SecureBytes Card::Impl::answer(ChannelState& channel, const Command& command, ByteView data) {
    if (command.hasData()) {
        if (protocol == Protocol::T1) return withStatus(data, sw::kOk);
        channel.pending = secureCopy(data);
        return statusOnly(sizedStatus(sw::kMoreData, data.size()));
    }
    size_t le = command.le.value_or(256);
    bool t1TakesAll = protocol == Protocol::T1 && le == 256;
    if (le == data.size() || t1TakesAll) return withStatus(data, sw::kOk);
    return statusOnly(sizedStatus(sw::kWrongLe, data.size()));
}

SecureBytes Card::Impl::handle(ChannelState& channel, int number, const Command& command) {
    if (command.ins != kInsGetResponse) channel.pending.clear();
    switch (command.ins) {
        case kInsSelect:
            return select(channel, command);
        case kInsReadBinary:
            return readBinary(channel, command);
        case kInsReadRecord:
            return readRecord(channel, command);
        case kInsVerify:
            return verify(command);
        case kInsUnblock:
            return unblock(command);
        case kInsManageChannel:
            return manageChannel(channel, number, command);
        case kInsGetResponse:
            return getResponse(channel, command);
        case kInsAuthenticate:
            return authenticate(channel, command);
        default:
            return statusOnly(sw::kUnknownIns);
    }
}

SecureBytes Card::Impl::select(ChannelState& channel, const Command& command) {
    if ((command.p1 != 0x00 && command.p1 != 0x04 && command.p1 != 0x08) ||
        (command.p2 != 0x04 && command.p2 != 0x0C)) {
        return statusOnly(sw::kBadP1P2);
    }
    ChannelState next = channel;
    next.ef = nullptr;
    if (command.p1 == 0x04) {
        if (command.data.empty() || command.data.size() > 16) return statusOnly(sw::kWrongLength);
        const Application* application = files.findApplication(command.data);
        if (!application) return statusOnly(sw::kFileNotFound);
        next.adf = application;
        next.inAdf = true;
    } else {
        if (command.data.empty() || command.data.size() % 2 != 0 ||
            (command.p1 == 0x00 && command.data.size() != 2)) {
            return statusOnly(sw::kWrongLength);
        }
        std::vector<uint16_t> path;
        for (size_t i = 0; i < command.data.size(); i += 2) {
            path.push_back(static_cast<uint16_t>(command.data[i] << 8 | command.data[i + 1]));
        }
        if (command.p1 == 0x08) {
            next.inAdf = false;  // a path starts at the MF, which it may or may not name
            if (path.front() == kMfFid && path.size() > 1) path.erase(path.begin());
        }
        for (size_t i = 0; i < path.size(); ++i) {
            uint16_t fid = path[i];
            bool last = i + 1 == path.size();
            if (fid == kMfFid) {
                next.inAdf = false;
            } else if (fid == kCurrentAdfFid) {
                if (!next.adf) return statusOnly(sw::kFileNotFound);
                next.inAdf = true;
            } else {
                const ElementaryFile* file = next.inAdf ? next.adf->find(fid) : nullptr;
                if (!file && (command.p1 == 0x00 || !next.inAdf)) file = files.findInMf(fid);
                if (!file || !last) return statusOnly(sw::kFileNotFound);
                next.ef = file;
            }
        }
    }
    channel = std::move(next);
    if (command.p2 == 0x0C) return statusOnly(sw::kOk);
    Bytes fcp = channel.ef ? efFcp(*channel.ef)
                           : dfFcp(files, channel.inAdf ? channel.adf : nullptr,
                                   {pinEnabled, pinKind == PinKind::Universal});
    return answer(channel, command, fcp);
}

namespace {

// Reads of an application's files need the PIN when it is enabled; the MF's do not.
bool needsPin(const FileSystem& files, const ElementaryFile& file) {
    return files.findInMf(file.fid) != &file;
}

}  // namespace

SecureBytes Card::Impl::readBinary(ChannelState& channel, const Command& command) {
    if (command.hasData()) return statusOnly(sw::kWrongLength);
    if (command.p1 & 0x80) return statusOnly(sw::kBadP1P2);  // no short file identifiers
    if (!channel.ef) return statusOnly(sw::kNoCurrentEf);
    if (channel.ef->linearFixed) return statusOnly(sw::kWrongFileType);
    if (pinRequired() && needsPin(files, *channel.ef)) {
        return statusOnly(sw::kSecurityNotSatisfied);
    }
    size_t offset = static_cast<size_t>(command.p1 << 8 | command.p2);
    const Bytes& body = channel.ef->body;
    if (offset >= body.size()) return statusOnly(sw::kOffsetBeyondEnd);
    size_t available = std::min(body.size() - offset, size_t{256});
    size_t le = command.le.value_or(256);
    // Reading less than what is left is an ordinary partial read.
    size_t count = le < available ? le : available;
    auto begin = body.begin() + static_cast<std::ptrdiff_t>(offset);
    Bytes data(begin, begin + static_cast<std::ptrdiff_t>(count));
    if (le < available) return withStatus(data, sw::kOk);
    return answer(channel, command, data);
}

SecureBytes Card::Impl::readRecord(ChannelState& channel, const Command& command) {
    if (command.hasData()) return statusOnly(sw::kWrongLength);
    if (command.p2 != 0x04 || command.p1 == 0) return statusOnly(sw::kBadP1P2);
    if (!channel.ef) return statusOnly(sw::kNoCurrentEf);
    if (!channel.ef->linearFixed) return statusOnly(sw::kWrongFileType);
    if (pinRequired() && needsPin(files, *channel.ef)) {
        return statusOnly(sw::kSecurityNotSatisfied);
    }
    if (command.p1 > channel.ef->recordCount()) return statusOnly(sw::kRecordNotFound);
    size_t length = channel.ef->recordLength;
    auto begin = channel.ef->body.begin() + static_cast<std::ptrdiff_t>((command.p1 - 1) * length);
    Bytes record(begin, begin + static_cast<std::ptrdiff_t>(length));
    if (fault == Fault::TruncatedDir && channel.ef == files.findInMf(kEfDirFid)) {
        record[1] = 0x7F;  // the template's length now runs past the end of the record
    }
    return answer(channel, command, record);
}

SecureBytes Card::Impl::manageChannel(ChannelState& channel, int number, const Command& command) {
    if (!logicalChannels) return statusOnly(sw::kChannelNotSupported);
    if (command.hasData()) return statusOnly(sw::kWrongLength);
    if (command.p1 == 0x00 && command.p2 == 0x00) {
        auto free = std::find_if(channels.begin() + 1, channels.end(),
                                 [](const auto& state) { return !state.has_value(); });
        if (free == channels.end()) return statusOnly(sw::kFunctionNotSupported);
        // ISO 7816-4: a channel opened from channel 0 starts at the MF, otherwise
        // it starts where the opening channel is.
        ChannelState start;
        if (number != 0) start = ChannelState{channel.adf, channel.inAdf, channel.ef, {}};
        free->emplace(std::move(start));
        auto opened = static_cast<uint8_t>(free - channels.begin());
        return answer(channel, command, Bytes{opened});
    }
    if (command.p1 == 0x80) {
        if (command.p2 == 0 || command.p2 >= kChannelCount || !channels[command.p2]) {
            return statusOnly(sw::kBadP1P2);
        }
        channels[command.p2].reset();
        return statusOnly(sw::kOk);
    }
    return statusOnly(sw::kBadP1P2);
}

SecureBytes Card::Impl::getResponse(ChannelState& channel, const Command& command) {
    if (command.p1 != 0 || command.p2 != 0) return statusOnly(sw::kBadP1P2);
    if (command.hasData() || !command.le) return statusOnly(sw::kWrongLength);
    if (channel.pending.empty()) return statusOnly(sw::kConditionsNotSatisfied);
    size_t le = *command.le;
    size_t available = channel.pending.size();
    if (le > available) return statusOnly(sizedStatus(sw::kWrongLe, available));
    SecureBytes out = withStatus(ByteView(channel.pending.data(), le), sw::kOk);
    if (le == available) {
        channel.pending.clear();
        return out;
    }
    channel.pending.erase(channel.pending.begin(),
                          channel.pending.begin() + static_cast<std::ptrdiff_t>(le));
    uint16_t more = sizedStatus(sw::kMoreData, channel.pending.size());
    out[out.size() - 2] = static_cast<uint8_t>(more >> 8);
    out[out.size() - 1] = static_cast<uint8_t>(more & 0xff);
    return out;
}

Card::Card(const Profile& profile, Fault fault) : impl_(std::make_unique<Impl>(profile, fault)) {}

Card::~Card() = default;

Bytes Card::atr() const {
    Bytes historical = historicalBytes(impl_->logicalChannels);
    auto count = static_cast<uint8_t>(historical.size());
    if (impl_->protocol == Protocol::T0) {
        // TS 3B (direct convention), T0: no interface bytes, so T=0 only and no TCK.
        Bytes atr{0x3B, count};
        atr.insert(atr.end(), historical.begin(), historical.end());
        return atr;
    }
    // T0 announces TD1 only; TD1 = 01 offers T=1 alone. TCK makes T0..TCK xor to 0.
    Bytes atr{0x3B, static_cast<uint8_t>(0x80 | count), 0x01};
    atr.insert(atr.end(), historical.begin(), historical.end());
    uint8_t check = 0;
    for (size_t i = 1; i < atr.size(); ++i) check ^= atr[i];
    atr.push_back(check);
    return atr;
}

Bytes Card::powerOn() {
    impl_->powered = true;
    impl_->powerCycle();
    return atr();
}

Bytes Card::reset() {
    return powerOn();
}

void Card::powerOff() {
    impl_->powered = false;
    impl_->powerCycle();
}

bool Card::powered() const {
    return impl_->powered;
}

SecureBytes Card::transmit(ByteView bytes) {
    if (!impl_->powered) return statusOnly(sw::kConditionsNotSatisfied);
    std::optional<Command> command = parseCommand(bytes);
    if (!command) return statusOnly(sw::kWrongLength);
    std::optional<int> number = channelOf(command->cla);
    if (!number) return statusOnly(sw::kBadCla);
    auto& channel = impl_->channels[static_cast<size_t>(*number)];
    if (!channel) return statusOnly(sw::kChannelNotSupported);
    return impl_->handle(*channel, *number, *command);
}

uint64_t Card::highestAcceptedSqn() const {
    return impl_->sqn.highest();
}

int Card::pinRetriesLeft() const {
    return impl_->pinRetries;
}

int Card::pukRetriesLeft() const {
    return impl_->pukRetries;
}

}  // namespace imsaka::vicc
