#include "algorithm_lists.h"

#include <stdexcept>

namespace imsaka::daemon {

namespace {

template <typename Algorithm, typename Lookup>
std::vector<Algorithm> listOf(const std::vector<std::string>& names, Lookup lookup) {
    if (names.empty()) throw std::invalid_argument("at least one algorithm needed");
    std::vector<Algorithm> list;
    for (const auto& name : names) {
        auto algorithm = lookup(name);
        if (!algorithm) throw std::invalid_argument("unknown algorithm " + name);
        list.push_back(*algorithm);
    }
    return list;
}

}  // namespace

std::vector<sip::IntegrityAlgorithm> integrityList(const std::vector<std::string>& names) {
    return listOf<sip::IntegrityAlgorithm>(names, sip::integrityAlgorithmFrom);
}

std::vector<sip::EncryptionAlgorithm> encryptionList(const std::vector<std::string>& names) {
    return listOf<sip::EncryptionAlgorithm>(names, sip::encryptionAlgorithmFrom);
}

}  // namespace imsaka::daemon
