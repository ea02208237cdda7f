#include "exit_status.h"

#include <gtest/gtest.h>

namespace imsaka::ctl {
namespace {

TEST(ExitStatus, DaemonNotRunningHasItsOwnStatus) {
    EXPECT_EQ(exitStatusFor("org.freedesktop.DBus.Error.ServiceUnknown"), kNoDaemon);
    EXPECT_EQ(exitStatusFor("org.freedesktop.DBus.Error.NameHasNoOwner"), kNoDaemon);
    EXPECT_EQ(exitStatusFor("org.freedesktop.DBus.Error.Spawn.ChildExited"), kNoDaemon);
}

TEST(ExitStatus, MapsTheDaemonsNamedErrors) {
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.NotFound"), kNotFound);
    EXPECT_EQ(exitStatusFor("org.freedesktop.DBus.Error.UnknownObject"), kNotFound);
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.NotAllowed"), kNotAllowed);
    EXPECT_EQ(exitStatusFor("org.freedesktop.DBus.Error.AccessDenied"), kNotAllowed);
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.InvalidArguments"), kUsage);
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.WrongPin"), kPin);
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.PinBlocked"), kPin);
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.WrongPuk"), kPin);
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.PukBlocked"), kPin);
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.CardAbsent"), kError);
    EXPECT_EQ(exitStatusFor("org.imsaka.Error.KernelError"), kError);
    EXPECT_EQ(exitStatusFor(""), kError);
}

}  // namespace
}  // namespace imsaka::ctl
