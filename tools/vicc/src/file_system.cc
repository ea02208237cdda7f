// File contents follow TS 31.102 (USIM), TS 31.103 (ISIM) and TS 102 221 (EF_DIR,
// EF_ICCID, FCP). Unused bytes are FF as on a personalised card.
#include "file_system.h"

#include <arpa/inet.h>

#include <algorithm>
#include <numeric>

namespace imsaka::vicc {
namespace {

const Bytes kIsimAid = {0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x04, 0xFF,
                        0x49, 0xFF, 0x02, 0x89, 0x00, 0x00, 0x00, 0xFF};
const Bytes kUsimAid = {0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF,
                        0x49, 0xFF, 0x05, 0x89, 0x00, 0x00, 0x00, 0xFF};

// Files a real card sizes at personalisation; these minimums leave room as one would.
constexpr size_t kMinTransparentSize = 32;
constexpr size_t kMinRecordLength = 32;

Bytes textBytes(std::string_view text) {
    return Bytes(text.begin(), text.end());
}

Bytes tlv(uint8_t tag, ByteView value) {
    Bytes out;
    appendTlv(out, tag, value);
    return out;
}

ElementaryFile transparent(uint16_t fid, Bytes content, size_t minSize = 0) {
    content.resize(std::max(content.size(), minSize), 0xFF);
    return ElementaryFile{fid, false, 0, std::move(content)};
}

ElementaryFile linearFixed(uint16_t fid, const std::vector<Bytes>& records) {
    size_t length = kMinRecordLength;
    for (const Bytes& record : records) length = std::max(length, record.size());
    ElementaryFile file{fid, true, length, {}};
    for (const Bytes& record : records) {
        Bytes padded = record;
        padded.resize(length, 0xFF);
        file.body.insert(file.body.end(), padded.begin(), padded.end());
    }
    if (records.empty()) file.body.assign(length, 0xFF);  // one unused record
    return file;
}

// Digits as BCD with the nibbles of each byte swapped, F-padded (TS 102 221 13.2).
Bytes swappedBcd(std::string_view digits) {
    Bytes out((digits.size() + 1) / 2, 0xFF);
    for (size_t i = 0; i < digits.size(); ++i) {
        auto digit = static_cast<uint8_t>(digits[i] - '0');
        uint8_t& byte = out[i / 2];
        byte = i % 2 == 0 ? static_cast<uint8_t>((byte & 0xF0) | digit)
                          : static_cast<uint8_t>((byte & 0x0F) | (digit << 4));
    }
    return out;
}

// TS 31.102 4.2.2: length byte, then the parity nibble (9 odd count of digits, 1
// even) followed by the digits, nibble-swapped.
Bytes imsiFile(const std::string& imsi) {
    std::string nibbles = (imsi.size() % 2 == 1 ? "9" : "1") + imsi;
    Bytes digits = swappedBcd(nibbles);
    Bytes out{static_cast<uint8_t>(digits.size())};
    out.insert(out.end(), digits.begin(), digits.end());
    out.resize(9, 0xFF);
    return out;
}

Bytes pcscfRecord(const PcscfAddress& address, PcscfEncoding encoding) {
    Bytes value{static_cast<uint8_t>(address.type)};
    bool binary = address.type != PcscfAddress::Type::Fqdn && encoding != PcscfEncoding::Text;
    if (!binary) {
        Bytes text = textBytes(address.text);
        value.insert(value.end(), text.begin(), text.end());
    } else {
        if (encoding == PcscfEncoding::Filler) value.push_back(0x00);
        unsigned char raw[16];
        bool v4 = address.type == PcscfAddress::Type::Ipv4;
        inet_pton(v4 ? AF_INET : AF_INET6, address.text.c_str(), raw);  // checked at load
        value.insert(value.end(), raw, raw + (v4 ? 4 : 16));
    }
    return tlv(0x80, value);
}

Bytes dirRecord(const Application& application) {
    Bytes value = tlv(0x4F, application.aid);
    appendTlv(value, 0x50, textBytes(application.label));
    return tlv(0x61, value);
}

Application isim(const Profile& profile) {
    Application app{kIsimAid, "ISIM", true, {}};
    std::vector<Bytes> impus, pcscfs;
    for (const std::string& impu : profile.impus) impus.push_back(tlv(0x80, textBytes(impu)));
    for (const PcscfAddress& address : profile.pcscfs) {
        pcscfs.push_back(pcscfRecord(address, profile.pcscfEncoding));
    }
    // IST (TS 31.103 4.2.7): service 1 is "P-CSCF address".
    Bytes ist{static_cast<uint8_t>(profile.pcscfs.empty() ? 0x00 : 0x01), 0x00};
    app.files = {
        transparent(0x6F02, tlv(0x80, textBytes(profile.impi)), kMinTransparentSize),
        transparent(0x6F03, tlv(0x80, textBytes(profile.domain)), kMinTransparentSize),
        linearFixed(0x6F04, impus),
        transparent(0x6F07, ist),
        linearFixed(0x6F09, pcscfs),
        transparent(0x6FAD, Bytes{0x00, 0x00, 0x00}),
    };
    return app;
}

Application usim(const Profile& profile) {
    Application app{kUsimAid, "USIM", false, {}};
    auto mncLength = static_cast<uint8_t>(profile.mncLength);
    app.files = {
        transparent(0x6F07, imsiFile(profile.imsi)),
        transparent(0x6FAD, Bytes{0x00, 0x00, 0x00, mncLength}),
    };
    return app;
}

Bytes fid(uint16_t value) {
    return Bytes{static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value & 0xff)};
}

}  // namespace

