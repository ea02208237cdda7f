#include "sqn_window.h"

namespace imsaka::vicc {
namespace {

uint64_t seqOf(uint64_t sqn) {
    return sqn >> SqnWindow::kIndBits;
}
size_t indOf(uint64_t sqn) {
    return static_cast<size_t>(sqn & (SqnWindow::kSlots - 1));
}

}  // namespace

SqnWindow::SqnWindow(uint64_t initialSqn, uint64_t delta) : highest_(initialSqn), delta_(delta) {
    seqMs_[indOf(initialSqn)] = seqOf(initialSqn);
}

bool SqnWindow::isFresh(uint64_t sqn) const {
    uint64_t seq = seqOf(sqn);
    uint64_t highestSeq = seqOf(highest_);
    bool newerInSlot = seq > seqMs_[indOf(sqn)];
    bool withinDelta = seq <= highestSeq || seq - highestSeq <= delta_;
    return newerInSlot && withinDelta;
}

void SqnWindow::accept(uint64_t sqn) {
    seqMs_[indOf(sqn)] = seqOf(sqn);
    if (sqn > highest_) highest_ = sqn;
}

}  // namespace imsaka::vicc
