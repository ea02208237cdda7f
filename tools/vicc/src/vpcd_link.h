// The vpcd side of a virtual card: one TCP connection to the vpcd reader driver,
// messages framed as a 2-byte big-endian length and a payload, both ways.
#pragma once

#include <imsaka/common/bytes.h>

#include <optional>
#include <string>

namespace imsaka::vicc {

class VpcdLink {
  public:
    VpcdLink() = default;
    ~VpcdLink() { close(); }
    VpcdLink(const VpcdLink&) = delete;
    VpcdLink& operator=(const VpcdLink&) = delete;

    // False when vpcd does not accept (yet); errno-style detail in `error`.
    bool connect(const std::string& host, const std::string& port, std::string& error);
    void close();
    bool connected() const { return fd_ >= 0; }
    int fd() const { return fd_; }

    // One whole message; nothing when the connection has ended.
    std::optional<SecureBytes> receive();
    bool send(ByteView payload);

  private:
    bool readExactly(uint8_t* into, size_t count);
    int fd_ = -1;
};

}  // namespace imsaka::vicc
