#include "imsaka/daemon/errors.h"

#include "imsaka/cardio/error.h"
#include "imsaka/daemon/config.h"
#include "imsaka/daemon/engine.h"
#include "imsaka/ipsec/error.h"
#include "imsaka/sip/digest.h"
#include "imsaka/sip/reginfo.h"
#include "imsaka/sip/sec_agree.h"

namespace imsaka::daemon {

namespace {

DaemonErrc fromCard(cardio::CardErrc code) {
    using cardio::CardErrc;
    switch (code) {
        case CardErrc::PcscUnavailable:
            return DaemonErrc::PcscUnavailable;
        case CardErrc::ReaderNotFound:
        case CardErrc::NoCard:
        case CardErrc::CardRemoved:
            return DaemonErrc::CardAbsent;
        case CardErrc::PinRequired:
            return DaemonErrc::PinRequired;
        case CardErrc::PinBlocked:
            return DaemonErrc::PinBlocked;
        case CardErrc::WrongPin:
            return DaemonErrc::WrongPin;
        case CardErrc::PinNotRequired:
        case CardErrc::PinNotBlocked:
            return DaemonErrc::WrongState;
        case CardErrc::WrongPuk:
            return DaemonErrc::WrongPuk;
        case CardErrc::PukBlocked:
            return DaemonErrc::PukBlocked;
        case CardErrc::MacFailure:
            return DaemonErrc::MacFailure;
        case CardErrc::InvalidArgument:
            return DaemonErrc::InvalidArguments;
        case CardErrc::CardReset:
        case CardErrc::PcscFailure:
        case CardErrc::NoApplication:
        case CardErrc::FileNotFound:
        case CardErrc::RecordNotFound:
        case CardErrc::ContextNotSupported:
        case CardErrc::UnexpectedStatus:
        case CardErrc::MalformedResponse:
            return DaemonErrc::CardError;
    }
    return DaemonErrc::CardError;
}

DaemonErrc fromXfrm(ipsec::XfrmErrorCode code) {
    switch (code) {
        case ipsec::XfrmErrorCode::InvalidArgument:
            return DaemonErrc::InvalidArguments;
        default:
            return DaemonErrc::KernelError;
    }
}

DaemonErrc fromEngine(EngineErrc code) {
    switch (code) {
        case EngineErrc::WrongState:
            return DaemonErrc::WrongState;
        case EngineErrc::MalformedHeader:
            return DaemonErrc::MalformedHeader;
        case EngineErrc::MalformedBody:  // the body given to HandleNotify
            return DaemonErrc::InvalidArguments;
        case EngineErrc::InvalidConfig:
            return DaemonErrc::InvalidArguments;
    }
    return DaemonErrc::Failed;
}

}  // namespace

std::string_view dbusErrorName(DaemonErrc code) {
    switch (code) {
        case DaemonErrc::InvalidArguments:
            return "org.imsaka.Error.InvalidArguments";
        case DaemonErrc::NotAllowed:
            return "org.imsaka.Error.NotAllowed";
        case DaemonErrc::NotFound:
            return "org.imsaka.Error.NotFound";
        case DaemonErrc::WrongState:
            return "org.imsaka.Error.WrongState";
        case DaemonErrc::QuotaExceeded:
            return "org.imsaka.Error.QuotaExceeded";
        case DaemonErrc::CardAbsent:
            return "org.imsaka.Error.CardAbsent";
        case DaemonErrc::PinRequired:
            return "org.imsaka.Error.PinRequired";
        case DaemonErrc::PinBlocked:
            return "org.imsaka.Error.PinBlocked";
        case DaemonErrc::WrongPin:
            return "org.imsaka.Error.WrongPin";
        case DaemonErrc::WrongPuk:
            return "org.imsaka.Error.WrongPuk";
        case DaemonErrc::PukBlocked:
            return "org.imsaka.Error.PukBlocked";
        case DaemonErrc::MacFailure:
            return "org.imsaka.Error.MacFailure";
        case DaemonErrc::CardError:
            return "org.imsaka.Error.CardError";
        case DaemonErrc::PcscUnavailable:
            return "org.imsaka.Error.PcscUnavailable";
        case DaemonErrc::MalformedHeader:
            return "org.imsaka.Error.MalformedHeader";
        case DaemonErrc::KernelError:
            return "org.imsaka.Error.KernelError";
        case DaemonErrc::PortsUnavailable:
            return "org.imsaka.Error.PortsUnavailable";
        case DaemonErrc::ResolutionFailed:
            return "org.imsaka.Error.ResolutionFailed";
        case DaemonErrc::FileDescriptorsExhausted:
            return "org.imsaka.Error.FileDescriptorsExhausted";
        case DaemonErrc::OutboundNotAccepted:
            return "org.imsaka.Error.OutboundNotAccepted";
        case DaemonErrc::Failed:
            return "org.imsaka.Error.Failed";
    }
    return "org.imsaka.Error.Failed";
}

DaemonError descriptorsExhausted(const std::string& what) {
    return DaemonError(DaemonErrc::FileDescriptorsExhausted,
                       "no file descriptor left for " + what +
                           ": the daemon is at its limit (LimitNOFILE), or the system at its own");
}

DaemonError classify(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const DaemonError& e) {
        return e;
    } catch (const cardio::CardError& e) {
        return DaemonError(fromCard(e.code()), e.what());
    } catch (const ipsec::XfrmError& e) {
        return DaemonError(fromXfrm(e.code()), e.what());
    } catch (const EngineError& e) {
        return DaemonError(fromEngine(e.code()), e.what());
    } catch (const sip::SecAgreeError& e) {
        return DaemonError(DaemonErrc::MalformedHeader, e.what());
    } catch (const sip::DigestError& e) {
        return DaemonError(DaemonErrc::MalformedHeader, e.what());
    } catch (const sip::ReginfoError& e) {
        return DaemonError(DaemonErrc::MalformedHeader, e.what());
    } catch (const ConfigError& e) {
        return DaemonError(DaemonErrc::InvalidArguments, e.what());
    } catch (const std::exception& e) {
        return DaemonError(DaemonErrc::Failed, e.what());
    } catch (...) {
        return DaemonError(DaemonErrc::Failed, "unknown failure");
    }
}

}  // namespace imsaka::daemon
