// Runs imsaka-vicc as a child process for a test: a card profile written from options,
// insertion and removal through the card's signals, and a wait until pcscd sees it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace imsaka::testing {

// The subscriber of every test card: TS 35.208 test set 1 keys.
inline constexpr const char* kK = "465b5ce8b199b49faa5f0a2ee238a6bc";
inline constexpr const char* kOpc = "cd63cb71954a9f4e48a5994e37a02baf";

struct CardProfile {
    std::string protocol = "t1";
    bool isim = true;
    bool logicalChannels = true;
    bool pinEnabled = false;
    bool universalPin = false;  // the universal PIN guards the applications, PIN 01 disabled
    std::string pin = "1234";
    std::string puk = "12345678";
    std::string imsi = "001010000000001";
    int mncLength = 2;
    uint64_t sqn = 0;  // SQN_MS the card starts from
    std::string impi = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
    std::vector<std::string> impus = {"sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
                                      "tel:+15550000001"};
    std::string domain = "ims.mnc001.mcc001.3gppnetwork.org";
    std::vector<std::string> pcscfs = {"fqdn:pcscf.ims.mnc001.mcc001.3gppnetwork.org",
                                       "ipv4:192.0.2.10", "ipv6:2001:db8::10"};
    std::string pcscfEncoding = "binary";

    std::string toIni() const;
};

class VirtualCard {
  public:
    // Starts the card on a vpcd port (35963 for the first reader, 35964 for the second)
    // and waits until it is connected. Extra arguments go to imsaka-vicc as they are.
    VirtualCard(const CardProfile& profile, int port, std::vector<std::string> extraArgs = {});
    ~VirtualCard();
    VirtualCard(const VirtualCard&) = delete;
    VirtualCard& operator=(const VirtualCard&) = delete;

    void pull();    // the card leaves the reader (its state is kept)
    void insert();  // and comes back
    const std::string& reader() const { return reader_; }

  private:
    void waitForLine(const std::string& line);
    // Ends the card program and removes its profile; safe to call more than once.
    void stop() noexcept;

    pid_t pid_ = -1;
    int output_ = -1;
    std::string buffered_;
    std::string profilePath_;
    std::string reader_;
};

// Waits until pcscd reports a card (present = true) or no card in the reader.
void waitForReaderState(const std::string& reader, bool present,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The reader name pcsc-sandbox.sh gives to a vpcd port.
std::string readerForPort(int port);

}  // namespace imsaka::testing
