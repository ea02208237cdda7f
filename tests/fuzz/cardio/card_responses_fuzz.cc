// Feeds card answers to every decoder of the card part, to the APDU exchange rules and
// to a whole UICC session (EF_DIR, channel, identity files, PIN, AUTHENTICATE). The first
// byte picks the decoder; the rest is what the card "said". Any outcome but a
// CardError (a crash, a sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <deque>

#include "imsaka/cardio/codec.h"
#include "imsaka/cardio/error.h"
#include "imsaka/cardio/transport.h"
#include "imsaka/cardio/uicc.h"

namespace {

using namespace imsaka;
using namespace imsaka::cardio;

// A card that answers each command with the next slice of the input.
class FuzzedCard : public Transport {
  public:
    explicit FuzzedCard(ByteView input) : input_(input) {}
    SecureBytes transmit(ByteView) override {
        if (input_.empty()) return {0x90, 0x00};
        size_t length = std::min<size_t>(input_[0], input_.size() - 1);
        SecureBytes answer(input_.begin() + 1,
                           input_.begin() + 1 + static_cast<std::ptrdiff_t>(length));
        input_ = input_.subspan(1 + length);
        return answer;
    }

  private:
    ByteView input_;
};

void decode(uint8_t selector, ByteView data) {
    switch (selector % 10) {
        case 0:
            parseTlvs(data, "fuzz");
            break;
        case 1:
            parseFcp(data);
            break;
        case 2:
            parseDirRecord(data);
            break;
        case 3:
            parseTextFile(data, "fuzz");
            break;
        case 4:
            parsePcscfRecord(data);
            break;
        case 5:
            parseImsi(data);
            break;
        case 6:
            parseMncLength(data);
            break;
        case 7:
            parseAuthenticateResponse(data);
            break;
        case 8: {
            FuzzedCard card(data);
            exchange(card,
                     Command{.cla = 0x01, .ins = 0x88, .p1 = 0, .p2 = 0x81, .data = {}, .le = 0});
            break;
        }
        case 9: {
            // Sizes and record counts come from the card here: they must bound the work.
            FuzzedCard card(data);
            UiccSession session(card, {});
            session.open();
            session.pinStatus();
            session.readIdentities();
            const uint8_t challenge[16] = {};
            session.authenticate(challenge, challenge);
            break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    try {
        decode(data[0], ByteView(data + 1, size - 1));
    } catch (const CardError&) {
        // A named error is the expected answer to bad input.
    }
    return 0;
}
