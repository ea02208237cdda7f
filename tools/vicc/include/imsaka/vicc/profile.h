// The card profile: an INI file that describes one virtual UICC (doc/imsaka-vicc.md).
// imsaka-vicc and imsaka-av read the same file.
#pragma once

#include <imsaka/common/bytes.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace imsaka::vicc {

class ProfileError : public std::runtime_error {
  public:
    enum class Code { CannotRead, Syntax, UnknownSection, UnknownKey, BadValue, Missing };
    // line 0 means the problem is not on one line (a missing key).
    ProfileError(Code code, std::string source, int line, std::string key,
                 const std::string& problem);
    Code code() const { return code_; }
    const std::string& source() const { return source_; }
    int line() const { return line_; }
    const std::string& key() const { return key_; }

  private:
    Code code_;
    std::string source_;
    int line_;
    std::string key_;
};

enum class Protocol { T0, T1 };
enum class AlgorithmKind { Milenage, Xor };
enum class PcscfEncoding { Binary, Text, Filler };
// Which PIN protects the applications (TS 102 221 9.4): their application PIN (key
// reference 01), or the universal PIN (key reference 11) in its place.
enum class PinKind { Application, Universal };

struct PcscfAddress {
    enum class Type : uint8_t { Fqdn = 0, Ipv4 = 1, Ipv6 = 2 };
    Type type = Type::Fqdn;
    std::string text;  // as written after "fqdn:", "ipv4:" or "ipv6:"
};

struct Profile {
    Protocol protocol = Protocol::T1;
    bool hasIsim = true;
    bool logicalChannels = true;
    std::string iccid = "8900101000000000001";

    AlgorithmKind algorithm = AlgorithmKind::Milenage;
    SecureBytes k;
    SecureBytes opc;  // computed from op when the file gives op
    Bytes amf{0x80, 0x00};
    uint64_t sqn = 0;  // highest SQN accepted so far (48 bits)
    uint64_t delta = uint64_t{1} << 28;

    std::string imsi;
    int mncLength = 2;

    std::string impi;
    std::vector<std::string> impus;
    std::string domain;
    std::vector<PcscfAddress> pcscfs;
    PcscfEncoding pcscfEncoding = PcscfEncoding::Binary;

    bool pinEnabled = false;
    PinKind pinKind = PinKind::Application;
    std::string pin = "1234";
    int pinRetries = 3;
    std::string puk = "12345678";
    int pukRetries = 10;
};

Profile loadProfile(const std::filesystem::path& path);
// `source` names the text in error messages.
Profile parseProfile(std::string_view text, const std::string& source);

}  // namespace imsaka::vicc
