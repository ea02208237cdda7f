#include "netlink.h"

#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>

#include "imsaka/ipsec/error.h"

namespace imsaka::ipsec::detail {
namespace {

constexpr size_t kReceiveBufferSize = 64 * 1024;
constexpr int kSocketBufferSize = 1024 * 1024;
// Acknowledgements of one write must fit the receive buffer; larger jobs go in slices.
constexpr size_t kMessagesPerWrite = 128;

[[noreturn]] void socketFailure(const std::string& where, int error) {
    throw XfrmError(XfrmErrorCode::Netlink, where, std::strerror(error), error);
}

nlmsghdr headerAt(const uint8_t* data) {
    nlmsghdr header;
    std::memcpy(&header, data, sizeof header);
    return header;
}

// Splits a datagram into its messages; stops at the first malformed one.
template <typename Visit>
void forEachMessage(const SecureBytes& buffer, size_t length, Visit visit) {
    size_t offset = 0;
    while (offset + kMessageHeaderSize <= length) {
        nlmsghdr header = headerAt(buffer.data() + offset);
        if (header.nlmsg_len < kMessageHeaderSize || offset + header.nlmsg_len > length) return;
        visit(header, buffer.data() + offset);
        offset += align4(header.nlmsg_len);
    }
}

// The errno and extended ack text of an NLMSG_ERROR message (acks are capped: the
// request is not echoed, so keys never come back).
void readError(const nlmsghdr& header, const uint8_t* data, Reply& reply) {
    if (header.nlmsg_len < kMessageHeaderSize + sizeof(nlmsgerr)) {
        reply.error = EPROTO;
        return;
    }
    nlmsgerr error;
    std::memcpy(&error, data + kMessageHeaderSize, sizeof error);
    reply.error = -error.error;
    if (!(header.nlmsg_flags & NLM_F_ACK_TLVS)) return;
    SecureBytes copy(data, data + header.nlmsg_len);
    size_t fixed = sizeof(nlmsgerr);
    if (!(header.nlmsg_flags & NLM_F_CAPPED)) fixed += error.msg.nlmsg_len - kMessageHeaderSize;
    forEachAttribute(copy, fixed, [&](uint16_t type, const uint8_t* value, size_t size) {
        if (type == NLMSGERR_ATTR_MSG && size > 0)
            reply.explanation.assign(reinterpret_cast<const char*>(value), size - 1);
    });
}

}  // namespace

Message::Message(uint16_t type, uint16_t flags, std::string what)
    : bytes_(kMessageHeaderSize, 0), what_(std::move(what)) {
    nlmsghdr header{};
    header.nlmsg_len = kMessageHeaderSize;
    header.nlmsg_type = type;
    header.nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST);
    std::memcpy(bytes_.data(), &header, sizeof header);
}

void Message::appendAligned(const void* data, size_t size) {
    const auto* begin = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), begin, begin + size);
    bytes_.resize(align4(bytes_.size()), 0);
    uint32_t length = static_cast<uint32_t>(bytes_.size());
    std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof length);
}

void Message::attribute(uint16_t type, const void* data, size_t size) {
    nlattr header{static_cast<uint16_t>(kAttributeHeaderSize + size), type};
    const auto* raw = reinterpret_cast<const uint8_t*>(&header);
    bytes_.insert(bytes_.end(), raw, raw + sizeof header);
    appendAligned(data, size);
}

uint16_t Message::type() const {
    return headerAt(bytes_.data()).nlmsg_type;
}

