// Preference lists of ESP algorithms by their sec-agree names, as the configuration and
// CreateRegistration take them.
#pragma once

#include <string>
#include <vector>

#include "imsaka/sip/sec_agree.h"

namespace imsaka::daemon {

// In the given order; throw std::invalid_argument for an unknown name or an empty list.
std::vector<sip::IntegrityAlgorithm> integrityList(const std::vector<std::string>& names);
std::vector<sip::EncryptionAlgorithm> encryptionList(const std::vector<std::string>& names);

}  // namespace imsaka::daemon
