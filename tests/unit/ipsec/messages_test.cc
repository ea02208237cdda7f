// The XFRM requests as bytes: what the kernel will see, checked without a kernel.
#include "messages.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace imsaka::ipsec::detail {
namespace {

const Bytes kAuthKey(20, 0xab);
const Bytes kCryptKey(16, 0xcd);

SaDescription sampleSa() {
    SaDescription sa;
    sa.flow.source = IpAddress::fromText("10.0.0.1");
    sa.flow.destination = IpAddress::fromText("10.0.0.2");
    sa.flow.sourcePort = 5100;
    sa.flow.destinationPort = 5200;
    sa.spi = 0x1234;
    sa.reqid = 0x494d0001;
    sa.integrity = Integrity::HmacSha1_96;
    sa.encryption = Encryption::AesCbc;
    sa.integrityKey = kAuthKey;
    sa.encryptionKey = kCryptKey;
    sa.lifetime = {240, 0};
    return sa;
}

TEST(SaMessage, CarriesSelectorSpiReqidAndTransportMode) {
    Message message = saMessage(sampleSa(), false);
    EXPECT_EQ(message.type(), XFRM_MSG_NEWSA);
    const auto* info = payloadOf<xfrm_usersa_info>(message.bytes());
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(ntohl(info->id.spi), 0x1234u);
    EXPECT_EQ(info->id.proto, IPPROTO_ESP);
    EXPECT_EQ(info->reqid, 0x494d0001u);
    EXPECT_EQ(info->mode, XFRM_MODE_TRANSPORT);
    EXPECT_EQ(info->family, AF_INET);
    EXPECT_EQ(ntohs(info->sel.sport), 5100);
    EXPECT_EQ(ntohs(info->sel.dport), 5200);
    EXPECT_EQ(info->sel.sport_mask, 0xffff);
    EXPECT_EQ(info->sel.prefixlen_d, 32);
    EXPECT_EQ(info->sel.proto, 0) << "UDP and TCP both need the SA";
}

TEST(SaMessage, SetsInfiniteByteAndPacketLimitsAndTheGivenTime) {
    Message message = saMessage(sampleSa(), true);
    EXPECT_EQ(message.type(), XFRM_MSG_UPDSA);
    const auto* info = payloadOf<xfrm_usersa_info>(message.bytes());
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->lft.hard_byte_limit, XFRM_INF);
    EXPECT_EQ(info->lft.soft_byte_limit, XFRM_INF);
    EXPECT_EQ(info->lft.hard_packet_limit, XFRM_INF);
    EXPECT_EQ(info->lft.soft_packet_limit, XFRM_INF);
    EXPECT_EQ(info->lft.hard_add_expires_seconds, 240u);
    EXPECT_EQ(info->lft.soft_add_expires_seconds, 0u);
}

TEST(SaMessage, CarriesTruncatedAuthAndCipherWithTheirKeys) {
    Message message = saMessage(sampleSa(), false);
    bool sawAuth = false, sawCrypt = false;
    forEachAttribute(message.bytes(), sizeof(xfrm_usersa_info),
                     [&](uint16_t type, const uint8_t* data, size_t size) {
                         if (type == XFRMA_ALG_AUTH_TRUNC) {
                             xfrm_algo_auth auth;
                             std::memcpy(&auth, data, sizeof auth);
                             EXPECT_STREQ(auth.alg_name, "hmac(sha1)");
                             EXPECT_EQ(auth.alg_key_len, 160u);
                             EXPECT_EQ(auth.alg_trunc_len, 96u);
                             ASSERT_EQ(size, sizeof auth + 20);
                             EXPECT_EQ(data[sizeof auth], 0xab);
                             sawAuth = true;
                         } else if (type == XFRMA_ALG_CRYPT) {
                             xfrm_algo crypt;
                             std::memcpy(&crypt, data, sizeof crypt);
                             EXPECT_STREQ(crypt.alg_name, "cbc(aes)");
                             EXPECT_EQ(crypt.alg_key_len, 128u);
                             ASSERT_EQ(size, sizeof crypt + 16);
                             sawCrypt = true;
                         }
                     });
    EXPECT_TRUE(sawAuth);
    EXPECT_TRUE(sawCrypt);
}

TEST(SaMessage, NullEncryptionStillNamesTheNullCipher) {
    SaDescription sa = sampleSa();
    sa.encryption = Encryption::Null;
    sa.encryptionKey = {};
    bool sawNull = false;
    forEachAttribute(saMessage(sa, false).bytes(), sizeof(xfrm_usersa_info),
                     [&](uint16_t type, const uint8_t* data, size_t) {
                         if (type != XFRMA_ALG_CRYPT) return;
                         xfrm_algo crypt;
                         std::memcpy(&crypt, data, sizeof crypt);
                         sawNull = std::string(crypt.alg_name) == "ecb(cipher_null)" &&
                                   crypt.alg_key_len == 0;
                     });
    EXPECT_TRUE(sawNull);
}

