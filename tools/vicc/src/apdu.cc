#include "apdu.h"

namespace imsaka::vicc {

std::optional<Command> parseCommand(ByteView apdu) {
    if (apdu.size() < 4) return std::nullopt;
    Command command{apdu[0], apdu[1], apdu[2], apdu[3], {}, std::nullopt};
    if (apdu.size() == 4) return command;
    size_t p3 = apdu[4];
    if (apdu.size() == 5) {
        command.le = p3 == 0 ? 256 : p3;
        return command;
    }
    // Lc 00 would announce an extended APDU, which this card does not take.
    if (p3 == 0 || (apdu.size() != 5 + p3 && apdu.size() != 6 + p3)) return std::nullopt;
    command.data.assign(apdu.begin() + 5, apdu.begin() + 5 + static_cast<std::ptrdiff_t>(p3));
    if (apdu.size() == 6 + p3) command.le = apdu[5 + p3] == 0 ? 256 : apdu[5 + p3];
    return command;
}

SecureBytes withStatus(ByteView data, uint16_t status) {
    SecureBytes out(data.begin(), data.end());
    out.push_back(static_cast<uint8_t>(status >> 8));
    out.push_back(static_cast<uint8_t>(status & 0xff));
    return out;
}

SecureBytes statusOnly(uint16_t status) {
    return withStatus({}, status);
}

std::optional<int> channelOf(uint8_t cla) {
    if (cla <= 0x03) return cla;
    if ((cla & 0xF0) == 0x40) return 4 + (cla & 0x0F);
    return std::nullopt;
}

}  // namespace imsaka::vicc
