// Profile loading with libinih: each key is checked as it is read, and the first
// problem stops the load with the file, line and key it concerns.
#include <arpa/inet.h>
#include <imsaka/milenage/milenage.h>
#include <imsaka/vicc/profile.h>
#include <ini.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>

namespace imsaka::vicc {
namespace {

std::string describe(const std::string& source, int line, const std::string& key,
                     const std::string& problem) {
    std::string where = source;
    if (line > 0) where += ":" + std::to_string(line);
    return where + ": " + (key.empty() ? "" : key + ": ") + problem;
}

bool allDigits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A problem with one key; the loader adds where it is.
struct BadValue {
    std::string problem;
    ProfileError::Code code = ProfileError::Code::BadValue;
};

bool parseYesNo(std::string_view value) {
    if (value == "yes" || value == "true" || value == "1") return true;
    if (value == "no" || value == "false" || value == "0") return false;
    throw BadValue{"expected yes or no, got '" + std::string(value) + "'"};
}

SecureBytes parseKey(std::string_view value) {
    std::optional<Bytes> bytes = fromHex(value);
    if (!bytes || bytes->size() != 16) {
        if (bytes) OPENSSL_cleanse(bytes->data(), bytes->size());
        throw BadValue{"expected 32 hex digits"};
    }
    SecureBytes key = secureCopy(*bytes);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return key;
}

uint64_t parseUnsigned(std::string_view value, int base, uint64_t max, const char* what) {
    uint64_t result = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), result, base);
    if (value.empty() || error != std::errc() || end != value.data() + value.size() ||
        result > max) {
        throw BadValue{std::string("expected ") + what + ", got '" + std::string(value) + "'"};
    }
    return result;
}

PcscfAddress parsePcscf(std::string_view value) {
    auto colon = value.find(':');
    if (colon == std::string_view::npos) {
        throw BadValue{"expected fqdn:NAME, ipv4:ADDRESS or ipv6:ADDRESS"};
    }
    std::string_view kind = value.substr(0, colon);
    PcscfAddress address;
    address.text = std::string(value.substr(colon + 1));
    unsigned char binary[16];
    if (kind == "fqdn") {
        address.type = PcscfAddress::Type::Fqdn;
        if (address.text.empty()) throw BadValue{"empty FQDN"};
    } else if (kind == "ipv4") {
        address.type = PcscfAddress::Type::Ipv4;
        if (inet_pton(AF_INET, address.text.c_str(), binary) != 1) {
            throw BadValue{"'" + address.text + "' is not an IPv4 address"};
        }
    } else if (kind == "ipv6") {
        address.type = PcscfAddress::Type::Ipv6;
        if (inet_pton(AF_INET6, address.text.c_str(), binary) != 1) {
            throw BadValue{"'" + address.text + "' is not an IPv6 address"};
        }
    } else {
        throw BadValue{"unknown address type '" + std::string(kind) + "'"};
    }
    return address;
}

class Loader {
  public:
    explicit Loader(std::string source) : source_(std::move(source)) {}
    ~Loader() {
        if (op_) OPENSSL_cleanse(op_->data(), op_->size());
    }

    static int handle(void* user, const char* section, const char* name, const char* value) {
        auto* loader = static_cast<Loader*>(user);
        if (loader->failure_) return 1;  // inih keeps going; the first problem is the one to report
        try {
            loader->set(section, name, value);
            return 1;
        } catch (const BadValue& bad) {
            loader->failure_ = Failure{bad.code, std::string(section) + "." + name, bad.problem};
        }
        return 0;
    }

    Profile finish(int result) {
        if (failure_) {
            throw ProfileError(failure_->code, source_, result, failure_->key, failure_->problem);
        }
        if (result > 0) {
            throw ProfileError(ProfileError::Code::Syntax, source_, result, "",
                               "not a [section] or key = value line");
        }
        require(!profile_.k.empty(), "subscriber.k");
        require(!profile_.opc.empty() || op_.has_value(), "subscriber.opc");
        if (!profile_.opc.empty() && op_) {
            throw ProfileError(ProfileError::Code::BadValue, source_, 0, "subscriber.op",
                               "give either op or opc, not both");
        }
        if (op_) profile_.opc = milenage::computeOpc(profile_.k, *op_);
        require(!profile_.imsi.empty(), "usim.imsi");
        if (profile_.hasIsim) {
            require(!profile_.impi.empty(), "isim.impi");
            require(!profile_.impus.empty(), "isim.impu");
            require(!profile_.domain.empty(), "isim.domain");
        }
        return std::move(profile_);
    }

