// AUTHENTICATE in the 3G/IMS security context (TS 31.102 7.1.2, TS 33.102 6.3.3):
// the MAC is checked before anything else and a MAC failure changes nothing; a
// stale or too-far SQN gives a synchronisation failure with AUTS.
#include <openssl/rand.h>

#include "card_impl.h"

namespace imsaka::vicc {
namespace {

constexpr uint8_t kContext3g = 0x81;
constexpr size_t kAuthDataLength = 2 + milenage::kRandLength + milenage::kAutnLength;
constexpr uint8_t kTagSuccess = 0xDB;
constexpr uint8_t kTagSyncFailure = 0xDC;

void appendLv(SecureBytes& out, ByteView value) {
    out.push_back(static_cast<uint8_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
}

// GSM cipher key from the UMTS keys, conversion c3 (TS 33.102 6.8.1.2).
SecureBytes kcFrom(const SecureBytes& ck, const SecureBytes& ik) {
    SecureBytes kc(8);
    for (size_t i = 0; i < 8; ++i) kc[i] = ck[i] ^ ck[i + 8] ^ ik[i] ^ ik[i + 8];
    return kc;
}

SecureBytes randomBytes(size_t count) {
    SecureBytes out(count);
    if (RAND_bytes(out.data(), static_cast<int>(count)) != 1) out.assign(count, 0x5A);
    return out;
}

}  // namespace

SecureBytes Card::Impl::faultyAuthenticate(ChannelState& channel, const Command& command) {
    if (fault == Fault::UnknownSw) return statusOnly(sw::kUnknownSwFault);
    if (fault == Fault::GarbageAuth) {
        SecureBytes garbage = randomBytes(34);
        if (garbage[0] == kTagSuccess || garbage[0] == kTagSyncFailure) garbage[0] = 0x5A;
        return answer(channel, command, garbage);
    }
    // A success TLV that stops in the middle of CK.
    SecureBytes truncated{kTagSuccess, 0x08};
    SecureBytes filler = randomBytes(8 + 1 + 7);
    filler[8] = 0x10;
    truncated.insert(truncated.end(), filler.begin(), filler.end());
    return answer(channel, command, truncated);
}

SecureBytes Card::Impl::authenticate(ChannelState& channel, const Command& command) {
    if (command.p1 != 0x00) return statusOnly(sw::kBadP1P2);
    if (!channel.adf) return statusOnly(sw::kConditionsNotSatisfied);
    if (command.p2 != kContext3g) return statusOnly(sw::kContextNotSupported);
    const SecureBytes& data = command.data;
    if (data.size() != kAuthDataLength || data[0] != milenage::kRandLength ||
        data[1 + milenage::kRandLength] != milenage::kAutnLength) {
        return statusOnly(sw::kWrongLength);
    }
    if (pinRequired()) return statusOnly(sw::kSecurityNotSatisfied);
    if (fault != Fault::None) return faultyAuthenticate(channel, command);

    ByteView rand(data.data() + 1, milenage::kRandLength);
    ByteView autn(data.data() + 2 + milenage::kRandLength, milenage::kAutnLength);
    milenage::ResponseKeys keys = algorithm->f2345(rand);
    SecureBytes sqnBytes(milenage::kSqnLength);
    for (size_t i = 0; i < milenage::kSqnLength; ++i) sqnBytes[i] = autn[i] ^ keys.ak[i];
    ByteView amf = autn.subspan(milenage::kSqnLength, milenage::kAmfLength);
    ByteView mac = autn.subspan(milenage::kSqnLength + milenage::kAmfLength);
    SecureBytes expectedMac = algorithm->f1(rand, sqnBytes, amf);
    if (CRYPTO_memcmp(expectedMac.data(), mac.data(), mac.size()) != 0) {
        return statusOnly(sw::kMacFailure);
    }

    uint64_t sqnValue = milenage::sqnToInt(sqnBytes);
    SecureBytes out;
    if (!sqn.isFresh(sqnValue)) {
        Bytes auts = milenage::buildAuts(*algorithm, rand, milenage::sqnFromInt(sqn.highest()));
        out = {kTagSyncFailure};
        appendLv(out, auts);
        return answer(channel, command, out);
    }
    sqn.accept(sqnValue);
    out = {kTagSuccess};
    appendLv(out, keys.res);
    appendLv(out, keys.ck);
    appendLv(out, keys.ik);
    if (!channel.adf->isIsim) appendLv(out, kcFrom(keys.ck, keys.ik));
    return answer(channel, command, out);
}

}  // namespace imsaka::vicc
