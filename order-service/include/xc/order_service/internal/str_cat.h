#pragma once
// Cat(): string concatenation of strings, string views and integers, for
// error texts off the hot path. Debian's Abseil is built without
// std::string_view as absl::string_view, so absl::StrCat does not take a
// std::string_view; this does.

#include <string>
#include <string_view>
#include <type_traits>

namespace xc::order_service::internal {

inline void CatAppend(std::string& s, std::string_view v) { s.append(v); }
inline void CatAppend(std::string& s, const char* v) { s.append(v); }
inline void CatAppend(std::string& s, const std::string& v) { s.append(v); }
template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
void CatAppend(std::string& s, T v) {
  s.append(std::to_string(v));
}

template <typename... A>
std::string Cat(const A&... a) {
  std::string s;
  (CatAppend(s, a), ...);
  return s;
}

}  // namespace xc::order_service::internal
