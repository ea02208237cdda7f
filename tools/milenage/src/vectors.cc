// The network side: authentication vectors and AUTS, over any AkaAlgorithm.
#include <imsaka/milenage/milenage.h>
#include <openssl/rand.h>

#include "checks.h"

namespace imsaka::milenage {
namespace {

const uint8_t kResyncAmf[kAmfLength] = {0, 0};

}  // namespace

uint64_t sqnToInt(ByteView sqn) {
    requireLength(sqn, kSqnLength, "SQN");
    uint64_t value = 0;
    for (uint8_t byte : sqn) value = (value << 8) | byte;
    return value;
}

Bytes sqnFromInt(uint64_t value) {
    Bytes sqn(kSqnLength);
    for (size_t i = kSqnLength; i-- > 0;) {
        sqn[i] = static_cast<uint8_t>(value & 0xff);
        value >>= 8;
    }
    return sqn;
}

AuthVector generateVector(const AkaAlgorithm& algorithm, ByteView sqn, ByteView amf,
                          std::optional<ByteView> rand) {
    requireLength(sqn, kSqnLength, "SQN");
    requireLength(amf, kAmfLength, "AMF");
    AuthVector vector;
    if (rand) {
        requireLength(*rand, kRandLength, "RAND");
        vector.rand.assign(rand->begin(), rand->end());
    } else {
        vector.rand.resize(kRandLength);
        if (RAND_bytes(vector.rand.data(), static_cast<int>(kRandLength)) != 1) {
            throw MilenageError(MilenageError::Code::Crypto, "RAND_bytes failed");
        }
    }
    ResponseKeys keys = algorithm.f2345(vector.rand);
    SecureBytes mac = algorithm.f1(vector.rand, sqn, amf);
    vector.autn.reserve(kAutnLength);
    for (size_t i = 0; i < kSqnLength; ++i) vector.autn.push_back(sqn[i] ^ keys.ak[i]);
    vector.autn.insert(vector.autn.end(), amf.begin(), amf.end());
    vector.autn.insert(vector.autn.end(), mac.begin(), mac.end());
    vector.xres = std::move(keys.res);
    vector.ck = std::move(keys.ck);
    vector.ik = std::move(keys.ik);
    vector.ak = std::move(keys.ak);
    return vector;
}

Bytes buildAuts(const AkaAlgorithm& algorithm, ByteView rand, ByteView sqnMs) {
    requireLength(sqnMs, kSqnLength, "SQN_MS");
    SecureBytes akStar = algorithm.f5star(rand);
    SecureBytes macS = algorithm.f1star(rand, sqnMs, kResyncAmf);
    Bytes auts;
    auts.reserve(kAutsLength);
    for (size_t i = 0; i < kSqnLength; ++i) auts.push_back(sqnMs[i] ^ akStar[i]);
    auts.insert(auts.end(), macS.begin(), macS.end());
    return auts;
}

AutsResult decodeAuts(const AkaAlgorithm& algorithm, ByteView rand, ByteView auts) {
    requireLength(rand, kRandLength, "RAND");
    requireLength(auts, kAutsLength, "AUTS");
    SecureBytes akStar = algorithm.f5star(rand);
    AutsResult result;
    result.sqnMs.resize(kSqnLength);
    for (size_t i = 0; i < kSqnLength; ++i) result.sqnMs[i] = auts[i] ^ akStar[i];
    SecureBytes expected = algorithm.f1star(rand, result.sqnMs, kResyncAmf);
    result.macValid = CRYPTO_memcmp(expected.data(), auts.data() + kSqnLength, kMacLength) == 0;
    return result;
}

}  // namespace imsaka::milenage