void appendTlv(Bytes& out, uint8_t tag, ByteView value) {
    out.push_back(tag);
    if (value.size() > 0x7F) out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
}

const ElementaryFile* Application::find(uint16_t wanted) const {
    auto found = std::find_if(files.begin(), files.end(),
                              [wanted](const ElementaryFile& file) { return file.fid == wanted; });
    return found == files.end() ? nullptr : &*found;
}

const ElementaryFile* FileSystem::findInMf(uint16_t wanted) const {
    auto found = std::find_if(mfFiles.begin(), mfFiles.end(),
                              [wanted](const ElementaryFile& file) { return file.fid == wanted; });
    return found == mfFiles.end() ? nullptr : &*found;
}

const Application* FileSystem::findApplication(ByteView prefix) const {
    for (const Application& application : applications) {
        if (prefix.size() <= application.aid.size() &&
            std::equal(prefix.begin(), prefix.end(), application.aid.begin())) {
            return &application;
        }
    }
    return nullptr;
}

FileSystem buildFileSystem(const Profile& profile) {
    FileSystem files;
    if (profile.hasIsim) files.applications.push_back(isim(profile));
    files.applications.push_back(usim(profile));
    std::vector<Bytes> dir;
    for (const Application& application : files.applications) {
        dir.push_back(dirRecord(application));
    }
    files.mfFiles = {linearFixed(kEfDirFid, dir), transparent(0x2FE2, swappedBcd(profile.iccid))};
    files.mfFiles.back().body.resize(10, 0xFF);
    return files;
}

// TS 102 221 11.1.1.3: descriptor, identifier, life cycle (05: activated), size.
Bytes efFcp(const ElementaryFile& file) {
    Bytes descriptor = file.linearFixed
                           ? Bytes{0x42, 0x21, static_cast<uint8_t>(file.recordLength >> 8),
                                   static_cast<uint8_t>(file.recordLength & 0xff),
                                   static_cast<uint8_t>(file.recordCount())}
                           : Bytes{0x41, 0x21};
    Bytes body = tlv(0x82, descriptor);
    appendTlv(body, 0x83, fid(file.fid));
    appendTlv(body, 0x8A, Bytes{0x05});
    appendTlv(body, 0x80, fid(static_cast<uint16_t>(file.body.size())));
    return tlv(0x62, body);
}

// For a DF: the PIN status template (C6) says whether PIN 01 is enabled (bit 8 of
// the PS_DO) and that it is the key reference 01 (83 01 01).
Bytes dfFcp(const FileSystem& files, const Application* application, PinTemplate pin) {
    const auto& children = application ? application->files : files.mfFiles;
    size_t total = std::accumulate(
        children.begin(), children.end(), size_t{0},
        [](size_t sum, const ElementaryFile& file) { return sum + file.body.size(); });
    Bytes body = tlv(0x82, Bytes{0x78, 0x21});
    appendTlv(body, 0x83, fid(application ? kCurrentAdfFid : kMfFid));
    if (application) appendTlv(body, 0x84, application->aid);
    appendTlv(body, 0x8A, Bytes{0x05});
    // TS 102 221 9.5.2: PS_DO's bits, from the most significant, tell which of the key
    // references that follow are enabled; usage qualifier 08 before the universal PIN says
    // it replaces the application PIN.
    if (pin.universal) {
        appendTlv(body, 0xC6,
                  Bytes{0x90, 0x01, static_cast<uint8_t>(pin.enabled ? 0x40 : 0x00), 0x83, 0x01,
                        0x01, 0x95, 0x01, 0x08, 0x83, 0x01, 0x11});
    } else {
        appendTlv(
            body, 0xC6,
            Bytes{0x90, 0x01, static_cast<uint8_t>(pin.enabled ? 0x80 : 0x00), 0x83, 0x01, 0x01});
    }
    appendTlv(body, 0x81, fid(static_cast<uint16_t>(total)));
    return tlv(0x62, body);
}

}  // namespace imsaka::vicc
