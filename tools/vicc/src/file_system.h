// The card's files: the MF with EF_DIR and EF_ICCID, and one ADF per application,
// with contents encoded from the profile, plus the FCP templates SELECT returns.
#pragma once

#include <imsaka/common/bytes.h>
#include <imsaka/vicc/profile.h>

#include <cstdint>
#include <string>
#include <vector>

namespace imsaka::vicc {

inline constexpr uint16_t kMfFid = 0x3F00;
inline constexpr uint16_t kCurrentAdfFid = 0x7FFF;
inline constexpr uint16_t kEfDirFid = 0x2F00;

struct ElementaryFile {
    uint16_t fid = 0;
    bool linearFixed = false;
    size_t recordLength = 0;  // linear fixed only
    Bytes body;               // records back to back for a linear fixed file

    size_t recordCount() const { return linearFixed ? body.size() / recordLength : 0; }
};

struct Application {
    Bytes aid;
    std::string label;
    bool isIsim = false;
    std::vector<ElementaryFile> files;

    const ElementaryFile* find(uint16_t fid) const;
};

struct FileSystem {
    std::vector<ElementaryFile> mfFiles;    // EF_DIR, EF_ICCID
    std::vector<Application> applications;  // ISIM first when present

    const ElementaryFile* findInMf(uint16_t fid) const;
    // The first application whose AID starts with `aidOrPrefix`.
    const Application* findApplication(ByteView aidOrPrefix) const;
};

FileSystem buildFileSystem(const Profile& profile);

Bytes efFcp(const ElementaryFile& file);
// The MF when `application` is null, otherwise that ADF.
// What the PIN status template (tag C6) of a DF says.
struct PinTemplate {
    bool enabled = false;    // the PIN that protects the applications
    bool universal = false;  // that PIN is the universal PIN (11), PIN 01 disabled
};
Bytes dfFcp(const FileSystem& files, const Application* application, PinTemplate pin);

// BER-TLV with a one-byte length (every value here is shorter than 128 bytes, or
// uses the 0x81 form up to 255).
void appendTlv(Bytes& out, uint8_t tag, ByteView value);

}  // namespace imsaka::vicc
