#include "imsaka/cardio/transport.h"

#include "imsaka/cardio/error.h"

namespace imsaka::cardio {

SecureBytes Command::encode() const {
    SecureBytes apdu{cla, ins, p1, p2};
    if (!data.empty()) {
        if (data.size() > 255)
            throw CardError(CardErrc::InvalidArgument, "APDU encoding",
                            "command data over 255 bytes");
        apdu.push_back(static_cast<uint8_t>(data.size()));
        apdu.insert(apdu.end(), data.begin(), data.end());
    }
    if (le) apdu.push_back(static_cast<uint8_t>(*le & 0xFF));
    return apdu;
}

namespace {

// Bounds how many GET RESPONSE rounds one command may take: a card that answers 61xx
// for ever must not hang us.
constexpr int kMaxRounds = 64;

Response split(SecureBytes raw, const char* where) {
    if (raw.size() < 2)
        throw CardError(CardErrc::MalformedResponse, where, "response shorter than a status word");
    Response response;
    response.sw = static_cast<uint16_t>(raw[raw.size() - 2] << 8 | raw[raw.size() - 1]);
    raw.resize(raw.size() - 2);
    response.data = std::move(raw);
    return response;
}

}  // namespace

Response exchange(Transport& transport, const Command& command, uint64_t* exchanges) {
    auto send = [&](const Command& c, const char* where) {
        if (exchanges) ++*exchanges;
        return split(transport.transmit(c.encode()), where);
    };
    Response response = send(command, "APDU exchange");
    if (response.sw1() == 0x6C) {
        Command again = command;
        again.le = response.sw2();
        response = send(again, "APDU resend after 6Cxx");
        if (response.sw1() == 0x6C)
            throw CardError(CardErrc::MalformedResponse, "APDU resend after 6Cxx",
                            "card asked twice for another length", response.sw);
    }
    SecureBytes collected = std::move(response.data);
    for (int round = 0; response.sw1() == 0x61 || response.sw1() == 0x9F; ++round) {
        if (round == kMaxRounds)
            throw CardError(CardErrc::MalformedResponse, "GET RESPONSE", "card never finished",
                            response.sw);
        Command getResponse{
            .cla = command.cla, .ins = 0xC0, .p1 = 0, .p2 = 0, .data = {}, .le = response.sw2()};
        response = send(getResponse, "GET RESPONSE");
        if (response.sw1() == 0x6C) {
            getResponse.le = response.sw2();
            response = send(getResponse, "GET RESPONSE");
        }
        collected.insert(collected.end(), response.data.begin(), response.data.end());
    }
    response.data = std::move(collected);
    return response;
}

}  // namespace imsaka::cardio
