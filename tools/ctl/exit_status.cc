#include "exit_status.h"

namespace imsaka::ctl {

ExitStatus exitStatusFor(std::string_view name) {
    // The bus answers for a name nobody owns (and that activation could not start).
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
        name == "org.freedesktop.DBus.Error.NoServer" ||
        name.starts_with("org.freedesktop.DBus.Error.Spawn."))
        return kNoDaemon;
    if (name == "org.imsaka.Error.NotFound" || name == "org.freedesktop.DBus.Error.UnknownObject")
        return kNotFound;
    if (name == "org.imsaka.Error.NotAllowed" || name == "org.freedesktop.DBus.Error.AccessDenied")
        return kNotAllowed;
    if (name == "org.imsaka.Error.InvalidArguments") return kUsage;
    if (name == "org.imsaka.Error.WrongPin" || name == "org.imsaka.Error.PinBlocked" ||
        name == "org.imsaka.Error.WrongPuk" || name == "org.imsaka.Error.PukBlocked")
        return kPin;
    return kError;
}

}  // namespace imsaka::ctl
