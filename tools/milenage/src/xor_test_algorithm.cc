// TS 34.108 8.1.2: XDOUT = K xor RAND; RES = XDOUT; CK and IK are XDOUT rotated by
// one and two bytes; AK = XDOUT[3..8]; MAC = XDOUT[0..7] xor (SQN || AMF). The
// resynchronisation functions f1* and f5* are the same as f1 and f5.
#include <imsaka/milenage/milenage.h>

#include "checks.h"

namespace imsaka::milenage {
namespace {

SecureBytes rotated(const SecureBytes& block, size_t bytes) {
    SecureBytes out(block.size());
    for (size_t i = 0; i < block.size(); ++i) out[i] = block[(i + bytes) % block.size()];
    return out;
}

}  // namespace

XorTestAlgorithm::XorTestAlgorithm(ByteView k) {
    requireLength(k, kKeyLength, "K");
    k_ = secureCopy(k);
}

SecureBytes XorTestAlgorithm::xdout(ByteView rand) const {
    requireLength(rand, kRandLength, "RAND");
    SecureBytes out(kKeyLength);
    for (size_t i = 0; i < kKeyLength; ++i) out[i] = k_[i] ^ rand[i];
    return out;
}

SecureBytes XorTestAlgorithm::f1(ByteView rand, ByteView sqn, ByteView amf) const {
    requireLength(sqn, kSqnLength, "SQN");
    requireLength(amf, kAmfLength, "AMF");
    SecureBytes x = xdout(rand);
    SecureBytes mac(kMacLength);
    for (size_t i = 0; i < kSqnLength; ++i) mac[i] = x[i] ^ sqn[i];
    for (size_t i = 0; i < kAmfLength; ++i) mac[kSqnLength + i] = x[kSqnLength + i] ^ amf[i];
    return mac;
}

SecureBytes XorTestAlgorithm::f1star(ByteView rand, ByteView sqn, ByteView amf) const {
    return f1(rand, sqn, amf);
}

ResponseKeys XorTestAlgorithm::f2345(ByteView rand) const {
    SecureBytes x = xdout(rand);
    ResponseKeys keys;
    keys.res = x;
    keys.ck = rotated(x, 1);
    keys.ik = rotated(x, 2);
    keys.ak = SecureBytes(x.begin() + 3, x.begin() + 3 + kAkLength);
    return keys;
}

SecureBytes XorTestAlgorithm::f5star(ByteView rand) const {
    return f2345(rand).ak;
}

}  // namespace imsaka::milenage
