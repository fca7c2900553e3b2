#include "xc/gateway/params.h"

#include <gtest/gtest.h>

#include <string>

namespace xc::gateway {
namespace {

using order_service::ApiError;
using order_service::ErrorId;

std::string Joined(const std::array<std::string_view, 4>& pieces) {
  std::string s;
  for (std::string_view p : pieces) s.append(p);
  return s;
}

TEST(ParamsTest, SplitsQueryIntoViews) {
  RequestParams p;
  const std::string q = "symbol=BTCUSDT&side=BUY&quantity=0.001";
  ASSERT_FALSE(p.Parse(q, ""));
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p.all()[0].name, "symbol");
  EXPECT_EQ(p.all()[0].value, "BTCUSDT");
  EXPECT_EQ(p.all()[0].raw, "symbol=BTCUSDT");
  EXPECT_EQ(p.all()[2].value, "0.001");
  EXPECT_EQ(*p.Get("side"), "BUY");
  EXPECT_FALSE(p.Get("price"));
  // Nothing to decode: the values point into the request itself.
  EXPECT_EQ(p.Get("symbol")->data(), q.data() + 7);
  EXPECT_EQ(p.raw_query(), q);
}

TEST(ParamsTest, ReadsTheFormBodyToo) {
  RequestParams p;
  ASSERT_FALSE(p.Parse("", "timestamp=1&symbol=BTCUSDT&signature=ab"));
  EXPECT_EQ(*p.Get("symbol"), "BTCUSDT");
  EXPECT_EQ(p.all()[1].source, ParamSource::kBody);
  EXPECT_EQ(*p.signature(), "ab");
}

TEST(ParamsTest, QueryWinsOverBody) {
  RequestParams p;
  ASSERT_FALSE(p.Parse("symbol=AAA", "symbol=BBB&side=SELL"));
  EXPECT_EQ(*p.Get("symbol"), "AAA");
  EXPECT_EQ(*p.Get("side"), "SELL");
  EXPECT_EQ(p.size(), 3u);
}

TEST(ParamsTest, PercentDecodingAndPlus) {
  RequestParams p;
  ASSERT_FALSE(p.Parse("symbols=%5B%22BTCUSDT%22%5D&id=ab%3ac%2Fd&note=a+b%20c&e=%e2%82%ac", ""));
  EXPECT_EQ(*p.Get("symbols"), "[\"BTCUSDT\"]");
  EXPECT_EQ(*p.Get("id"), "ab:c/d");
  EXPECT_EQ(*p.Get("note"), "a b c");
  EXPECT_EQ(*p.Get("e"), "€");
  EXPECT_EQ(p.all()[1].raw, "id=ab%3ac%2Fd");
  // Names are decoded too.
  ASSERT_FALSE(p.Parse("%73ymbol=X", ""));
  EXPECT_EQ(*p.Get("symbol"), "X");
}

TEST(ParamsTest, EmptySegmentsAndValues) {
  RequestParams p;
  ASSERT_FALSE(p.Parse("&a=1&&b=&c&", ""));
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(*p.Get("a"), "1");
  EXPECT_EQ(*p.Get("b"), "");
  EXPECT_EQ(*p.Get("c"), "");
  ASSERT_FALSE(p.Parse("", ""));
  EXPECT_EQ(p.size(), 0u);
  // '=' inside a value belongs to the value.
  ASSERT_FALSE(p.Parse("a=b=c", ""));
  EXPECT_EQ(*p.Get("a"), "b=c");
}

TEST(ParamsTest, RejectsDuplicates) {
  RequestParams p;
  for (auto [q, b] : {std::pair<std::string_view, std::string_view>{"a=1&a=2", ""},
                      {"", "a=1&b=2&a=1"},
                      {"a=1&%61=2", ""},
                      {"signature=x&signature=x", ""}}) {
    const std::optional<ApiError> err = p.Parse(q, b);
    ASSERT_TRUE(err) << q << " | " << b;
    EXPECT_EQ(err->ToJson(), R"({"code":-1101,"msg":"Duplicate values for a parameter detected."})");
    EXPECT_EQ(p.size(), 0u);
  }
}

TEST(ParamsTest, RejectsMalformedEscapes) {
  RequestParams p;
  for (std::string_view q : {"a=%", "a=%4", "a=%G1", "a=%1G", "a=1%", "%zz=1", "a=%%41", "=1"}) {
    const std::optional<ApiError> err = p.Parse(q, "");
    ASSERT_TRUE(err) << q;
    EXPECT_EQ(err->ToJson(), R"({"code":-1100,"msg":"Illegal characters found in a parameter."})")
        << q;
  }
  // In the body as well.
  EXPECT_TRUE(p.Parse("a=1", "b=%F"));
}

TEST(ParamsTest, SizeLimits) {
  RequestParams p;
  ParamLimits limits;
  limits.max_params = 3;
  EXPECT_FALSE(p.Parse("a=1&b=2", "c=3", limits));
  std::optional<ApiError> err = p.Parse("a=1&b=2", "c=3&d=4", limits);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->id(), ErrorId::kTooManyParameters);
  EXPECT_EQ(err->code(), -1101);

