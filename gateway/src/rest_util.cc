#include "src/rest_util.h"

#include <algorithm>
#include <charconv>

#include "xc/order_service/decimal.h"

namespace xc::gateway::internal {

namespace os = xc::order_service;

bool IsSymbolName(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char ch : s) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                    ch == '_' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

bool SplitSymbols(std::string_view s, std::vector<std::string_view>* out) {
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return false;
  s = s.substr(1, s.size() - 2);
  if (s.empty()) return true;
  for (;;) {
    if (s.size() < 2 || s.front() != '"') return false;
    size_t close = s.find('"', 1);
    if (close == std::string_view::npos) return false;
    std::string_view name = s.substr(1, close - 1);
    if (!IsSymbolName(name)) return false;
    out->push_back(name);
    s.remove_prefix(close + 1);
    if (s.empty()) return true;
    if (s.front() != ',') return false;
    s.remove_prefix(1);
  }
}

const char* StpName(protocol::StpMode m) {
  switch (m) {
    case protocol::StpMode::kNone: return "NONE";
    case protocol::StpMode::kExpireTaker: return "EXPIRE_TAKER";
    case protocol::StpMode::kExpireMaker: return "EXPIRE_MAKER";
    case protocol::StpMode::kExpireBoth: return "EXPIRE_BOTH";
  }
  return "NONE";
}

void SetError(const os::ApiError& e, HttpResponse& resp) {
  resp.set_status(e.http_status());
  resp.body().clear();
  e.AppendJson(&resp.body());
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out->append(buf, end);
}

void AmtValue(int64_t units, std::string* out) {
  out->push_back('"');
  os::AppendDecimal(units, os::kAmountDecimals, out);
  out->push_back('"');
}

void LevelValue(int64_t price, int64_t qty, std::string* out) {
  out->push_back('[');
  AmtValue(price, out);
  out->push_back(',');
  AmtValue(qty, out);
  out->push_back(']');
}

void AppendLevels(const std::vector<MarketData::Level>& levels, size_t max, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < levels.size() && i < max; ++i) {
    if (i) out->push_back(',');
    LevelValue(levels[i].price, levels[i].qty, out);
  }
  out->push_back(']');
}

void Amt(std::string_view name, int64_t units, std::string* out) {
  out->append(",\"").append(name).append("\":");
  AmtValue(units, out);
}

void Str(std::string_view name, std::string_view v, std::string* out) {
  out->append(",\"").append(name).append("\":\"");
  os::AppendJsonEscaped(v, out);
  out->push_back('"');
}

void Int(std::string_view name, int64_t v, std::string* out) {
  out->append(",\"").append(name).append("\":");
  AppendInt(v, out);
}

void Bool(std::string_view name, bool v, std::string* out) {
  out->append(",\"").append(name).append("\":").append(v ? "true" : "false");
}

std::optional<os::ApiError> Mandatory(const RequestParams& p, std::string_view name,
                                      std::string_view* out) {
  auto v = p.Get(name);
  if (!v || v->empty()) return os::errors::MandatoryParam(name);
  *out = *v;
  return std::nullopt;
}

std::optional<os::ApiError> OptionalInt(const RequestParams& p, std::string_view name,
                                        std::optional<int64_t>* out) {
  auto v = p.Get(name);
  if (!v) return std::nullopt;
  auto r = os::ParseInteger(name, *v);
  if (!r.ok()) return r.error();
  *out = r.value();
  return std::nullopt;
}

std::optional<os::ApiError> Limit(const RequestParams& p, size_t def, size_t max, size_t* out) {
  std::optional<int64_t> v;
  if (auto e = OptionalInt(p, "limit", &v)) return e;
  if (!v) {
    *out = def;
  } else if (*v <= 0) {
    return os::ApiError(os::ErrorId::kInvalidParameter, "limit");
  } else {
    *out = static_cast<size_t>(std::min<int64_t>(*v, static_cast<int64_t>(max)));
  }
  return std::nullopt;
}

}  // namespace xc::gateway::internal
