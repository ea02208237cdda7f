// Who may do what, from the caller's credentials (the bus policy admits root and the
// configured group; these checks do not rely on it).
#pragma once

#include <sdbus-c++/IConnection.h>
#include <sys/types.h>

#include <string>

#include "imsaka/daemon/config.h"

namespace imsaka::daemon {

// Whether the user is in the group, as primary or supplementary group.
bool userInGroup(uid_t uid, const std::string& group);
// Registrations (Manager1.CreateRegistration): root and members of the access group.
bool mayRegister(uid_t uid, const DaemonConfig& config);
// Raw Card1.Authenticate: root, or the configured group when [access] authenticate=group.
bool mayAuthenticate(uid_t uid, const DaemonConfig& config);
// The uid of a bus client (its unique name) as the bus driver knows it. Not
// Message::getCredsUid(): sd-bus completes those credentials from /proc/<pid> of the caller,
// which the unit's ProtectProc=invisible hides (under systemd it failed with ENODATA), and
// the pid may be reused by then.
uid_t callerUid(sdbus::IConnection& connection, const std::string& sender);
// Card1.VerifyPin and UnblockPin: root, or the configured group when [access] pin=group.
bool mayUsePin(uid_t uid, const DaemonConfig& config);

}  // namespace imsaka::daemon