  private:
    struct Failure {
        ProfileError::Code code;
        std::string key;
        std::string problem;
    };

    void require(bool present, const std::string& key) {
        if (!present) {
            throw ProfileError(ProfileError::Code::Missing, source_, 0, key, "missing");
        }
    }

    void once(const std::string& key) {
        if (!seen_.insert(key).second) throw BadValue{"given twice"};
    }

    void set(std::string_view section, std::string_view name, std::string_view value) {
        std::string key = std::string(section) + "." + std::string(name);
        if (name != "impu" && name != "pcscf") once(key);
        if (section == "card") return setCard(name, value);
        if (section == "subscriber") return setSubscriber(name, value);
        if (section == "usim") return setUsim(name, value);
        if (section == "isim") return setIsim(name, value);
        if (section == "pin") return setPin(name, value);
        throw BadValue{"unknown section [" + std::string(section) + "]",
                       ProfileError::Code::UnknownSection};
    }

    [[noreturn]] static void unknownKey(std::string_view name) {
        throw BadValue{"unknown key '" + std::string(name) + "'", ProfileError::Code::UnknownKey};
    }

    void setCard(std::string_view name, std::string_view value) {
        if (name == "protocol") {
            if (value == "t0") {
                profile_.protocol = Protocol::T0;
            } else if (value == "t1") {
                profile_.protocol = Protocol::T1;
            } else {
                throw BadValue{"expected t0 or t1"};
            }
        } else if (name == "applications") {
            std::istringstream words{std::string(value)};
            std::vector<std::string> apps{std::istream_iterator<std::string>(words), {}};
            if (apps == std::vector<std::string>{"isim", "usim"}) {
                profile_.hasIsim = true;
            } else if (apps == std::vector<std::string>{"usim"}) {
                profile_.hasIsim = false;
            } else {
                throw BadValue{"expected 'isim usim' or 'usim'"};
            }
        } else if (name == "logical_channels") {
            profile_.logicalChannels = parseYesNo(value);
        } else if (name == "iccid") {
            if (!allDigits(value) || value.size() < 18 || value.size() > 20) {
                throw BadValue{"expected 18 to 20 digits"};
            }
            profile_.iccid = value;
        } else {
            unknownKey(name);
        }
    }

    void setSubscriber(std::string_view name, std::string_view value) {
        if (name == "algorithm") {
            if (value == "milenage") {
                profile_.algorithm = AlgorithmKind::Milenage;
            } else if (value == "xor") {
                profile_.algorithm = AlgorithmKind::Xor;
            } else {
                throw BadValue{"expected milenage or xor"};
            }
        } else if (name == "k") {
            profile_.k = parseKey(value);
        } else if (name == "opc") {
            profile_.opc = parseKey(value);
        } else if (name == "op") {
            op_ = parseKey(value);
        } else if (name == "amf") {
            std::optional<Bytes> amf = fromHex(value);
            if (!amf || amf->size() != 2) throw BadValue{"expected 4 hex digits"};
            profile_.amf = *amf;
        } else if (name == "sqn") {
            if (value.size() != 12) throw BadValue{"expected 12 hex digits"};
            profile_.sqn = parseUnsigned(value, 16, 0xffffffffffff, "12 hex digits");
        } else if (name == "delta") {
            profile_.delta = parseUnsigned(value, 10, uint64_t{1} << 43, "a number up to 2^43");
            if (profile_.delta == 0) throw BadValue{"must be at least 1"};
        } else {
            unknownKey(name);
        }
    }

    void setUsim(std::string_view name, std::string_view value) {
        if (name == "imsi") {
            if (!allDigits(value) || value.size() < 6 || value.size() > 15) {
                throw BadValue{"expected 6 to 15 digits"};
            }
            profile_.imsi = value;
        } else if (name == "mnc_length") {
            profile_.mncLength = static_cast<int>(parseUnsigned(value, 10, 3, "2 or 3"));
            if (profile_.mncLength < 2) throw BadValue{"expected 2 or 3"};
        } else {
            unknownKey(name);
        }
    }

