// A pcscd that dies under a live Card: a named error, never a hang or a crash. Its own
// binary, because it ends the sandbox's pcscd.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "imsaka/cardio/card.h"
#include "imsaka/cardio/error.h"
#include "imsaka/testing/card_errors.h"
#include "virtual_card.h"

namespace imsaka::cardio {
namespace {

using imsaka::testing::errorOf;

TEST(PcscdGone, OperationsFailWithPcscUnavailable) {
    testing::VirtualCard virtualCard(testing::CardProfile{}, 35963);
    Card card({.reader = virtualCard.reader(), .session = {}});
    ASSERT_EQ(card.identities().source, AppType::Isim);

    pid_t pcscd = 0;
    std::ifstream("/run/pcscd/pcscd.pid") >> pcscd;
    ASSERT_GT(pcscd, 0) << "no pcscd pid file: not inside pcsc-sandbox.sh?";
    ASSERT_EQ(kill(pcscd, SIGKILL), 0);
    for (int i = 0; i < 50 && kill(pcscd, 0) == 0; ++i) usleep(20000);

    Bytes rand(16, 1), autn(16, 2);
    CardErrc during = errorOf([&] { card.authenticate(rand, autn); });
    EXPECT_TRUE(during == CardErrc::PcscUnavailable || during == CardErrc::CardRemoved)
        << toString(during);
    // Once the connection is dropped, a fresh attempt finds no pcscd at all.
    EXPECT_EQ(errorOf([&] { card.identities(); }), CardErrc::PcscUnavailable);
}

}  // namespace
}  // namespace imsaka::cardio
