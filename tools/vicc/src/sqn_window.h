// SQN freshness as a USIM keeps it (TS 33.102 Annex C.2.2): SQN = SEQ || IND with a
// 5-bit IND, one SEQ_MS per IND slot, and a delta limit on how far ahead of the
// highest accepted SEQ a new one may jump.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace imsaka::vicc {

class SqnWindow {
  public:
    static constexpr int kIndBits = 5;
    static constexpr size_t kSlots = size_t{1} << kIndBits;

    // `initialSqn` counts as accepted already.
    SqnWindow(uint64_t initialSqn, uint64_t delta);

    bool isFresh(uint64_t sqn) const;
    void accept(uint64_t sqn);
    // SQN_MS for AUTS: the highest SQN accepted so far.
    uint64_t highest() const { return highest_; }

  private:
    std::array<uint64_t, kSlots> seqMs_{};
    uint64_t highest_;
    uint64_t delta_;
};

}  // namespace imsaka::vicc
