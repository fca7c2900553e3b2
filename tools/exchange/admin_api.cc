#include "admin_api.h"

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "xc/order_service/api_error.h"
#include "xc/order_service/decimal.h"

namespace xc::exchange {
namespace {

using order_service::ApiError;
using order_service::ErrorId;

void SendError(gateway::HttpResponse& resp, const ApiError& e) {
  std::string body;
  e.AppendJson(&body);
  resp.SetJson(e.http_status(), body);
}

}  // namespace

void AdminApi::Register(gateway::HttpServer& server) {
  server.Route("POST", "/admin/v1/users",
               [this](const gateway::HttpRequest& req, gateway::HttpResponse& resp) {
                 CreateUser(req, resp);
               });
  server.Route(
      "POST", "/admin/v1/balances",
      [this](const gateway::HttpRequest& req, gateway::HttpResponse& resp) { Balance(req, resp); });
  server.Route("GET", "/admin/v1/limits",
               [this](const gateway::HttpRequest& req, gateway::HttpResponse& resp) {
                 GetLimits(req, resp);
               });
  server.Route("POST", "/admin/v1/limits",
               [this](const gateway::HttpRequest& req, gateway::HttpResponse& resp) {
                 SetLimits(req, resp);
               });
}

gateway::RateLimits RateLimitsOf(const ExchangeConfig& c) {
  gateway::RateLimits l;
  l.request_weight_per_min = c.rate_limit_request_weight_per_min;
  l.orders_per_10s = c.rate_limit_orders_per_10s;
  l.orders_per_day = c.rate_limit_orders_per_day;
  l.orders_per_sec = c.rate_limit_orders_per_sec;
  l.reads_per_sec = c.rate_limit_reads_per_sec;
  l.ban_after_violations = c.rate_limit_ban_after_violations;
  l.circuit_breaker_enabled = c.circuit_breaker_enabled;
  l.circuit_breaker_orders_per_sec = c.circuit_breaker_orders_per_sec;
  return l;
}

void AdminApi::GetLimits(const gateway::HttpRequest&, gateway::HttpResponse& resp) {
  if (limiter_ == nullptr) {
    SendError(resp, ApiError(ErrorId::kNotFound));
    return;
  }
  std::string body;
  gateway::RateLimiter::AppendLimitsJson(limiter_->limits(), &body);
  resp.SetJson(200, body);
}

void AdminApi::SetLimits(const gateway::HttpRequest& req, gateway::HttpResponse& resp) {
  if (limiter_ == nullptr) {
    SendError(resp, ApiError(ErrorId::kNotFound));
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser.parse(req.body.data(), req.body.size()).get(doc) != simdjson::SUCCESS ||
      doc.get(obj) != simdjson::SUCCESS) {
    SendError(resp, ApiError(ErrorId::kInvalidMessage));
    return;
  }
  gateway::RateLimits l = limiter_->limits();
  const struct {
    std::string_view name;
    uint32_t* field;
  } kNumbers[] = {
      {"requestWeightPerMin", &l.request_weight_per_min},
      {"ordersPer10s", &l.orders_per_10s},
      {"ordersPerDay", &l.orders_per_day},
      {"ordersPerSec", &l.orders_per_sec},
      {"readsPerSec", &l.reads_per_sec},
      {"circuitBreakerOrdersPerSec", &l.circuit_breaker_orders_per_sec},
      {"banAfterViolations", &l.ban_after_violations},
  };
  for (auto [key, value] : obj) {
    if (key == "circuitBreakerEnabled") {
      bool b = false;
      if (value.get(b) != simdjson::SUCCESS) {
        SendError(resp, order_service::errors::IllegalChars(key, "true|false"));
        return;
      }
      l.circuit_breaker_enabled = b;
      continue;
    }
    bool known = false;
    for (const auto& n : kNumbers) {
      if (n.name != key) continue;
      known = true;
      uint64_t v = 0;
      if (value.get(v) != simdjson::SUCCESS || v > UINT32_MAX) {
        SendError(resp, order_service::errors::IllegalChars(key, "^[0-9]{1,10}$"));
        return;
      }
      *n.field = static_cast<uint32_t>(v);
    }
    if (!known) {
      SendError(resp, ApiError(ErrorId::kUnreadParameters));
      return;
    }
  }
  limiter_->SetLimits(l);
  std::string body;
  gateway::RateLimiter::AppendLimitsJson(l, &body);
  std::printf("exchange: limits set by the admin API: %s\n", body.c_str());
  std::fflush(stdout);
  resp.SetJson(200, body);
}

void AdminApi::CreateUser(const gateway::HttpRequest&, gateway::HttpResponse& resp) {
  auto u = core_->CreateUser();
  if (!u.ok()) {
    SendError(resp, order_service::errors::Unknown());
    return;
  }
  std::string body = absl::StrCat("{\"userId\":", u->user, ",\"apiKey\":\"", u->api_key,
                                  "\",\"secretKey\":\"", u->secret_key, "\"}");
  resp.SetJson(200, body);
}

void AdminApi::Balance(const gateway::HttpRequest& req, gateway::HttpResponse& resp) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser.parse(req.body.data(), req.body.size()).get(doc) != simdjson::SUCCESS ||
      doc.get(obj) != simdjson::SUCCESS) {
    SendError(resp, ApiError(ErrorId::kInvalidMessage));
    return;
  }
  simdjson::dom::element user_el, asset_el, amount_el;
  if (obj["userId"].get(user_el) != simdjson::SUCCESS) {
    SendError(resp, order_service::errors::MandatoryParam("userId"));
    return;
  }
  if (obj["asset"].get(asset_el) != simdjson::SUCCESS) {
    SendError(resp, order_service::errors::MandatoryParam("asset"));
    return;
  }
  if (obj["amount"].get(amount_el) != simdjson::SUCCESS) {
    SendError(resp, order_service::errors::MandatoryParam("amount"));
    return;
  }
  uint64_t user = 0;
  if (user_el.get(user) != simdjson::SUCCESS || user == 0) {
    SendError(resp, order_service::errors::IllegalChars("userId", "^[1-9][0-9]{0,19}$"));
    return;
  }
  std::string_view asset, amount_text;
  if (asset_el.get(asset) != simdjson::SUCCESS) {
    SendError(resp, order_service::errors::IllegalChars("asset", "^[A-Z0-9]{1,20}$"));
    return;
  }
  // Exact decimals only: a JSON number would already have been rounded.
  if (amount_el.get(amount_text) != simdjson::SUCCESS) {
    SendError(resp,
              order_service::errors::IllegalChars("amount", "^-?[0-9]{1,20}(\\.[0-9]{1,8})?$"));
    return;
  }
  const bool negative = !amount_text.empty() && amount_text[0] == '-';
  auto units = order_service::ParseDecimal("amount", negative ? amount_text.substr(1) : amount_text,
                                           order_service::kAmountDecimals);
  if (!units.ok()) {
    SendError(resp, units.error());
    return;
  }
  if (units.value() == 0) {
    SendError(resp, ApiError(ErrorId::kInvalidParameter, "amount"));
    return;
  }
  auto b = core_->ChangeBalance(user, asset, negative ? -units.value() : units.value());
  if (!b.ok()) {
    if (absl::IsFailedPrecondition(b.status())) {
      SendError(resp, order_service::errors::InsufficientBalance());
    } else if (absl::IsNotFound(b.status()) || absl::IsInvalidArgument(b.status())) {
      SendError(resp, ApiError(ErrorId::kInvalidParameter, std::string(b.status().message())));
    } else {
      SendError(resp, order_service::errors::Unknown());
    }
    return;
  }
  std::string body = absl::StrCat("{\"userId\":", user, ",\"asset\":\"");
  order_service::AppendJsonEscaped(b->asset, &body);
  body += "\",\"free\":\"";
  order_service::AppendDecimal(b->free, order_service::kAmountDecimals, &body);
  body += "\",\"locked\":\"";
  order_service::AppendDecimal(b->locked, order_service::kAmountDecimals, &body);
  body += "\"}";
  resp.SetJson(200, body);
}

}  // namespace xc::exchange
