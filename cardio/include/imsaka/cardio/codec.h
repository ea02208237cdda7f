// Pure decoders of what a UICC returns: TLVs, FCP templates, EF_DIR records, the
// ISIM/USIM identity files and the AUTHENTICATE response. No I/O; malformed input is
// a CardError(MalformedResponse) naming what was being read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imsaka/cardio/types.h"
#include "imsaka/common/bytes.h"

namespace imsaka::cardio {

inline constexpr uint8_t kUsimAidPrefix[] = {0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02};
inline constexpr uint8_t kIsimAidPrefix[] = {0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x04};

struct Tlv {
    uint8_t tag = 0;
    ByteView value;
};

// Consecutive one-byte-tag BER-TLVs (lengths in short form, 81 xx or 82 xx xx). Parsing
// stops at FF padding. `what` names the data for errors.
std::vector<Tlv> parseTlvs(ByteView data, std::string_view what);
std::optional<ByteView> findTlv(const std::vector<Tlv>& tlvs, uint8_t tag);

struct FileControl {
    enum class Structure { Transparent, LinearFixed, Cyclic, Dedicated, Unknown };
    Structure structure = Structure::Unknown;
    std::optional<uint16_t> fileId;
    size_t recordLength = 0;
    size_t recordCount = 0;
    std::optional<size_t> fileSize;
    Bytes aid;                        // tag 84, for an ADF
    std::optional<PinReference> pin;  // from the PIN status template (C6), for an ADF
};
FileControl parseFcp(ByteView data);

// One EF_DIR record; nothing for an unused (all FF) record.
std::optional<Application> parseDirRecord(ByteView record);
AppType classifyAid(ByteView aid);

// A transparent or record EF holding `80 L text` (IMPI, home domain, IMPU records);
// nothing for an unused record.
std::optional<std::string> parseTextFile(ByteView data, std::string_view what);

// An EF_P-CSCF record (`80 L type address`). Addresses are accepted binary (4 or 16
// bytes), binary after a filler byte, or as text. Nothing for an unused record.
std::optional<PcscfAddress> parsePcscfRecord(ByteView record);

// EF_IMSI: length byte, then BCD digits with the parity nibble first.
std::string parseImsi(ByteView data);
// EF_AD: the MNC length (2 or 3) in the low nibble of byte 4; nothing when absent.
std::optional<int> parseMncLength(ByteView data);

// TS 23.003 clause 13: IMPI, temporary IMPU and home domain from the IMSI alone.
Identities deriveIdentitiesFromImsi(const std::string& imsi, int mncLength);

// The data of a successful AUTHENTICATE (`DB ...` or `DC ...`).
AuthResult parseAuthenticateResponse(ByteView data);

}  // namespace imsaka::cardio
