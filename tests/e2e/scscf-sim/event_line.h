// One stdout event line, `word key=value ...`: what the end-to-end tests parse. Values never
// hold white space (it is replaced by '_'), so a line splits on spaces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imsaka::scscfsim {

class EventLine {
  public:
    explicit EventLine(std::string_view word) : text_(word) {}
    EventLine& add(std::string_view key, std::string_view value) {
        text_ += ' ';
        text_ += key;
        text_ += '=';
        for (char c : value) text_ += (c == ' ' || c == '\t' || c == '\r' || c == '\n') ? '_' : c;
        return *this;
    }
    EventLine& add(std::string_view key, uint64_t value) {
        return add(key, std::string_view(std::to_string(value)));
    }
    const std::string& str() const { return text_; }

  private:
    std::string text_;
};

}  // namespace imsaka::scscfsim