  limits = ParamLimits{};
  limits.max_query_bytes = 8;
  EXPECT_FALSE(p.Parse("a=123456", "", limits));
  EXPECT_TRUE(p.Parse("a=1234567", "", limits));
  limits.max_body_bytes = 4;
  EXPECT_TRUE(p.Parse("", "a=123", limits));

  // The hard cap holds whatever the limits say.
  std::string many;
  for (size_t i = 0; i <= RequestParams::kMaxParams; ++i) {
    many.append("p").append(std::to_string(i)).append("=1&");
  }
  limits = ParamLimits{};
  limits.max_params = 1000;
  EXPECT_TRUE(p.Parse(many, "", limits));
}

TEST(ParamsTest, ReuseKeepsEarlierViewsOutOfTheNewResult) {
  RequestParams p;
  ASSERT_FALSE(p.Parse("a=%41", ""));
  EXPECT_EQ(*p.Get("a"), "A");
  ASSERT_FALSE(p.Parse("b=%42%43", "c=%44"));
  EXPECT_FALSE(p.Get("a"));
  EXPECT_EQ(*p.Get("b"), "BC");
  EXPECT_EQ(*p.Get("c"), "D");
  // A failed parse leaves the object empty.
  ASSERT_TRUE(p.Parse("x=1&x=2", ""));
  EXPECT_EQ(p.size(), 0u);
  EXPECT_FALSE(p.Get("b"));
}

TEST(ParamsTest, SignedPayloadDropsOnlyTheSignaturePair) {
  RequestParams p;
  const auto payload = [&](std::string_view q, std::string_view b) {
    EXPECT_FALSE(p.Parse(q, b));
    return Joined(p.SignedPayload());
  };
  EXPECT_EQ(payload("a=1&b=2&signature=ff", ""), "a=1&b=2");
  EXPECT_EQ(payload("signature=ff&a=1&b=2", ""), "a=1&b=2");
  EXPECT_EQ(payload("a=1&signature=ff&b=2", ""), "a=1&b=2");
  EXPECT_EQ(payload("signature=ff", ""), "");
  EXPECT_EQ(payload("", "a=1&signature=ff"), "a=1");
  EXPECT_EQ(payload("q=1", "a=1&signature=ff"), "q=1a=1");
  EXPECT_EQ(payload("q=1&signature=ff", "a=1"), "q=1a=1");
  EXPECT_EQ(payload("q=%3A&signature=ff", "b=x+y"), "q=%3Ab=x+y");  // raw bytes, not decoded
  EXPECT_EQ(payload("a=1&b=2", ""), "a=1&b=2");                    // no signature at all
  EXPECT_EQ(payload("a=1&&signature=ff", ""), "a=1&");
  // Both places: both pairs go; the query's value is the one verified.
  EXPECT_EQ(payload("q=1&signature=aa", "b=2&signature=bb"), "q=1b=2");
  EXPECT_EQ(*p.signature(), "aa");
}

}  // namespace
}  // namespace xc::gateway
