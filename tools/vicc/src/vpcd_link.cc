#include "vpcd_link.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace imsaka::vicc {

bool VpcdLink::connect(const std::string& host, const std::string& port, std::string& error) {
    close();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int status = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); status != 0) {
        error = gai_strerror(status);
        return false;
    }
    for (addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
        int fd = socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC,
                        candidate->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, candidate->ai_addr, candidate->ai_addrlen) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            fd_ = fd;
            break;
        }
        error = std::strerror(errno);
        ::close(fd);
    }
    freeaddrinfo(found);
    return fd_ >= 0;
}

void VpcdLink::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool VpcdLink::readExactly(uint8_t* into, size_t count) {
    while (count > 0) {
        ssize_t got = ::recv(fd_, into, count, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        // vpcd writes a frame's length and payload separately with Nagle on: acknowledge at
        // once, or every APDU waits for our delayed ACK (about 40 ms). The kernel clears
        // this flag again by itself, so it is set after every read.
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        into += got;
        count -= static_cast<size_t>(got);
    }
    return true;
}

std::optional<SecureBytes> VpcdLink::receive() {
    uint8_t header[2];
    if (!readExactly(header, sizeof header)) return std::nullopt;
    SecureBytes payload(static_cast<size_t>(header[0] << 8 | header[1]));
    if (!readExactly(payload.data(), payload.size())) return std::nullopt;
    return payload;
}

bool VpcdLink::send(ByteView payload) {
    if (payload.size() > 0xFFFF) return false;
    SecureBytes message{static_cast<uint8_t>(payload.size() >> 8),
                        static_cast<uint8_t>(payload.size() & 0xff)};
    message.insert(message.end(), payload.begin(), payload.end());
    size_t sent = 0;
    while (sent < message.size()) {
        ssize_t wrote = ::send(fd_, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote <= 0) return false;
        sent += static_cast<size_t>(wrote);
    }
    return true;
}

}  // namespace imsaka::vicc
