#include "access.h"

#include <grp.h>
#include <pwd.h>
#include <sdbus-c++/sdbus-c++.h>

#include <vector>

namespace imsaka::daemon {

bool userInGroup(uid_t uid, const std::string& group) {
    std::vector<char> buffer(16384);
    struct group groupEntry;
    struct group* foundGroup = nullptr;
    if (getgrnam_r(group.c_str(), &groupEntry, buffer.data(), buffer.size(), &foundGroup) != 0 ||
        !foundGroup)
        return false;
    gid_t gid = foundGroup->gr_gid;

    std::vector<char> userBuffer(16384);
    struct passwd user;
    struct passwd* foundUser = nullptr;
    if (getpwuid_r(uid, &user, userBuffer.data(), userBuffer.size(), &foundUser) != 0 || !foundUser)
        return false;
    if (foundUser->pw_gid == gid) return true;
    int count = 64;
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (getgrouplist(foundUser->pw_name, foundUser->pw_gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<size_t>(count));
        if (getgrouplist(foundUser->pw_name, foundUser->pw_gid, groups.data(), &count) < 0)
            return false;
    }
    groups.resize(static_cast<size_t>(count));
    for (gid_t member : groups)
        if (member == gid) return true;
    return false;
}

bool mayRegister(uid_t uid, const DaemonConfig& config) {
    return uid == 0 || userInGroup(uid, config.group);
}

namespace {

bool allowed(uid_t uid, AuthenticateAccess access, const DaemonConfig& config) {
    if (uid == 0) return true;
    return access == AuthenticateAccess::Group && userInGroup(uid, config.group);
}

}  // namespace

bool mayAuthenticate(uid_t uid, const DaemonConfig& config) {
    return allowed(uid, config.authenticate, config);
}

bool mayUsePin(uid_t uid, const DaemonConfig& config) {
    return allowed(uid, config.pin, config);
}

uid_t callerUid(sdbus::IConnection& connection, const std::string& sender) {
    auto bus = sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    uint32_t uid = 0;
    bus->callMethod("GetConnectionUnixUser")
        .onInterface("org.freedesktop.DBus")
        .withArguments(sender)
        .storeResultsTo(uid);
    return uid;
}

}  // namespace imsaka::daemon
