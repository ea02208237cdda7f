// Socket plumbing of the system simulator: addresses to and from sockaddr, binding, whole
// writes, and making a socket inside another network namespace.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <string>
#include <string_view>

#include "network.h"

namespace imsaka::conformance {

[[noreturn]] void systemError(const std::string& what);
bool isIpv6(const std::string& address);
sockaddr_storage toSockaddr(const Endpoint& endpoint, socklen_t& length);
Endpoint fromSockaddr(const sockaddr_storage& storage);
void reuseAddress(int fd);
void bindTo(int fd, const Endpoint& local);
void sendAll(int fd, std::string_view text);
// Runs make() with the calling thread inside /run/netns/NAME and returns what it returns
// (a socket, which stays in that namespace); the thread is back in its own afterwards.
int inNetworkNamespace(const std::string& netns, const std::function<int()>& make);

}  // namespace imsaka::conformance
