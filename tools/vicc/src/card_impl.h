// The card's state and its command handlers, shared by card.cc (files, PIN,
// channels, T=0/T=1 framing) and authenticate.cc (AKA).
#pragma once

#include <imsaka/milenage/milenage.h>
#include <imsaka/vicc/card.h>

#include <array>
#include <memory>
#include <optional>

#include "apdu.h"
#include "file_system.h"
#include "sqn_window.h"

namespace imsaka::vicc {

inline constexpr size_t kChannelCount = 20;

// A PIN as VERIFY carries it: the ASCII digits padded with FF to 8 bytes.
SecureBytes paddedPin(const std::string& digits);

struct ChannelState {
    const Application* adf = nullptr;    // the channel's current application
    bool inAdf = false;                  // current DF: the ADF, otherwise the MF
    const ElementaryFile* ef = nullptr;  // current EF
    SecureBytes pending;                 // T=0: data waiting for GET RESPONSE
};

struct Card::Impl {
    Impl(const Profile& profile, Fault fault);

    SecureBytes handle(ChannelState& channel, int number, const Command& command);

    // Answers with data: 61xx on T=0 for commands with a data field, otherwise data
    // and 9000; a case 2 command whose Le does not match gets 6Cxx.
    SecureBytes answer(ChannelState& channel, const Command& command, ByteView data);

    SecureBytes select(ChannelState& channel, const Command& command);
    SecureBytes readBinary(ChannelState& channel, const Command& command);
    SecureBytes readRecord(ChannelState& channel, const Command& command);
    SecureBytes verify(const Command& command);
    SecureBytes unblock(const Command& command);
    SecureBytes manageChannel(ChannelState& channel, int number, const Command& command);
    SecureBytes getResponse(ChannelState& channel, const Command& command);
    SecureBytes authenticate(ChannelState& channel, const Command& command);
    SecureBytes faultyAuthenticate(ChannelState& channel, const Command& command);

    bool pinRequired() const { return pinEnabled && !pinVerified; }
    uint8_t pinKeyReference() const { return pinKind == PinKind::Universal ? 0x11 : 0x01; }
    void powerCycle();

    Protocol protocol;
    bool logicalChannels;
    Fault fault;
    FileSystem files;
    std::unique_ptr<milenage::AkaAlgorithm> algorithm;
    SqnWindow sqn;

    // The one PIN that protects the applications: PIN 01, or the universal PIN (11) with
    // PIN 01 disabled.
    bool pinEnabled;
    PinKind pinKind;
    SecureBytes pin;  // ASCII digits padded with FF to 8 bytes
    int pinRetries;
    int pinRetriesMax;
    bool pinVerified = false;
    SecureBytes puk;  // 8 ASCII digits
    int pukRetries;
    int pukRetriesMax;

    bool powered = false;
    std::array<std::optional<ChannelState>, kChannelCount> channels;
};

}  // namespace imsaka::vicc
