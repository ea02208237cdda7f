// Who may do what, from the caller's credentials (the bus policy admits root and the
// configured group; these checks do not rely on it).
#pragma once

#include <sdbus-c++/Message.h>
#include <sys/types.h>

#include <string>

#include "imsaka/daemon/config.h"

namespace imsaka::daemon {

// The uid of a message's sender. Reading it may take a file descriptor (sd-bus reads /proc):
// with none left, DaemonError(FileDescriptorsExhausted).
uid_t callerUid(const sdbus::Message& message);

// Whether the user is in the group, as primary or supplementary group.
bool userInGroup(uid_t uid, const std::string& group);
// Raw Card1.Authenticate: root, or the configured group when [access] authenticate=group.
bool mayAuthenticate(uid_t uid, const DaemonConfig& config);
// Card1.VerifyPin and UnblockPin: root, or the configured group when [access] pin=group.
bool mayUsePin(uid_t uid, const DaemonConfig& config);

}  // namespace imsaka::daemon
