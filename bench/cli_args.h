#pragma once
// Tiny "--flag value" / "--flag=value" parsing shared by the bench executables
// (flowgen, engine-replay). Internal to bench/; not a library.

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xc::bench {

// Walks argv. Positional arguments are collected; for a flag, Value() yields
// its argument (the "=value" part or the next argv entry).
class ArgReader {
 public:
  ArgReader(int argc, char** argv) : args_(argv + 1, argv + argc) {}

  // Advances to the next argument; false at the end.
  bool Next() {
    if (i_ >= args_.size()) return false;
    std::string_view a = args_[i_++];
    inline_value_.reset();
    if (a.size() > 2 && a.substr(0, 2) == "--") {
      const size_t eq = a.find('=');
      if (eq != a.npos) {
        inline_value_ = std::string(a.substr(eq + 1));
        a = a.substr(0, eq);
      }
      flag_ = std::string(a);
    } else {
      flag_.clear();
      positional_ = std::string(a);
    }
    return true;
  }
  bool is_flag() const { return !flag_.empty(); }
  const std::string& flag() const { return flag_; }
  const std::string& positional() const { return positional_; }

  // The flag's value; false if there is none.
  bool Value(std::string* out) {
    if (inline_value_) {
      *out = *inline_value_;
      return true;
    }
    if (i_ >= args_.size()) return false;
    *out = args_[i_++];
    return true;
  }
  bool Uint(uint64_t* out) {
    std::string v;
    if (!Value(&v) || v.empty()) return false;
    auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
    return r.ec == std::errc() && r.ptr == v.data() + v.size();
  }
  bool Double(double* out) {
    std::string v;
    if (!Value(&v) || v.empty()) return false;
    char* end = nullptr;
    *out = std::strtod(v.c_str(), &end);
    return end == v.c_str() + v.size();
  }

 private:
  std::vector<std::string> args_;
  size_t i_ = 0;
  std::string flag_;
  std::string positional_;
  std::optional<std::string> inline_value_;
};

}  // namespace xc::bench
