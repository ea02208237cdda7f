#include "imsaka/daemon/errors.h"

#include <gtest/gtest.h>

#include <set>

#include "imsaka/cardio/error.h"
#include "imsaka/daemon/config.h"
#include "imsaka/daemon/engine.h"
#include "imsaka/ipsec/error.h"
#include "imsaka/sip/sec_agree.h"

namespace imsaka::daemon {
namespace {

template <typename Error>
DaemonErrc classOf(const Error& error) {
    return classify(std::make_exception_ptr(error)).code();
}

TEST(ErrorNames, EveryCodeHasItsOwnNameUnderTheProjectPrefix) {
    std::set<std::string> names;
    for (int code = 0; code <= static_cast<int>(DaemonErrc::Failed); ++code) {
        auto name = std::string(dbusErrorName(static_cast<DaemonErrc>(code)));
        EXPECT_TRUE(name.starts_with("org.imsaka.Error.")) << name;
        names.insert(name);
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(DaemonErrc::Failed) + 1);
    EXPECT_EQ(dbusErrorName(DaemonErrc::CardAbsent), "org.imsaka.Error.CardAbsent");
    EXPECT_EQ(dbusErrorName(DaemonErrc::QuotaExceeded), "org.imsaka.Error.QuotaExceeded");
    EXPECT_EQ(dbusErrorName(DaemonErrc::PortsUnavailable), "org.imsaka.Error.PortsUnavailable");
    EXPECT_EQ(dbusErrorName(DaemonErrc::OutboundNotAccepted),
              "org.imsaka.Error.OutboundNotAccepted");
}

TEST(ErrorMapping, CardErrorsMapToTheirNames) {
    using cardio::CardErrc;
    using cardio::CardError;
    EXPECT_EQ(classOf(CardError(CardErrc::CardRemoved, "AUTHENTICATE")), DaemonErrc::CardAbsent);
    EXPECT_EQ(classOf(CardError(CardErrc::NoCard, "connect")), DaemonErrc::CardAbsent);
    EXPECT_EQ(classOf(CardError(CardErrc::ReaderNotFound, "connect")), DaemonErrc::CardAbsent);
    EXPECT_EQ(classOf(CardError(CardErrc::PcscUnavailable, "context")),
              DaemonErrc::PcscUnavailable);
    EXPECT_EQ(classOf(CardError(CardErrc::PinRequired, "read")), DaemonErrc::PinRequired);
    EXPECT_EQ(classOf(CardError(CardErrc::PinBlocked, "verify")), DaemonErrc::PinBlocked);
    EXPECT_EQ(classOf(CardError(CardErrc::WrongPin, "verify")), DaemonErrc::WrongPin);
    EXPECT_EQ(classOf(CardError(CardErrc::MacFailure, "AUTHENTICATE")), DaemonErrc::MacFailure);
    EXPECT_EQ(classOf(CardError(CardErrc::InvalidArgument, "AUTHENTICATE")),
              DaemonErrc::InvalidArguments);
    EXPECT_EQ(classOf(CardError(CardErrc::MalformedResponse, "EF_DIR")), DaemonErrc::CardError);
    EXPECT_EQ(classOf(CardError(CardErrc::NoApplication, "EF_DIR")), DaemonErrc::CardError);
}

TEST(ErrorMapping, KernelErrorsAreKernelErrorsExceptBadArguments) {
    using ipsec::XfrmError;
    using ipsec::XfrmErrorCode;
    EXPECT_EQ(classOf(XfrmError(XfrmErrorCode::KernelLacksEsp, "install SA A", "no ESP")),
              DaemonErrc::KernelError);
    EXPECT_EQ(classOf(XfrmError(XfrmErrorCode::PermissionDenied, "allocate SPI", "EPERM")),
              DaemonErrc::KernelError);
    EXPECT_EQ(classOf(XfrmError(XfrmErrorCode::InvalidArgument, "install", "key length")),
              DaemonErrc::InvalidArguments);
}

TEST(ErrorMapping, EngineAndCodecErrorsKeepTheirMeaning) {
    EXPECT_EQ(classOf(EngineError(EngineErrc::WrongState, "no request outstanding")),
              DaemonErrc::WrongState);
    EXPECT_EQ(classOf(EngineError(EngineErrc::MalformedHeader, "Security-Server")),
              DaemonErrc::MalformedHeader);
    EXPECT_EQ(classOf(EngineError(EngineErrc::MalformedBody, "reginfo")),
              DaemonErrc::InvalidArguments);
    EXPECT_EQ(classOf(sip::SecAgreeError(sip::SecAgreeErrc::Empty, "empty", 0)),
              DaemonErrc::MalformedHeader);
}

TEST(ErrorMapping, DaemonErrorsPassThroughAndOthersAreFailed) {
    EXPECT_EQ(classOf(DaemonError(DaemonErrc::QuotaExceeded, "too many")),
              DaemonErrc::QuotaExceeded);
    auto failed = classify(std::make_exception_ptr(std::runtime_error("boom")));
    EXPECT_EQ(failed.code(), DaemonErrc::Failed);
    EXPECT_STREQ(failed.what(), "boom");
}

}  // namespace
}  // namespace imsaka::daemon
