// Preloaded into imsakad (LD_PRELOAD) by the lifecycle tests: once the file named by
// IMSAKA_FAULT_FILE exists, the next call of the pcsc-lite function it names fails in a way
// no part of the daemon handles, on whichever thread made the call. The file holds one line,
// "FUNCTION ACTION": FUNCTION is SCardTransmit (a card worker) or SCardGetStatusChange (the
// PC/SC monitor); ACTION is "throw" (an exception of a type nobody catches by name) or
// "terminate" (std::terminate, as a noexcept violation would). Until then every call goes
// to pcsc-lite unchanged.
#include <PCSC/winscard.h>
#include <dlfcn.h>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

namespace {

struct UnexpectedFault {};  // deliberately not a std::exception

void failIfArmed(const char* function) {
    const char* path = std::getenv("IMSAKA_FAULT_FILE");
    if (!path) return;
    std::ifstream file(path);
    std::string name, action;
    if (!(file >> name >> action) || name != function) return;
    if (action == "terminate") std::terminate();
    if (action == "throw") throw UnexpectedFault{};
}

template <typename Function>
Function real(const char* name) {
    auto found = reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
    if (!found) std::abort();
    return found;
}

}  // namespace

extern "C" LONG SCardTransmit(SCARDHANDLE card, const SCARD_IO_REQUEST* sendPci, LPCBYTE sendBuffer,
                              DWORD sendLength, SCARD_IO_REQUEST* receivePci, LPBYTE receiveBuffer,
                              LPDWORD receiveLength) {
    failIfArmed("SCardTransmit");
    static auto next = real<decltype(&SCardTransmit)>("SCardTransmit");
    return next(card, sendPci, sendBuffer, sendLength, receivePci, receiveBuffer, receiveLength);
}

extern "C" LONG SCardGetStatusChange(SCARDCONTEXT context, DWORD timeout,
                                     SCARD_READERSTATE* readers, DWORD count) {
    failIfArmed("SCardGetStatusChange");
    static auto next = real<decltype(&SCardGetStatusChange)>("SCardGetStatusChange");
    return next(context, timeout, readers, count);
}
