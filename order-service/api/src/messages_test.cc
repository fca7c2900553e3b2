#include "xc/order_service/messages.h"

#include <string>

#include "gtest/gtest.h"

namespace xc::order_service {
namespace {

TEST(MessagesTest, NamesAndParsers) {
  EXPECT_EQ(ParseOrderType("LIMIT_MAKER"), OrderType::kLimitMaker);
  EXPECT_FALSE(ParseOrderType("limit").has_value());
  EXPECT_EQ(ParseSide("SELL"), protocol::Side::kSell);
  EXPECT_FALSE(ParseSide("sell").has_value());
  EXPECT_EQ(ParseTimeInForce("FOK"), protocol::TimeInForce::kFok);
  EXPECT_FALSE(ParseTimeInForce("PO").has_value());
  EXPECT_STREQ(OrderStatusName(OrderStatus::kExpiredInMatch), "EXPIRED_IN_MATCH");
  EXPECT_STREQ(OrderStatusName(OrderStatus::kPartiallyFilled), "PARTIALLY_FILLED");
  EXPECT_TRUE(IsValidClientOrderId("x-TKT5PX2F0123456789abcdef012345"));
  EXPECT_TRUE(IsValidClientOrderId(std::string(36, 'a')));
  EXPECT_FALSE(IsValidClientOrderId(std::string(37, 'a')));
  EXPECT_FALSE(IsValidClientOrderId("ab:c/d"));
  EXPECT_FALSE(IsValidClientOrderId(""));
}

}  // namespace
}  // namespace xc::order_service