    static std::string text(std::string_view value, size_t maxLength) {
        if (value.empty() || value.size() > maxLength) {
            throw BadValue{"expected 1 to " + std::to_string(maxLength) + " characters"};
        }
        return std::string(value);
    }

    void setIsim(std::string_view name, std::string_view value) {
        // Each value (with the P-CSCF type byte) must fit a TLV with a one-byte length.
        constexpr size_t kMaxText = 126;
        if (name == "impi") {
            profile_.impi = text(value, kMaxText);
        } else if (name == "impu") {
            profile_.impus.push_back(text(value, kMaxText));
        } else if (name == "domain") {
            profile_.domain = text(value, kMaxText);
        } else if (name == "pcscf") {
            text(value, kMaxText);
            profile_.pcscfs.push_back(parsePcscf(value));
        } else if (name == "pcscf_address_encoding") {
            if (value == "binary") {
                profile_.pcscfEncoding = PcscfEncoding::Binary;
            } else if (value == "text") {
                profile_.pcscfEncoding = PcscfEncoding::Text;
            } else if (value == "filler") {
                profile_.pcscfEncoding = PcscfEncoding::Filler;
            } else {
                throw BadValue{"expected binary, text or filler"};
            }
        } else {
            unknownKey(name);
        }
    }

    void setPin(std::string_view name, std::string_view value) {
        if (name == "enabled") {
            profile_.pinEnabled = parseYesNo(value);
        } else if (name == "value") {
            if (!allDigits(value) || value.size() < 4 || value.size() > 8) {
                throw BadValue{"expected 4 to 8 digits"};
            }
            profile_.pin = value;
        } else if (name == "retries") {
            profile_.pinRetries = static_cast<int>(parseUnsigned(value, 10, 15, "1 to 15"));
            if (profile_.pinRetries == 0) throw BadValue{"expected 1 to 15"};
        } else if (name == "kind") {
            if (value == "application") {
                profile_.pinKind = PinKind::Application;
            } else if (value == "universal") {
                profile_.pinKind = PinKind::Universal;
            } else {
                throw BadValue{"expected application or universal"};
            }
        } else if (name == "puk") {
            if (!allDigits(value) || value.size() != 8) throw BadValue{"expected 8 digits"};
            profile_.puk = value;
        } else if (name == "puk_retries") {
            profile_.pukRetries = static_cast<int>(parseUnsigned(value, 10, 15, "1 to 15"));
            if (profile_.pukRetries == 0) throw BadValue{"expected 1 to 15"};
        } else {
            unknownKey(name);
        }
    }

    std::string source_;
    Profile profile_;
    std::optional<SecureBytes> op_;
    std::set<std::string> seen_;
    std::optional<Failure> failure_;
};

}  // namespace

ProfileError::ProfileError(Code code, std::string source, int line, std::string key,
                           const std::string& problem)
    : std::runtime_error(describe(source, line, key, problem)),
      code_(code),
      source_(std::move(source)),
      line_(line),
      key_(std::move(key)) {}

namespace {

// The text holds K and OP(c): it is wiped once parsed.
Profile parseAndWipe(std::string& text, const std::string& source) {
    Loader loader(source);
    int result = ini_parse_string(text.c_str(), &Loader::handle, &loader);
    OPENSSL_cleanse(text.data(), text.size());
    return loader.finish(result);
}

}  // namespace

Profile parseProfile(std::string_view text, const std::string& source) {
    std::string copy(text);  // inih wants a NUL-terminated string
    return parseAndWipe(copy, source);
}

Profile loadProfile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ProfileError(ProfileError::Code::CannotRead, path.string(), 0, "",
                           "cannot open the profile");
    }
    // Read in one piece into a buffer of the right size, so no stray copy of the keys
    // is left behind by a growing buffer.
    in.seekg(0, std::ios::end);
    std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    if (size < 0 || size > (1 << 20)) {
        throw ProfileError(ProfileError::Code::CannotRead, path.string(), 0, "",
                           "not a regular file of at most 1 MiB");
    }
    std::string contents(static_cast<size_t>(size), '\0');
    if (!in.read(contents.data(), size)) {
        throw ProfileError(ProfileError::Code::CannotRead, path.string(), 0, "",
                           "cannot read the profile");
    }
    return parseAndWipe(contents, path.string());
}

}  // namespace imsaka::vicc