Channel::Channel(uint32_t group) : buffer_(kReceiveBufferSize) {
    socket_ = nl_socket_alloc();
    if (!socket_) socketFailure("netlink socket", ENOMEM);
    nl_socket_disable_seq_check(socket_);
    int result = nl_connect(socket_, NETLINK_XFRM);
    if (result < 0) {
        nl_socket_free(socket_);
        throw XfrmError(XfrmErrorCode::Netlink, "netlink socket",
                        std::string("cannot open NETLINK_XFRM: ") + nl_geterror(result));
    }
    nl_socket_set_buffer_size(socket_, kSocketBufferSize, kSocketBufferSize);
    int on = 1;
    setsockopt(fd(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    setsockopt(fd(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    // The kernel answers at once; a silent socket is a failure, not a reason to hang.
    timeval timeout{5, 0};
    setsockopt(fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (group != 0 && nl_socket_add_membership(socket_, static_cast<int>(group)) < 0) {
        nl_socket_free(socket_);
        throw XfrmError(XfrmErrorCode::Netlink, "netlink socket", "cannot join XFRM group");
    }
}

Channel::~Channel() {
    nl_socket_free(socket_);
}

int Channel::fd() const {
    return nl_socket_get_fd(socket_);
}

size_t Channel::receive(int flags) {
    for (;;) {
        ssize_t length = recv(fd(), buffer_.data(), buffer_.size(), flags | MSG_TRUNC);
        if (length >= 0) {
            if (static_cast<size_t>(length) > buffer_.size())
                throw XfrmError(XfrmErrorCode::Netlink, "netlink receive", "answer truncated");
            return static_cast<size_t>(length);
        }
        if (errno == EINTR) continue;
        if ((flags & MSG_DONTWAIT) && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        socketFailure("netlink receive", errno);
    }
}

template <typename Visit>
size_t Channel::receiveMessages(int flags, Visit visit) {
    size_t length = receive(flags);
    struct Wipe {
        SecureBytes& buffer;
        size_t length;
        ~Wipe() { OPENSSL_cleanse(buffer.data(), length); }
    } wipe{buffer_, length};
    forEachMessage(buffer_, length, visit);
    return length;
}

std::vector<Reply> Channel::exchange(const std::vector<Message>& messages) {
    std::vector<Reply> replies(messages.size());
    for (size_t start = 0; start < messages.size(); start += kMessagesPerWrite) {
        size_t count = std::min(kMessagesPerWrite, messages.size() - start);
        uint32_t first = sequence_ + 1;
        SecureBytes batch;
        for (size_t i = 0; i < count; ++i) {
            const SecureBytes& bytes = messages[start + i].bytes();
            size_t offset = batch.size();
            batch.insert(batch.end(), bytes.begin(), bytes.end());
            nlmsghdr header = headerAt(batch.data() + offset);
            header.nlmsg_seq = ++sequence_;
            header.nlmsg_flags |= NLM_F_ACK;
            std::memcpy(batch.data() + offset, &header, sizeof header);
        }
        int sent = nl_sendto(socket_, batch.data(), batch.size());
        if (sent < 0) throw XfrmError(XfrmErrorCode::Netlink, "netlink send", nl_geterror(sent));
        size_t pending = count;
        while (pending > 0) {
            receiveMessages(0, [&](const nlmsghdr& header, const uint8_t* data) {
                uint32_t index = header.nlmsg_seq - first;
                if (header.nlmsg_seq < first || index >= count) return;  // a stale answer
                Reply& reply = replies[start + index];
                if (header.nlmsg_type == NLMSG_ERROR) {
                    readError(header, data, reply);
                    --pending;
                } else {
                    reply.messages.emplace_back(data, data + header.nlmsg_len);
                }
            });
        }
    }
    return replies;
}

std::vector<SecureBytes> Channel::dump(uint16_t type, const std::string& what) {
    Message request(type, NLM_F_DUMP, what);
    nlmsghdr header = headerAt(request.bytes().data());
    header.nlmsg_seq = ++sequence_;
    SecureBytes bytes = request.bytes();
    std::memcpy(bytes.data(), &header, sizeof header);
    int sent = nl_sendto(socket_, bytes.data(), bytes.size());
    if (sent < 0) throw XfrmError(XfrmErrorCode::Netlink, what, nl_geterror(sent));
    std::vector<SecureBytes> messages;
    bool done = false;
    while (!done) {
        receiveMessages(0, [&](const nlmsghdr& answer, const uint8_t* data) {
            if (answer.nlmsg_seq != header.nlmsg_seq || done) return;
            if (answer.nlmsg_type == NLMSG_DONE) {
                done = true;
            } else if (answer.nlmsg_type == NLMSG_ERROR) {
                Reply reply;
                readError(answer, data, reply);
                if (reply.error != 0)
                    throw XfrmError(XfrmErrorCode::Netlink, what, std::strerror(reply.error),
                                    reply.error);
                done = true;
            } else {
                messages.emplace_back(data, data + answer.nlmsg_len);
            }
        });
    }
    return messages;
}

std::vector<SecureBytes> Channel::receivePending() {
    std::vector<SecureBytes> messages;
    for (;;) {
        size_t length;
        try {
            length =
                receiveMessages(MSG_DONTWAIT, [&](const nlmsghdr& header, const uint8_t* data) {
                    messages.emplace_back(data, data + header.nlmsg_len);
                });
        } catch (const XfrmError& error) {
            // An overrun loses events but leaves the socket usable; report what we have.
            if (error.systemError() == ENOBUFS) continue;
            throw;
        }
        if (length == 0) return messages;
    }
}

}  // namespace imsaka::ipsec::detail