TEST(PolicyMessage, HasOneTransportTemplateWithTheReqidAndAllAlgorithms) {
    PolicyDescription policy;
    policy.flow.source = IpAddress::fromText("fd00::1");
    policy.flow.destination = IpAddress::fromText("fd00::2");
    policy.flow.sourcePort = 5100;
    policy.flow.destinationPort = 5200;
    policy.direction = XFRM_POLICY_IN;
    policy.reqid = 0x494d0007;
    Message message = policyMessage(policy);
    auto parsed = parsePolicy(message.bytes());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->direction, XFRM_POLICY_IN);
    ASSERT_EQ(parsed->templateReqids, std::vector<uint32_t>{0x494d0007});
    const auto* info = payloadOf<xfrm_userpolicy_info>(message.bytes());
    EXPECT_EQ(info->sel.family, AF_INET6);
    EXPECT_EQ(info->sel.prefixlen_s, 128);
    EXPECT_EQ(info->lft.hard_packet_limit, XFRM_INF);
    forEachAttribute(message.bytes(), sizeof *info, [](uint16_t type, const uint8_t* data, size_t) {
        if (type != XFRMA_TMPL) return;
        xfrm_user_tmpl tmpl;
        std::memcpy(&tmpl, data, sizeof tmpl);
        EXPECT_EQ(tmpl.mode, XFRM_MODE_TRANSPORT);
        EXPECT_EQ(tmpl.id.proto, IPPROTO_ESP);
        EXPECT_EQ(tmpl.aalgos, ~0u);
        EXPECT_EQ(tmpl.ealgos, ~0u);
        EXPECT_EQ(tmpl.optional, 0);
    });
}

TEST(AllocSpiMessage, AsksForTheConfiguredRange) {
    Message message = allocSpiMessage(IpAddress::fromText("10.0.0.2"),
                                      IpAddress::fromText("10.0.0.1"), 0x494d0002, 256, 4096);
    EXPECT_EQ(message.type(), XFRM_MSG_ALLOCSPI);
    const auto* request = payloadOf<xfrm_userspi_info>(message.bytes());
    ASSERT_NE(request, nullptr);
    EXPECT_EQ(request->min, 256u);
    EXPECT_EQ(request->max, 4096u);
    EXPECT_EQ(request->info.reqid, 0x494d0002u);
    EXPECT_EQ(IpAddress::fromBytes(
                  AF_INET, std::span(reinterpret_cast<const uint8_t*>(&request->info.id.daddr), 4)),
              IpAddress::fromText("10.0.0.1"));
}

TEST(ParseExpire, ReadsSpiReqidAndHardFlag) {
    SecureBytes message(kMessageHeaderSize + sizeof(xfrm_user_expire), 0);
    nlmsghdr header{static_cast<uint32_t>(message.size()), XFRM_MSG_EXPIRE, 0, 0, 0};
    std::memcpy(message.data(), &header, sizeof header);
    xfrm_user_expire expire{};
    expire.state.id.spi = htonl(777);
    expire.state.family = AF_INET;
    expire.state.reqid = 42;
    expire.hard = 1;
    std::memcpy(message.data() + kMessageHeaderSize, &expire, sizeof expire);
    auto event = parseExpire(message);
    ASSERT_TRUE(event);
    EXPECT_EQ(event->spi, 777u);
    EXPECT_EQ(event->reqid, 42u);
    EXPECT_TRUE(event->hard);
}

TEST(ParseSa, RejectsTruncatedMessagesAndUnknownFamilies) {
    SecureBytes tooShort(kMessageHeaderSize + 10, 0);
    EXPECT_FALSE(parseSa(tooShort));
    SecureBytes noFamily(kMessageHeaderSize + sizeof(xfrm_usersa_info), 0);
    EXPECT_FALSE(parseSa(noFamily));
    EXPECT_FALSE(parseExpire(noFamily));
}

TEST(IpAddress, ParsesBothFamiliesAndRejectsNames) {
    EXPECT_EQ(IpAddress::fromText("192.0.2.1").family(), AF_INET);
    EXPECT_EQ(IpAddress::fromText("2001:db8::1").bytes().size(), 16u);
    EXPECT_EQ(IpAddress::fromText("2001:db8::1").toString(), "2001:db8::1");
    EXPECT_FALSE(IpAddress::parse("pcscf.example.net"));
    EXPECT_THROW(IpAddress::fromText("[::1]"), XfrmError);
}

TEST(ParsePolicy, IgnoresAnAttributeThatRunsPastTheMessage) {
    PolicyDescription policy;
    policy.flow.source = IpAddress::fromText("10.0.0.1");
    policy.flow.destination = IpAddress::fromText("10.0.0.2");
    policy.reqid = 9;
    SecureBytes bytes = policyMessage(policy).bytes();
    bytes.resize(bytes.size() - 8);  // cut into the template
    auto parsed = parsePolicy(bytes);
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->templateReqids.empty());
}

TEST(Message, LengthCoversPayloadAndAlignedAttributes) {
    Message message(XFRM_MSG_GETSA, 0, "test");
    message.appendFixed(uint8_t{1});
    message.attribute(XFRMA_MARK, uint16_t{2});
    nlmsghdr header;
    std::memcpy(&header, message.bytes().data(), sizeof header);
    EXPECT_EQ(header.nlmsg_len, message.bytes().size());
    EXPECT_EQ(header.nlmsg_len % 4, 0u);
    EXPECT_EQ(header.nlmsg_len, kMessageHeaderSize + 4 + kAttributeHeaderSize + 4);
    EXPECT_TRUE(header.nlmsg_flags & NLM_F_REQUEST);
}

TEST(XfrmErrorText, NamesTheOperationAndTheCode) {
    XfrmError error(XfrmErrorCode::KernelLacksEsp, "install SA A", "no ESP", 93);
    EXPECT_STREQ(error.what(), "install SA A: no ESP");
    EXPECT_EQ(error.systemError(), 93);
    EXPECT_STREQ(toString(error.code()), "kernel lacks ESP");
}

}  // namespace
}  // namespace imsaka::ipsec::detail
