// Reads the TS 35.208 test data file: "# Test Set N" headings followed by
// "NAME = hex" lines.
#pragma once

#include <imsaka/common/bytes.h>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace imsaka::milenage::test {

struct TestSet {
    std::string name;
    std::map<std::string, Bytes> values;

    const Bytes& at(const std::string& key) const {
        auto found = values.find(key);
        if (found == values.end()) throw std::runtime_error(name + " has no " + key);
        return found->second;
    }
};

inline std::vector<TestSet> readTestSets(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open test vectors " + path);
    std::vector<TestSet> sets;
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("# Test Set")) {
            sets.push_back(TestSet{line.substr(2), {}});
            continue;
        }
        auto equals = line.find('=');
        if (sets.empty() || equals == std::string::npos) continue;
        std::string key = line.substr(0, equals);
        key.erase(key.find_last_not_of(' ') + 1);
        auto value = fromHex(line.substr(line.find_first_not_of(' ', equals + 1)));
        if (!value) throw std::runtime_error("bad hex in " + path + ": " + line);
        sets.back().values[key] = *value;
    }
    return sets;
}

}  // namespace imsaka::milenage::test
