// How imsaka-card shows results: JSON documents, and the same facts for people.
#pragma once

#include <nlohmann/json.hpp>

#include "imsaka/cardio/card.h"
#include "imsaka/cardio/error.h"
#include "imsaka/cardio/pcsc.h"

namespace imsaka::tools {

nlohmann::ordered_json toJson(const cardio::CardInfo& info);
nlohmann::ordered_json toJson(const cardio::PinStatus& pin);
nlohmann::ordered_json toJson(const cardio::AuthResult& result);
nlohmann::ordered_json toJson(const cardio::CardError& error);

// Prints a JSON document as indented "key: value" lines for people.
void printHuman(const nlohmann::ordered_json& document, int indent = 0);

}  // namespace imsaka::tools
