// A NETLINK_XFRM socket (libnl-3 opens and binds it) that sends requests in one batch and
// reads every answer. Buffers are wiped when freed: requests and dumps carry SA keys.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "imsaka/common/bytes.h"

struct nl_sock;

namespace imsaka::ipsec::detail {

// Netlink aligns messages and attributes to 4 bytes (the kernel macros trip -Wsign-conversion).
constexpr size_t align4(size_t size) {
    return (size + 3) & ~size_t{3};
}
constexpr size_t kMessageHeaderSize = align4(sizeof(nlmsghdr));
constexpr size_t kAttributeHeaderSize = align4(sizeof(nlattr));

// One netlink request under construction: header, fixed payload, then attributes.
class Message {
  public:
    Message(uint16_t type, uint16_t flags, std::string what);

    template <typename Fixed>
    void appendFixed(const Fixed& value) {
        appendAligned(&value, sizeof value);
    }
    template <typename Fixed>
    void attribute(uint16_t type, const Fixed& value) {
        attribute(type, &value, sizeof value);
    }
    void attribute(uint16_t type, const void* data, size_t size);

    uint16_t type() const;
    const std::string& what() const { return what_; }
    const SecureBytes& bytes() const { return bytes_; }

  private:
    void appendAligned(const void* data, size_t size);
    SecureBytes bytes_;
    std::string what_;
};

struct Reply {
    int error = 0;            // 0, or the errno the kernel answered
    std::string explanation;  // the kernel's extended ack message, when it gave one
    std::vector<SecureBytes> messages;
};

class Channel {
  public:
    // groups: a multicast group to join (XFRMNLGRP_*), or 0 for a request socket.
    explicit Channel(uint32_t group = 0);
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    int fd() const;
    // Sends all messages in one write (each asks for an acknowledgement) and returns one
    // reply per message, in order. Socket failures throw XfrmError(Netlink).
    std::vector<Reply> exchange(const std::vector<Message>& messages);
    // Runs a dump request of the given type and returns every message of the answer.
    std::vector<SecureBytes> dump(uint16_t type, const std::string& what);
    // Multicast messages waiting on the socket, read without blocking.
    std::vector<SecureBytes> receivePending();

  private:
    size_t receive(int flags);
    // Receives one datagram, calls visit(header, data) for each message in it, then wipes
    // the buffer (answers about SAs carry their keys). Returns the datagram's length.
    template <typename Visit>
    size_t receiveMessages(int flags, Visit visit);
    nl_sock* socket_ = nullptr;
    uint32_t sequence_ = 0;
    SecureBytes buffer_;
};

// The fixed payload of a message at the front of bytes, or nullptr when too short.
template <typename Fixed>
const Fixed* payloadOf(const SecureBytes& message) {
    if (message.size() < kMessageHeaderSize + sizeof(Fixed)) return nullptr;
    return reinterpret_cast<const Fixed*>(message.data() + kMessageHeaderSize);
}

// Calls visit(type, data, size) for each attribute after a fixed payload of fixedSize.
template <typename Visit>
void forEachAttribute(const SecureBytes& message, size_t fixedSize, Visit visit) {
    size_t offset = kMessageHeaderSize + align4(fixedSize);
    while (offset + kAttributeHeaderSize <= message.size()) {
        nlattr header;
        std::memcpy(&header, message.data() + offset, sizeof header);
        if (header.nla_len < kAttributeHeaderSize || offset + header.nla_len > message.size())
            return;
        visit(static_cast<uint16_t>(header.nla_type & NLA_TYPE_MASK),
              message.data() + offset + kAttributeHeaderSize,
              header.nla_len - kAttributeHeaderSize);
        offset += align4(header.nla_len);
    }
}

}  // namespace imsaka::ipsec::detail
