// imsakactl's output for people, rendered from the JSON documents of view.h.
#pragma once

#include <cstdint>
#include <ctime>
#include <ostream>
#include <string>

#include "view.h"

namespace imsaka::ctl {

// "2026-11-21 12:40:00 UTC (in 9m59s)", "... (12s ago)"; "-" for 0 (not set).
std::string formatExpiry(uint64_t unixTime, std::time_t now);
// "59s", "9m59s", "2h05m", "3d04h"
std::string formatDuration(uint64_t seconds);
// The kernel's view of an SPI next to the sec-agree one: "4660 (0x00001234)".
std::string formatSpi(uint64_t spi);

void printCards(std::ostream& out, const json& cards);
void printCard(std::ostream& out, const json& card);
void printRegistrations(std::ostream& out, const json& registrations, std::time_t now);
// `registration` carries its SA sets under "sa_sets".
void printRegistration(std::ostream& out, const json& registration, std::time_t now);
// Each set may carry "counters" (GetCounters) or "counters_error".
void printSaSets(std::ostream& out, const json& saSets, std::time_t now);

// One line per monitor event, without the newline.
std::string monitorLine(const json& event);

}  // namespace imsaka::ctl
