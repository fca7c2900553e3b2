// Unit tests of the order book semantics (the class comment of OrderBook). Every
// test runs against both the optimized OrderBook and the ReferenceBook
// (STYLE.md §14) and asserts the exact event list of each command.

#include "xc/engine/order_book.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/reference_book.h"
#include "xc/engine/event_buffer.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"
#include "xc/protocol/hash.h"
#include "xc/protocol/types.h"

namespace xc::engine {
namespace {

using protocol::CancelReason;
using protocol::Command;
using protocol::CommandType;
using protocol::Event;
using protocol::EventType;
using protocol::ExpireReason;
using protocol::HashCombine;
using protocol::OrderId;
using protocol::OrderType;
using protocol::Price;
using protocol::Qty;
using protocol::RejectCode;
using protocol::Seq;
using protocol::Side;
using protocol::StpMode;
using protocol::SymbolId;
using protocol::TimeInForce;
using protocol::UserId;

constexpr SymbolId kSym = 7;
constexpr Side B = Side::kBuy;
constexpr Side S = Side::kSell;
constexpr TimeInForce kGtc = TimeInForce::kGtc;
constexpr TimeInForce kIoc = TimeInForce::kIoc;
constexpr TimeInForce kFok = TimeInForce::kFok;

// ---- command builders (symbol filled in) ----

Command Lim(OrderId id, UserId u, Side s, Price p, Qty q, TimeInForce tif = kGtc,
            StpMode stp = StpMode::kNone) {
  return Command::Limit(kSym, id, u, s, p, q, tif, stp);
}
Command Maker(OrderId id, UserId u, Side s, Price p, Qty q) {
  return Command::LimitMaker(kSym, id, u, s, p, q);
}
Command Ice(OrderId id, UserId u, Side s, Price p, Qty q, Qty slice) {
  Command c = Lim(id, u, s, p, q);
  c.iceberg_qty = slice;
  return c;
}
Command Mkt(OrderId id, UserId u, Side s, Qty q, StpMode stp = StpMode::kNone) {
  return Command::Market(kSym, id, u, s, q, stp);
}
Command MktQuote(OrderId id, UserId u, Side s, protocol::Notional quote) {
  return Command::MarketQuote(kSym, id, u, s, quote);
}
Command StopLoss(OrderId id, UserId u, Side s, Price stop, Price p, Qty q,
                 TimeInForce tif = kGtc) {
  return Command::Stop(kSym, id, u, s, OrderType::kStopLossLimit, stop, p, q, tif);
}
Command TakeProfit(OrderId id, UserId u, Side s, Price stop, Price p, Qty q,
                   TimeInForce tif = kGtc) {
  return Command::Stop(kSym, id, u, s, OrderType::kTakeProfitLimit, stop, p, q, tif);
}
Command CancelCmd(OrderId id, UserId u = 0) { return Command::Cancel(kSym, id, u); }
Command MassCancelCmd(UserId u) { return Command::MassCancel(kSym, u); }
Command AmendCmd(OrderId id, Price p, Qty q, UserId u = 0) {
  return Command::Amend(kSym, id, p, q, u);
}

// ---- event builders (symbol, seq, ts filled in by Expect) ----

Event Ev(EventType t, OrderId id, UserId u, Side s, Price p, Qty q, int16_t code) {
  Event e;
  e.type = t;
  e.order_id = id;
  e.user = u;
  e.side = s;
  e.price = p;
  e.qty = q;
  e.code = code;
  return e;
}
Event Accepted(OrderId id, UserId u, Side s, Price p, Qty q, OrderType t = OrderType::kLimit) {
  return Ev(EventType::kAccepted, id, u, s, p, q, static_cast<int16_t>(t));
}
Event Rejected(OrderId id, UserId u, Side s, RejectCode code) {
  return Ev(EventType::kRejected, id, u, s, 0, 0, static_cast<int16_t>(code));
}
Event Trade(OrderId taker, OrderId maker, UserId tu, UserId mu, Side maker_side, Price p, Qty q) {
  Event e = Ev(EventType::kTrade, taker, tu, maker_side, p, q, 0);
  e.maker_id = maker;
  e.maker_user = mu;
  return e;
}
Event Cancelled(OrderId id, UserId u, Side s, Price p, Qty q,
                CancelReason why = CancelReason::kUser) {
  return Ev(EventType::kCancelled, id, u, s, p, q, static_cast<int16_t>(why));
}
Event Expired(OrderId id, UserId u, Side s, Price p, Qty q, ExpireReason why) {
  return Ev(EventType::kExpired, id, u, s, p, q, static_cast<int16_t>(why));
}
Event Amended(OrderId id, UserId u, Side s, Price p, Qty q, bool kept) {
  return Ev(EventType::kAmended, id, u, s, p, q, kept ? 1 : 0);
}
Event Triggered(OrderId id, UserId u, Side s, Price p, Qty q) {
  return Ev(EventType::kTriggered, id, u, s, p, q, 0);
}
Event Level(Side s, Price p, Qty total) {
  return Ev(EventType::kLevelChanged, 0, 0, s, p, total, 0);
}

constexpr ExpireReason kIocRem = ExpireReason::kIocRemainder;
constexpr ExpireReason kFokUnf = ExpireReason::kFokUnfilled;
constexpr ExpireReason kMktRem = ExpireReason::kMarketRemainder;
constexpr ExpireReason kStp = ExpireReason::kSelfTradePrevention;

std::string Dump(const std::vector<Event>& v) {
  std::string s;
  for (const Event& e : v) s += "\n    " + testing::EventToString(e);
  return s.empty() ? "\n    (none)" : s;
}

template <typename Book>
class OrderBookTest : public ::testing::Test {
 protected:
  // Applies c (stamped with the next seq and a distinct ts) and returns its events.
  std::vector<Event> Run(Command c) {
    c.symbol = kSym;
    ++seq_;
    c.ts = 1'000'000 + static_cast<int64_t>(seq_) * 10;
    EventBuffer out(4);
    book_.Apply(c, seq_, out);
    return std::vector<Event>(out.begin(), out.end());
  }
  // Applies c and expects exactly `want`, each stamped with symbol, seq and
  // ts, and the trades with the symbol's next trade ids in order.
  void Expect(Command c, std::vector<Event> want) {
    uint64_t trade_id = book_.last_trade_id();
    std::vector<Event> got = Run(c);
    c.symbol = kSym;
    c.ts = 1'000'000 + static_cast<int64_t>(seq_) * 10;
    for (Event& e : want) {
      e.symbol = kSym;
      e.seq = seq_;
      e.ts = 1'000'000 + static_cast<int64_t>(seq_) * 10;
      if (e.type == EventType::kTrade) e.trade_id = ++trade_id;
    }
    EXPECT_EQ(book_.last_trade_id(), trade_id);
    EXPECT_TRUE(got == want) << "command: " << testing::CommandToString(c) << "\n  got:"
                             << Dump(got) << "\n  want:" << Dump(want);
  }
  // Applies c expecting a single Rejected(code) and no change of state.
  void ExpectRejected(Command c, RejectCode code) {
    const uint64_t before = book_.StateHash();
    Expect(c, {Rejected(c.order_id, c.user, c.side, code)});
    EXPECT_EQ(book_.StateHash(), before) << "a rejected command changed the book";
  }
  // Establishes a last trade price of p between two throwaway orders.
  void TradeAt(Price p, OrderId first_id) {
    Run(Lim(first_id, 90, S, p, 1));
    Run(Lim(first_id + 1, 91, B, p, 1));
    ASSERT_EQ(book_.last_trade_price(), p);
  }

  static OrderBook::Options SmallPools() {
    OrderBook::Options o;
    o.max_orders = 4096;
    o.max_levels = 1024;
    return o;
  }

  Book book_{kSym, SmallPools()};
  Seq seq_ = 0;
};

using BookTypes = ::testing::Types<OrderBook, testing::ReferenceBook>;
class BookNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, OrderBook> ? "OrderBook" : "ReferenceBook";
  }
};
TYPED_TEST_SUITE(OrderBookTest, BookTypes, BookNames);

// Applies cmd and expects exactly the listed events; failures name this line.
#define EXPECT_EVENTS(cmd, ...)                                  \
  do {                                                           \
    SCOPED_TRACE("EXPECT_EVENTS");                               \
    this->Expect((cmd), std::vector<Event>{__VA_ARGS__});        \
  } while (0)
// Applies cmd and expects a single Rejected(code) and an unchanged book.
#define EXPECT_REJECTED(cmd, code)                               \
  do {                                                           \
    SCOPED_TRACE("EXPECT_REJECTED");                             \
    this->ExpectRejected((cmd), (code));                         \
  } while (0)

// ------------------------------------------------------------------ limit GTC

TYPED_TEST(OrderBookTest, LimitRestsOnEmptyBook) {
  EXPECT_EVENTS(Lim(1, 10, B, 100, 10), Accepted(1, 10, B, 100, 10), Level(B, 100, 10));
  EXPECT_EVENTS(Lim(2, 11, S, 105, 4), Accepted(2, 11, S, 105, 4), Level(S, 105, 4));
  EXPECT_EQ(this->book_.best_bid(), 100);
  EXPECT_EQ(this->book_.best_ask(), 105);
  EXPECT_EQ(this->book_.resting_orders(), 2u);
  EXPECT_EQ(this->book_.last_trade_price(), 0);
  auto v = this->book_.FindOrder(1);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->user, 10u);
  EXPECT_EQ(v->side, B);
  EXPECT_EQ(v->price, 100);
  EXPECT_EQ(v->visible, 10);
  EXPECT_EQ(v->hidden, 0);
  EXPECT_FALSE(v->pending_stop);
}

TYPED_TEST(OrderBookTest, SamePriceOrdersAddUpOnTheLevel) {
  EXPECT_EVENTS(Lim(1, 10, B, 100, 10), Accepted(1, 10, B, 100, 10), Level(B, 100, 10));
  EXPECT_EVENTS(Lim(2, 11, B, 100, 5), Accepted(2, 11, B, 100, 5), Level(B, 100, 15));
  EXPECT_EVENTS(Lim(3, 11, B, 99, 1), Accepted(3, 11, B, 99, 1), Level(B, 99, 1));
  EXPECT_EQ(this->book_.best_bid(), 100);
}

TYPED_TEST(OrderBookTest, LimitFullyFillsRestingOrder) {
  this->Run(Lim(1, 10, S, 100, 10));
  EXPECT_EVENTS(Lim(2, 20, B, 100, 10), Accepted(2, 20, B, 100, 10),
                Trade(2, 1, 20, 10, S, 100, 10), Level(S, 100, 0));
  EXPECT_EQ(this->book_.resting_orders(), 0u);
  EXPECT_EQ(this->book_.last_trade_price(), 100);
  EXPECT_FALSE(this->book_.best_ask().has_value());
  EXPECT_FALSE(this->book_.FindOrder(1).has_value());
  EXPECT_FALSE(this->book_.FindOrder(2).has_value());
}

TYPED_TEST(OrderBookTest, TakerTradesAtMakerPrice) {
  this->Run(Lim(1, 10, B, 100, 10));
  EXPECT_EVENTS(Lim(2, 20, S, 90, 3), Accepted(2, 20, S, 90, 3), Trade(2, 1, 20, 10, B, 100, 3),
                Level(B, 100, 7));
  EXPECT_EQ(this->book_.last_trade_price(), 100);
}

TYPED_TEST(OrderBookTest, PartialFillRestsRemainder) {
  this->Run(Lim(1, 10, S, 100, 4));
  EXPECT_EVENTS(Lim(2, 20, B, 101, 10), Accepted(2, 20, B, 101, 10),
                Trade(2, 1, 20, 10, S, 100, 4), Level(S, 100, 0), Level(B, 101, 6));
  EXPECT_EQ(this->book_.best_bid(), 101);
  EXPECT_EQ(this->book_.FindOrder(2)->visible, 6);
}

TYPED_TEST(OrderBookTest, MultiLevelSweepInPriceTimePriority) {
  this->Run(Lim(1, 10, S, 101, 5));
  this->Run(Lim(2, 11, S, 100, 2));
  this->Run(Lim(3, 12, S, 100, 3));
  this->Run(Lim(4, 13, S, 103, 5));
  EXPECT_EVENTS(Lim(5, 20, B, 102, 12), Accepted(5, 20, B, 102, 12),
                Trade(5, 2, 20, 11, S, 100, 2), Trade(5, 3, 20, 12, S, 100, 3), Level(S, 100, 0),
                Trade(5, 1, 20, 10, S, 101, 5), Level(S, 101, 0), Level(B, 102, 2));
  EXPECT_EQ(this->book_.best_ask(), 103);
  EXPECT_EQ(this->book_.last_trade_price(), 101);
}

TYPED_TEST(OrderBookTest, SweepStoppingInsideALevelReportsIt) {
  this->Run(Lim(1, 10, B, 100, 5));
  this->Run(Lim(2, 11, B, 100, 5));
  this->Run(Lim(3, 12, B, 99, 5));
  EXPECT_EVENTS(Lim(4, 20, S, 99, 7), Accepted(4, 20, S, 99, 7), Trade(4, 1, 20, 10, B, 100, 5),
                Trade(4, 2, 20, 11, B, 100, 2), Level(B, 100, 3));
}

TYPED_TEST(OrderBookTest, OrderIdCanBeReusedAfterItIsGone) {
  this->Run(Lim(1, 10, S, 100, 1));
  this->Run(Lim(2, 20, B, 100, 1));
  EXPECT_EVENTS(Lim(1, 10, S, 100, 2), Accepted(1, 10, S, 100, 2), Level(S, 100, 2));
}

// ------------------------------------------------------------------ IOC / FOK

TYPED_TEST(OrderBookTest, IocRemainderIsCancelled) {
  this->Run(Lim(1, 10, S, 100, 3));
  EXPECT_EVENTS(Lim(2, 20, B, 101, 5, kIoc), Accepted(2, 20, B, 101, 5),
                Trade(2, 1, 20, 10, S, 100, 3), Level(S, 100, 0),
                Expired(2, 20, B, 101, 2, kIocRem));
  EXPECT_EQ(this->book_.resting_orders(), 0u);
}

TYPED_TEST(OrderBookTest, IocThatDoesNotCrossExpiresWhole) {
  this->Run(Lim(1, 10, S, 100, 3));
  EXPECT_EVENTS(Lim(2, 20, B, 99, 5, kIoc), Accepted(2, 20, B, 99, 5),
                Expired(2, 20, B, 99, 5, kIocRem));
}

TYPED_TEST(OrderBookTest, IocFullyFilledEmitsNoExpiry) {
  this->Run(Lim(1, 10, S, 100, 8));
  EXPECT_EVENTS(Lim(2, 20, B, 100, 5, kIoc), Accepted(2, 20, B, 100, 5),
                Trade(2, 1, 20, 10, S, 100, 5), Level(S, 100, 3));
}

TYPED_TEST(OrderBookTest, FokFillsEntirelyAcrossLevels) {
  this->Run(Lim(1, 10, S, 100, 3));
  this->Run(Lim(2, 11, S, 101, 4));
  EXPECT_EVENTS(Lim(3, 20, B, 101, 7, kFok), Accepted(3, 20, B, 101, 7),
                Trade(3, 1, 20, 10, S, 100, 3), Level(S, 100, 0),
                Trade(3, 2, 20, 11, S, 101, 4), Level(S, 101, 0));
}

TYPED_TEST(OrderBookTest, FokUnfilledExpiresWithoutTrading) {
  this->Run(Lim(1, 10, S, 100, 3));
  this->Run(Lim(2, 11, S, 102, 10));  // beyond the FOK's limit: does not count
  const uint64_t before = this->book_.StateHash();
  EXPECT_EVENTS(Lim(3, 20, B, 101, 5, kFok), Accepted(3, 20, B, 101, 5),
                Expired(3, 20, B, 101, 5, kFokUnf));
  EXPECT_EQ(this->book_.StateHash(), before);
  EXPECT_EQ(this->book_.last_trade_price(), 0);
}

TYPED_TEST(OrderBookTest, FokCountsHiddenIcebergReserve) {
  this->Run(Ice(1, 10, S, 100, 10, 2));
  EXPECT_EVENTS(Lim(2, 20, B, 100, 9, kFok), Accepted(2, 20, B, 100, 9),
                Trade(2, 1, 20, 10, S, 100, 2), Trade(2, 1, 20, 10, S, 100, 2),
                Trade(2, 1, 20, 10, S, 100, 2), Trade(2, 1, 20, 10, S, 100, 2),
                Trade(2, 1, 20, 10, S, 100, 1), Level(S, 100, 1));
  auto v = this->book_.FindOrder(1);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->visible, 1);
  EXPECT_EQ(v->hidden, 0);
}

TYPED_TEST(OrderBookTest, FokWithStpNoneCountsOwnOrders) {
  this->Run(Lim(1, 10, S, 100, 3));
  this->Run(Lim(2, 20, S, 100, 5));
  EXPECT_EVENTS(Lim(3, 20, B, 100, 6, kFok), Accepted(3, 20, B, 100, 6),
                Trade(3, 1, 20, 10, S, 100, 3), Trade(3, 2, 20, 20, S, 100, 3),
                Level(S, 100, 2));
}

TYPED_TEST(OrderBookTest, FokWalkStopsAtOwnOrderForExpireTaker) {
  this->Run(Lim(1, 10, S, 100, 3));
  this->Run(Lim(2, 20, S, 100, 5));
  this->Run(Lim(3, 10, S, 100, 5));
  // 3 before the own order; the walk stops there although 13 cross.
  EXPECT_EVENTS(Lim(4, 20, B, 100, 6, kFok, StpMode::kExpireTaker), Accepted(4, 20, B, 100, 6),
                Expired(4, 20, B, 100, 6, kFokUnf));
  // Exactly what is in front of the own order fills.
  EXPECT_EVENTS(Lim(5, 20, B, 100, 3, kFok, StpMode::kExpireBoth), Accepted(5, 20, B, 100, 3),
                Trade(5, 1, 20, 10, S, 100, 3), Level(S, 100, 10));
}

TYPED_TEST(OrderBookTest, FokWalkSkipsOwnOrderForExpireMaker) {
  this->Run(Lim(1, 10, S, 100, 3));
  this->Run(Lim(2, 20, S, 100, 5));
  this->Run(Lim(3, 10, S, 101, 2));
  EXPECT_EVENTS(Lim(4, 20, B, 101, 6, kFok, StpMode::kExpireMaker), Accepted(4, 20, B, 101, 6),
                Expired(4, 20, B, 101, 6, kFokUnf));
  EXPECT_EVENTS(Lim(5, 20, B, 101, 5, kFok, StpMode::kExpireMaker), Accepted(5, 20, B, 101, 5),
                Trade(5, 1, 20, 10, S, 100, 3), Expired(2, 20, S, 100, 5, kStp), Level(S, 100, 0),
                Trade(5, 3, 20, 10, S, 101, 2), Level(S, 101, 0));
}

TYPED_TEST(OrderBookTest, FokWalkDoesNotCountHiddenBehindOwnOrder) {
  // The iceberg's reserve would be shown behind the own order, which stops an
  // EXPIRE_TAKER taker first; only the visible slice counts.
  this->Run(Ice(1, 10, S, 100, 10, 2));
  this->Run(Lim(2, 20, S, 100, 5));
  EXPECT_EVENTS(Lim(3, 20, B, 100, 3, kFok, StpMode::kExpireTaker), Accepted(3, 20, B, 100, 3),
                Expired(3, 20, B, 100, 3, kFokUnf));
  EXPECT_EVENTS(Lim(4, 20, B, 100, 2, kFok, StpMode::kExpireTaker), Accepted(4, 20, B, 100, 2),
                Trade(4, 1, 20, 10, S, 100, 2), Level(S, 100, 7));
}

// ------------------------------------------------------------------ MARKET

TYPED_TEST(OrderBookTest, MarketByQtySweepsAnyPrice) {
  this->Run(Lim(1, 10, S, 100, 3));
  this->Run(Lim(2, 11, S, 150, 3));
  EXPECT_EVENTS(Mkt(3, 20, B, 5), Accepted(3, 20, B, 0, 5, OrderType::kMarket),
                Trade(3, 1, 20, 10, S, 100, 3), Level(S, 100, 0),
                Trade(3, 2, 20, 11, S, 150, 2), Level(S, 150, 1));
}

TYPED_TEST(OrderBookTest, MarketRemainderExpiresWhenBookIsExhausted) {
  this->Run(Lim(1, 10, B, 100, 3));
  EXPECT_EVENTS(Mkt(3, 20, S, 5), Accepted(3, 20, S, 0, 5, OrderType::kMarket),
                Trade(3, 1, 20, 10, B, 100, 3), Level(B, 100, 0),
                Expired(3, 20, S, 0, 2, kMktRem));
}

TYPED_TEST(OrderBookTest, MarketOnEmptyBookExpires) {
  EXPECT_EVENTS(Mkt(1, 20, B, 5), Accepted(1, 20, B, 0, 5, OrderType::kMarket),
                Expired(1, 20, B, 0, 5, kMktRem));
  EXPECT_EQ(this->book_.resting_orders(), 0u);
}

TYPED_TEST(OrderBookTest, MarketIgnoresTifAndPrice) {
  this->Run(Lim(1, 10, S, 100, 3));
  Command c = Mkt(2, 20, B, 5);
  c.tif = kFok;  // ignored: a MARKET is always IOC, so no FOK check
  c.price = 50;  // ignored
  EXPECT_EVENTS(c, Accepted(2, 20, B, 0, 5, OrderType::kMarket), Trade(2, 1, 20, 10, S, 100, 3),
                Level(S, 100, 0), Expired(2, 20, B, 0, 2, kMktRem));
  c = Mkt(3, 20, B, 5);
  c.tif = kGtc;  // never rests
  EXPECT_EVENTS(c, Accepted(3, 20, B, 0, 5, OrderType::kMarket), Expired(3, 20, B, 0, 5, kMktRem));
}

TYPED_TEST(OrderBookTest, MarketByQuoteSpendsAtMostTheQuote) {
  this->Run(Lim(1, 10, S, 100, 3));
  this->Run(Lim(2, 11, S, 110, 5));
  // 3 lots at 100 (300), then floor(300/110) = 2 lots at 110 (220); 80 left
  // cannot buy a lot, so the sweep stops inside the 110 level.
  EXPECT_EVENTS(MktQuote(3, 20, B, 600), Accepted(3, 20, B, 0, 0, OrderType::kMarket),
                Trade(3, 1, 20, 10, S, 100, 3), Level(S, 100, 0),
                Trade(3, 2, 20, 11, S, 110, 2), Level(S, 110, 3),
                Expired(3, 20, B, 0, 80, kMktRem));
}

TYPED_TEST(OrderBookTest, MarketByQuoteSpendingExactlyAllDoesNotExpire) {
  this->Run(Lim(1, 10, S, 100, 5));
  EXPECT_EVENTS(MktQuote(2, 20, B, 300), Accepted(2, 20, B, 0, 0, OrderType::kMarket),
                Trade(2, 1, 20, 10, S, 100, 3), Level(S, 100, 2));
}

TYPED_TEST(OrderBookTest, MarketByQuoteSell) {
  this->Run(Lim(1, 10, B, 100, 5));
  EXPECT_EVENTS(MktQuote(2, 20, S, 250), Accepted(2, 20, S, 0, 0, OrderType::kMarket),
                Trade(2, 1, 20, 10, B, 100, 2), Level(B, 100, 3),
                Expired(2, 20, S, 0, 50, kMktRem));
}

TYPED_TEST(OrderBookTest, MarketByQuoteThatCannotAffordOneLotTouchesNothing) {
  this->Run(Lim(1, 10, S, 100, 5));
  EXPECT_EVENTS(MktQuote(2, 20, B, 99), Accepted(2, 20, B, 0, 0, OrderType::kMarket),
                Expired(2, 20, B, 0, 99, kMktRem));
  EXPECT_EVENTS(MktQuote(3, 20, B, 99), Accepted(3, 20, B, 0, 0, OrderType::kMarket),
                Expired(3, 20, B, 0, 99, kMktRem));
  EXPECT_EQ(this->book_.last_trade_price(), 0);
}

TYPED_TEST(OrderBookTest, MarketByQuoteOnEmptyBookExpires) {
  EXPECT_EVENTS(MktQuote(1, 20, S, 500), Accepted(1, 20, S, 0, 0, OrderType::kMarket),
                Expired(1, 20, S, 0, 500, kMktRem));
}

// ------------------------------------------------------------------ LIMIT_MAKER

TYPED_TEST(OrderBookTest, LimitMakerRestsWhenNotCrossing) {
  this->Run(Lim(1, 10, S, 101, 3));
  EXPECT_EVENTS(Maker(2, 20, B, 100, 4), Accepted(2, 20, B, 100, 4, OrderType::kLimitMaker),
                Level(B, 100, 4));
}

TYPED_TEST(OrderBookTest, LimitMakerThatWouldCrossIsRejected) {
  this->Run(Lim(1, 10, S, 101, 3));
  this->Run(Lim(2, 10, B, 99, 3));
  EXPECT_REJECTED(Maker(3, 20, B, 101, 4), RejectCode::kWouldTakeLiquidity);
  EXPECT_REJECTED(Maker(4, 20, B, 105, 4), RejectCode::kWouldTakeLiquidity);
  EXPECT_REJECTED(Maker(5, 20, S, 99, 4), RejectCode::kWouldTakeLiquidity);
  EXPECT_FALSE(this->book_.FindOrder(3).has_value());
}

TYPED_TEST(OrderBookTest, LimitMakerMustBeGtc) {
  Command c = Maker(1, 20, B, 100, 4);
  c.tif = kIoc;
  EXPECT_REJECTED(c, RejectCode::kInvalidTimeInForce);
  c.tif = kFok;
  EXPECT_REJECTED(c, RejectCode::kInvalidTimeInForce);
}

// ------------------------------------------------------------------ cancel

TYPED_TEST(OrderBookTest, CancelRemovesOrderAndReportsLevel) {
  this->Run(Lim(1, 10, B, 100, 10));
  this->Run(Lim(2, 11, B, 100, 5));
  EXPECT_EVENTS(CancelCmd(1, 10), Cancelled(1, 10, B, 100, 10), Level(B, 100, 5));
  EXPECT_EVENTS(CancelCmd(2), Cancelled(2, 11, B, 100, 5), Level(B, 100, 0));
  EXPECT_EQ(this->book_.resting_orders(), 0u);
  EXPECT_FALSE(this->book_.best_bid().has_value());
}

TYPED_TEST(OrderBookTest, CancelReportsRemainingAfterPartialFill) {
  this->Run(Lim(1, 10, S, 100, 10));
  this->Run(Lim(2, 11, B, 100, 4));
  EXPECT_EVENTS(CancelCmd(1), Cancelled(1, 10, S, 100, 6), Level(S, 100, 0));
}

TYPED_TEST(OrderBookTest, CancelIcebergReportsVisiblePlusHidden) {
  this->Run(Ice(1, 10, S, 100, 10, 3));
  EXPECT_EVENTS(CancelCmd(1), Cancelled(1, 10, S, 100, 10), Level(S, 100, 0));
}

TYPED_TEST(OrderBookTest, CancelUnknownOrderIsRejected) {
  this->Run(Lim(1, 10, B, 100, 10));
  EXPECT_REJECTED(CancelCmd(99), RejectCode::kUnknownOrder);
  EXPECT_REJECTED(CancelCmd(99, 10), RejectCode::kUnknownOrder);
}

TYPED_TEST(OrderBookTest, CancelOfAnotherUsersOrderIsRejected) {
  this->Run(Lim(1, 10, B, 100, 10));
  EXPECT_REJECTED(CancelCmd(1, 11), RejectCode::kUnknownOrder);
  EXPECT_TRUE(this->book_.FindOrder(1).has_value());
}

TYPED_TEST(OrderBookTest, CancelOfFilledOrderIsRejected) {
  this->Run(Lim(1, 10, B, 100, 10));
  this->Run(Lim(2, 11, S, 100, 10));
  EXPECT_REJECTED(CancelCmd(1), RejectCode::kUnknownOrder);
  EXPECT_REJECTED(CancelCmd(2), RejectCode::kUnknownOrder);
}

TYPED_TEST(OrderBookTest, CancelPendingStopEmitsNoLevel) {
  this->TradeAt(100, 900);
  this->Run(StopLoss(1, 10, B, 105, 106, 3));
  EXPECT_EVENTS(CancelCmd(1, 10), Cancelled(1, 10, B, 106, 3));
  EXPECT_EQ(this->book_.pending_stops(), 0u);
  EXPECT_REJECTED(CancelCmd(1), RejectCode::kUnknownOrder);
}

TYPED_TEST(OrderBookTest, CancelPendingStopOfAnotherUserIsRejected) {
  this->TradeAt(100, 900);
  this->Run(StopLoss(1, 10, B, 105, 106, 3));
  EXPECT_REJECTED(CancelCmd(1, 11), RejectCode::kUnknownOrder);
}

// ------------------------------------------------------------------ mass cancel

TYPED_TEST(OrderBookTest, MassCancelOrder) {
  this->TradeAt(102, 900);
  this->Run(Lim(1, 10, B, 99, 3));
  this->Run(Lim(2, 10, B, 100, 4));
  this->Run(Lim(3, 11, B, 100, 5));
  this->Run(Lim(4, 10, B, 100, 6));
  this->Run(Lim(5, 10, S, 106, 7));
  this->Run(Lim(6, 10, S, 105, 8));
  this->Run(Lim(7, 11, S, 105, 9));
  this->Run(StopLoss(8, 10, S, 90, 89, 2));
  this->Run(StopLoss(9, 11, S, 91, 89, 2));
  this->Run(TakeProfit(10, 10, B, 95, 96, 2));
  EXPECT_EVENTS(MassCancelCmd(10),
                Cancelled(2, 10, B, 100, 4, CancelReason::kMassCancel),
                Cancelled(4, 10, B, 100, 6, CancelReason::kMassCancel), Level(B, 100, 5),
                Cancelled(1, 10, B, 99, 3, CancelReason::kMassCancel), Level(B, 99, 0),
                Cancelled(6, 10, S, 105, 8, CancelReason::kMassCancel), Level(S, 105, 9),
                Cancelled(5, 10, S, 106, 7, CancelReason::kMassCancel), Level(S, 106, 0),
                Cancelled(8, 10, S, 89, 2, CancelReason::kMassCancel),
                Cancelled(10, 10, B, 96, 2, CancelReason::kMassCancel));
  EXPECT_EQ(this->book_.resting_orders(), 2u);
  EXPECT_EQ(this->book_.pending_stops(), 1u);
}

TYPED_TEST(OrderBookTest, MassCancelOfUserZeroIsNotAWildcard) {
  this->Run(Lim(1, 10, B, 99, 3));
  EXPECT_EVENTS(MassCancelCmd(0));
  EXPECT_EQ(this->book_.resting_orders(), 1u);
}

TYPED_TEST(OrderBookTest, MassCancelWithoutOrdersEmitsNothing) {
  this->Run(Lim(1, 10, B, 99, 3));
  const uint64_t before = this->book_.StateHash();
  EXPECT_EVENTS(MassCancelCmd(11));
  EXPECT_EQ(this->book_.StateHash(), before);
}

// ------------------------------------------------------------------ amend

TYPED_TEST(OrderBookTest, AmendDownKeepsPriority) {
  this->Run(Lim(1, 10, B, 100, 10));
  this->Run(Lim(2, 11, B, 100, 5));
  EXPECT_EVENTS(AmendCmd(1, 100, 4, 10), Amended(1, 10, B, 100, 4, true), Level(B, 100, 9));
  EXPECT_EVENTS(Lim(3, 20, S, 100, 4), Accepted(3, 20, S, 100, 4),
                Trade(3, 1, 20, 10, B, 100, 4), Level(B, 100, 5));
}

TYPED_TEST(OrderBookTest, AmendToSameQtyKeepsPriority) {
  this->Run(Lim(1, 10, B, 100, 10));
  this->Run(Lim(2, 11, B, 100, 5));
  EXPECT_EVENTS(AmendCmd(1, 100, 10), Amended(1, 10, B, 100, 10, true), Level(B, 100, 15));
}

TYPED_TEST(OrderBookTest, AmendUpRequeuesAtBack) {
  this->Run(Lim(1, 10, B, 100, 10));
  this->Run(Lim(2, 11, B, 100, 5));
  EXPECT_EVENTS(AmendCmd(1, 100, 12), Amended(1, 10, B, 100, 12, false), Level(B, 100, 5),
                Level(B, 100, 17));
  EXPECT_EVENTS(Lim(3, 20, S, 100, 6), Accepted(3, 20, S, 100, 6),
                Trade(3, 2, 20, 11, B, 100, 5), Trade(3, 1, 20, 10, B, 100, 1),
                Level(B, 100, 11));
}

TYPED_TEST(OrderBookTest, AmendPriceChangeRequeues) {
  this->Run(Lim(1, 10, B, 100, 10));
  EXPECT_EVENTS(AmendCmd(1, 101, 10), Amended(1, 10, B, 101, 10, false), Level(B, 100, 0),
                Level(B, 101, 10));
  EXPECT_EQ(this->book_.best_bid(), 101);
  EXPECT_EQ(this->book_.FindOrder(1)->price, 101);
}

TYPED_TEST(OrderBookTest, AmendToCrossingPriceTrades) {
  this->Run(Lim(1, 10, B, 100, 10));
  this->Run(Lim(2, 20, S, 105, 3));
  EXPECT_EVENTS(AmendCmd(1, 105, 10), Amended(1, 10, B, 105, 10, false), Level(B, 100, 0),
                Trade(1, 2, 10, 20, S, 105, 3), Level(S, 105, 0), Level(B, 105, 7));
  EXPECT_EQ(this->book_.last_trade_price(), 105);
}

TYPED_TEST(OrderBookTest, AmendKeepsStpOnRequeue) {
  this->Run(Lim(1, 10, B, 100, 10, kGtc, StpMode::kExpireTaker));
  this->Run(Lim(2, 10, S, 105, 3));
  EXPECT_EVENTS(AmendCmd(1, 106, 10), Amended(1, 10, B, 106, 10, false), Level(B, 100, 0),
                Expired(1, 10, B, 106, 10, kStp));
  EXPECT_FALSE(this->book_.FindOrder(1).has_value());
}

TYPED_TEST(OrderBookTest, AmendIcebergShrinksHiddenFirst) {
  this->Run(Ice(1, 10, B, 100, 10, 3));
  EXPECT_EVENTS(AmendCmd(1, 100, 5), Amended(1, 10, B, 100, 5, true), Level(B, 100, 3));
  auto v = this->book_.FindOrder(1);
  EXPECT_EQ(v->visible, 3);
  EXPECT_EQ(v->hidden, 2);
  EXPECT_EVENTS(AmendCmd(1, 100, 2), Amended(1, 10, B, 100, 2, true), Level(B, 100, 2));
  v = this->book_.FindOrder(1);
  EXPECT_EQ(v->visible, 2);
  EXPECT_EQ(v->hidden, 0);
}

TYPED_TEST(OrderBookTest, AmendIcebergRequeueKeepsSlice) {
  this->Run(Ice(1, 10, B, 100, 10, 3));
  EXPECT_EVENTS(AmendCmd(1, 101, 8), Amended(1, 10, B, 101, 8, false), Level(B, 100, 0),
                Level(B, 101, 3));
  auto v = this->book_.FindOrder(1);
  EXPECT_EQ(v->visible, 3);
  EXPECT_EQ(v->hidden, 5);
  EXPECT_EQ(v->iceberg_qty, 3);
}

TYPED_TEST(OrderBookTest, AmendRejects) {
  this->TradeAt(100, 900);
  this->Run(Lim(1, 10, B, 98, 10));
  this->Run(Maker(2, 10, S, 103, 10));
  this->Run(StopLoss(3, 10, B, 105, 106, 3));
  EXPECT_REJECTED(AmendCmd(99, 100, 5), RejectCode::kUnknownOrder);
  EXPECT_REJECTED(AmendCmd(1, 98, 5, 11), RejectCode::kUnknownOrder);
  EXPECT_REJECTED(AmendCmd(1, 98, 0), RejectCode::kInvalidQuantity);
  EXPECT_REJECTED(AmendCmd(1, 98, -3), RejectCode::kInvalidQuantity);
  EXPECT_REJECTED(AmendCmd(1, 0, 5), RejectCode::kInvalidPrice);
  EXPECT_REJECTED(AmendCmd(1, 0, 0), RejectCode::kInvalidQuantity);
  EXPECT_REJECTED(AmendCmd(3, 106, 5), RejectCode::kOrderNotAmendable);
  EXPECT_REJECTED(AmendCmd(3, 106, 0), RejectCode::kInvalidQuantity);
  EXPECT_REJECTED(AmendCmd(2, 98, 10), RejectCode::kWouldTakeLiquidity);
  EXPECT_REJECTED(AmendCmd(2, 90, 10), RejectCode::kWouldTakeLiquidity);
  // A non-crossing move of the LIMIT_MAKER is fine.
  EXPECT_EVENTS(AmendCmd(2, 99, 10), Amended(2, 10, S, 99, 10, false), Level(S, 103, 0),
                Level(S, 99, 10));
}

// ------------------------------------------------------------------ STP

TYPED_TEST(OrderBookTest, StpNoneTradesWithSelf) {
  this->Run(Lim(1, 10, S, 100, 5));
  EXPECT_EVENTS(Lim(2, 10, B, 100, 5), Accepted(2, 10, B, 100, 5),
                Trade(2, 1, 10, 10, S, 100, 5), Level(S, 100, 0));
}

TYPED_TEST(OrderBookTest, StpExpireTakerAtFrontTouchesNoLevel) {
  this->Run(Lim(1, 10, S, 100, 5));
  EXPECT_EVENTS(Lim(2, 10, B, 100, 5, kGtc, StpMode::kExpireTaker), Accepted(2, 10, B, 100, 5),
                Expired(2, 10, B, 100, 5, kStp));
  EXPECT_TRUE(this->book_.FindOrder(1).has_value());
  EXPECT_FALSE(this->book_.FindOrder(2).has_value());
}

TYPED_TEST(OrderBookTest, StpExpireTakerAfterSomeTrades) {
  this->Run(Lim(1, 20, S, 100, 2));
  this->Run(Lim(2, 10, S, 100, 5));
  EXPECT_EVENTS(Lim(3, 10, B, 100, 5, kGtc, StpMode::kExpireTaker), Accepted(3, 10, B, 100, 5),
                Trade(3, 1, 10, 20, S, 100, 2), Level(S, 100, 5),
                Expired(3, 10, B, 100, 3, kStp));
}

TYPED_TEST(OrderBookTest, StpExpireMakerGoesOnMatching) {
  this->Run(Ice(1, 10, S, 100, 9, 5));
  this->Run(Lim(2, 20, S, 100, 5));
  EXPECT_EVENTS(Lim(3, 10, B, 100, 6, kIoc, StpMode::kExpireMaker), Accepted(3, 10, B, 100, 6),
                Expired(1, 10, S, 100, 9, kStp), Trade(3, 2, 10, 20, S, 100, 5), Level(S, 100, 0),
                Expired(3, 10, B, 100, 1, kIocRem));
}

TYPED_TEST(OrderBookTest, StpExpireMakerAcrossLevels) {
  this->Run(Lim(1, 10, S, 100, 5));
  this->Run(Lim(2, 20, S, 101, 5));
  EXPECT_EVENTS(Lim(3, 10, B, 101, 4, kGtc, StpMode::kExpireMaker), Accepted(3, 10, B, 101, 4),
                Expired(1, 10, S, 100, 5, kStp), Level(S, 100, 0),
                Trade(3, 2, 10, 20, S, 101, 4), Level(S, 101, 1));
}

TYPED_TEST(OrderBookTest, StpExpireBothExpiresMakerAndTaker) {
  this->Run(Lim(1, 10, S, 100, 5));
  this->Run(Lim(2, 20, S, 100, 5));
  EXPECT_EVENTS(Lim(3, 10, B, 100, 5, kGtc, StpMode::kExpireBoth), Accepted(3, 10, B, 100, 5),
                Expired(1, 10, S, 100, 5, kStp), Level(S, 100, 5),
                Expired(3, 10, B, 100, 5, kStp));
  EXPECT_FALSE(this->book_.FindOrder(1).has_value());
  EXPECT_TRUE(this->book_.FindOrder(2).has_value());
}

TYPED_TEST(OrderBookTest, StpIgnoresOtherUsers) {
  this->Run(Lim(1, 20, S, 100, 5));
  EXPECT_EVENTS(Lim(2, 10, B, 100, 5, kGtc, StpMode::kExpireBoth), Accepted(2, 10, B, 100, 5),
                Trade(2, 1, 10, 20, S, 100, 5), Level(S, 100, 0));
}

TYPED_TEST(OrderBookTest, StpOnMarketOrder) {
  this->Run(Lim(1, 20, S, 100, 2));
  this->Run(Lim(2, 10, S, 101, 5));
  EXPECT_EVENTS(Mkt(3, 10, B, 6, StpMode::kExpireTaker),
                Accepted(3, 10, B, 0, 6, OrderType::kMarket), Trade(3, 1, 10, 20, S, 100, 2),
                Level(S, 100, 0), Expired(3, 10, B, 0, 4, kStp));
}

TYPED_TEST(OrderBookTest, StpMakerExpiryIsNotATrade) {
  // Expiring makers trades nothing: the last trade price stays and no stop
  // is checked.
  this->TradeAt(100, 900);
  this->Run(Lim(1, 10, S, 102, 5));
  this->Run(StopLoss(2, 20, B, 102, 103, 1));
  EXPECT_EVENTS(Lim(3, 10, B, 103, 5, kGtc, StpMode::kExpireBoth), Accepted(3, 10, B, 103, 5),
                Expired(1, 10, S, 102, 5, kStp), Level(S, 102, 0),
                Expired(3, 10, B, 103, 5, kStp));
  EXPECT_EQ(this->book_.last_trade_price(), 100);
  this->Run(Lim(4, 10, S, 102, 5));
  EXPECT_EVENTS(Lim(5, 10, B, 102, 2, kGtc, StpMode::kExpireMaker), Accepted(5, 10, B, 102, 2),
                Expired(4, 10, S, 102, 5, kStp), Level(S, 102, 0), Level(B, 102, 2));
  EXPECT_EQ(this->book_.last_trade_price(), 100);
  EXPECT_EQ(this->book_.pending_stops(), 1u);
}

TYPED_TEST(OrderBookTest, MakerStpModeDoesNotMatter) {
  this->Run(Lim(1, 10, S, 100, 5, kGtc, StpMode::kExpireBoth));
  EXPECT_EVENTS(Lim(2, 10, B, 100, 5), Accepted(2, 10, B, 100, 5),
                Trade(2, 1, 10, 10, S, 100, 5), Level(S, 100, 0));
}

// ------------------------------------------------------------------ stops

TYPED_TEST(OrderBookTest, StopIsAcceptedAndWaitsOffBook) {
  this->TradeAt(100, 900);
  EXPECT_EVENTS(StopLoss(1, 10, B, 105, 106, 3),
                Accepted(1, 10, B, 106, 3, OrderType::kStopLossLimit));
  EXPECT_EVENTS(TakeProfit(2, 10, S, 105, 104, 3),
                Accepted(2, 10, S, 104, 3, OrderType::kTakeProfitLimit));
  EXPECT_EQ(this->book_.pending_stops(), 2u);
  EXPECT_EQ(this->book_.resting_orders(), 0u);
  auto v = this->book_.FindOrder(1);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->pending_stop);
  EXPECT_EQ(v->stop_price, 105);
  EXPECT_EQ(v->price, 106);
  EXPECT_EQ(v->type, OrderType::kStopLossLimit);
  EXPECT_EQ(v->visible, 0);  // nothing shown; the whole qty is held back
  EXPECT_EQ(v->hidden, 3);
}

TYPED_TEST(OrderBookTest, NoStopConditionHoldsBeforeFirstTrade) {
  EXPECT_EVENTS(StopLoss(1, 10, B, 1, 5, 3), Accepted(1, 10, B, 5, 3, OrderType::kStopLossLimit));
  EXPECT_EVENTS(TakeProfit(2, 10, B, 1000, 5, 3),
                Accepted(2, 10, B, 5, 3, OrderType::kTakeProfitLimit));
}

TYPED_TEST(OrderBookTest, StopThatWouldTriggerImmediatelyIsRejected) {
  this->TradeAt(100, 900);
  EXPECT_REJECTED(StopLoss(1, 10, B, 100, 101, 3), RejectCode::kWouldTriggerImmediately);
  EXPECT_REJECTED(StopLoss(2, 10, B, 99, 101, 3), RejectCode::kWouldTriggerImmediately);
  EXPECT_REJECTED(StopLoss(3, 10, S, 100, 99, 3), RejectCode::kWouldTriggerImmediately);
  EXPECT_REJECTED(StopLoss(4, 10, S, 101, 99, 3), RejectCode::kWouldTriggerImmediately);
  EXPECT_REJECTED(TakeProfit(5, 10, B, 100, 99, 3), RejectCode::kWouldTriggerImmediately);
  EXPECT_REJECTED(TakeProfit(6, 10, B, 101, 99, 3), RejectCode::kWouldTriggerImmediately);
  EXPECT_REJECTED(TakeProfit(7, 10, S, 100, 99, 3), RejectCode::kWouldTriggerImmediately);
  EXPECT_REJECTED(TakeProfit(8, 10, S, 99, 99, 3), RejectCode::kWouldTriggerImmediately);
  EXPECT_EVENTS(StopLoss(9, 10, B, 101, 101, 3),
                Accepted(9, 10, B, 101, 3, OrderType::kStopLossLimit));
  EXPECT_EVENTS(StopLoss(10, 10, S, 99, 99, 3),
                Accepted(10, 10, S, 99, 3, OrderType::kStopLossLimit));
  EXPECT_EVENTS(TakeProfit(11, 10, B, 99, 99, 3),
                Accepted(11, 10, B, 99, 3, OrderType::kTakeProfitLimit));
  EXPECT_EVENTS(TakeProfit(12, 10, S, 101, 99, 3),
                Accepted(12, 10, S, 99, 3, OrderType::kTakeProfitLimit));
}

TYPED_TEST(OrderBookTest, StopLossBuyTriggersWhenLastRisesToStop) {
  this->TradeAt(100, 900);
  this->Run(Lim(10, 30, S, 105, 5));
  this->Run(StopLoss(20, 10, B, 103, 106, 3));
  this->Run(Lim(30, 31, S, 103, 1));
  EXPECT_EVENTS(Lim(31, 32, B, 103, 1), Accepted(31, 32, B, 103, 1),
                Trade(31, 30, 32, 31, S, 103, 1), Level(S, 103, 0), Triggered(20, 10, B, 106, 3),
                Trade(20, 10, 10, 30, S, 105, 3), Level(S, 105, 2));
  EXPECT_EQ(this->book_.pending_stops(), 0u);
  EXPECT_EQ(this->book_.last_trade_price(), 105);
}

TYPED_TEST(OrderBookTest, StopLossSellTriggersWhenLastFallsToStop) {
  this->TradeAt(100, 900);
  this->Run(Lim(10, 30, B, 95, 5));
  this->Run(StopLoss(20, 10, S, 97, 96, 3));
  this->Run(Lim(30, 31, B, 97, 1));
  // The triggered stop does not cross (95 < 96): it rests.
  EXPECT_EVENTS(Lim(31, 32, S, 97, 1), Accepted(31, 32, S, 97, 1),
                Trade(31, 30, 32, 31, B, 97, 1), Level(B, 97, 0), Triggered(20, 10, S, 96, 3),
                Level(S, 96, 3));
  auto v = this->book_.FindOrder(20);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->pending_stop);
  EXPECT_EQ(v->visible, 3);
}

TYPED_TEST(OrderBookTest, TakeProfitSellTriggersWhenLastRises) {
  this->TradeAt(100, 900);
  this->Run(Lim(10, 30, B, 101, 5));
  this->Run(TakeProfit(20, 10, S, 102, 101, 2));
  this->Run(Lim(30, 31, S, 102, 1));
  EXPECT_EVENTS(Lim(31, 32, B, 102, 1), Accepted(31, 32, B, 102, 1),
                Trade(31, 30, 32, 31, S, 102, 1), Level(S, 102, 0), Triggered(20, 10, S, 101, 2),
                Trade(20, 10, 10, 30, B, 101, 2), Level(B, 101, 3));
}

TYPED_TEST(OrderBookTest, TakeProfitBuyTriggersWhenLastFalls) {
  this->TradeAt(100, 900);
  this->Run(TakeProfit(20, 10, B, 98, 98, 2));
  this->Run(Lim(30, 31, B, 97, 1));
  EXPECT_EVENTS(Lim(31, 32, S, 97, 1), Accepted(31, 32, S, 97, 1),
                Trade(31, 30, 32, 31, B, 97, 1), Level(B, 97, 0), Triggered(20, 10, B, 98, 2),
                Level(B, 98, 2));
}

TYPED_TEST(OrderBookTest, StopsCascadeInAcceptanceOrder) {
  this->TradeAt(100, 900);
  this->Run(Lim(10, 2, S, 102, 1));
  this->Run(Lim(11, 2, S, 104, 2));
  this->Run(Lim(12, 2, S, 106, 5));
  this->Run(StopLoss(20, 1, B, 102, 104, 2));  // A: triggers on 102
  this->Run(StopLoss(21, 1, B, 104, 106, 1));  // B: triggers on A's trade at 104
  this->Run(StopLoss(22, 1, B, 101, 101, 1));  // C: holds from 102 on, but is later than A, B
  EXPECT_EVENTS(Lim(30, 3, B, 102, 1), Accepted(30, 3, B, 102, 1),
                Trade(30, 10, 3, 2, S, 102, 1), Level(S, 102, 0),
                Triggered(20, 1, B, 104, 2), Trade(20, 11, 1, 2, S, 104, 2), Level(S, 104, 0),
                Triggered(21, 1, B, 106, 1), Trade(21, 12, 1, 2, S, 106, 1), Level(S, 106, 4),
                Triggered(22, 1, B, 101, 1), Level(B, 101, 1));
  EXPECT_EQ(this->book_.pending_stops(), 0u);
  EXPECT_EQ(this->book_.last_trade_price(), 106);
}

TYPED_TEST(OrderBookTest, StopsTriggerOnlyAfterTheWholeCommand) {
  // The taker's first trade (103) would trigger the stop, its second (99) moves
  // the price back below it: stops are checked against the last trade price
  // after the command, not after each trade.
  this->TradeAt(100, 900);
  this->Run(Lim(10, 2, B, 103, 1));
  this->Run(Lim(11, 2, B, 99, 1));
  EXPECT_EVENTS(StopLoss(20, 1, B, 102, 110, 1),
                Accepted(20, 1, B, 110, 1, OrderType::kStopLossLimit));
  EXPECT_EVENTS(Lim(30, 3, S, 99, 2), Accepted(30, 3, S, 99, 2), Trade(30, 10, 3, 2, B, 103, 1),
                Level(B, 103, 0), Trade(30, 11, 3, 2, B, 99, 1), Level(B, 99, 0));
  EXPECT_EQ(this->book_.pending_stops(), 1u);
  EXPECT_EQ(this->book_.last_trade_price(), 99);
}

TYPED_TEST(OrderBookTest, TriggeredIocStopRemainderExpires) {
  this->TradeAt(100, 900);
  this->Run(Lim(10, 2, S, 104, 1));
  this->Run(StopLoss(20, 1, B, 102, 104, 3, kIoc));
  this->Run(Lim(30, 2, S, 102, 1));
  EXPECT_EVENTS(Lim(31, 3, B, 102, 1), Accepted(31, 3, B, 102, 1),
                Trade(31, 30, 3, 2, S, 102, 1), Level(S, 102, 0), Triggered(20, 1, B, 104, 3),
                Trade(20, 10, 1, 2, S, 104, 1), Level(S, 104, 0),
                Expired(20, 1, B, 104, 2, kIocRem));
}

TYPED_TEST(OrderBookTest, TriggeredFokStopThatCannotFillExpires) {
  this->TradeAt(100, 900);
  this->Run(Lim(10, 2, S, 104, 1));
  this->Run(StopLoss(20, 1, B, 102, 104, 3, kFok));
  this->Run(Lim(30, 2, S, 102, 1));
  EXPECT_EVENTS(Lim(31, 3, B, 102, 1), Accepted(31, 3, B, 102, 1),
                Trade(31, 30, 3, 2, S, 102, 1), Level(S, 102, 0), Triggered(20, 1, B, 104, 3),
                Expired(20, 1, B, 104, 3, kFokUnf));
}

TYPED_TEST(OrderBookTest, TriggeredStopUsesItsStpMode) {
  this->TradeAt(100, 900);
  this->Run(Lim(10, 1, S, 104, 1));
  Command stop = StopLoss(20, 1, B, 102, 104, 3);
  stop.stp = StpMode::kExpireTaker;
  this->Run(stop);
  this->Run(Lim(30, 2, S, 102, 1));
  EXPECT_EVENTS(Lim(31, 3, B, 102, 1), Accepted(31, 3, B, 102, 1),
                Trade(31, 30, 3, 2, S, 102, 1), Level(S, 102, 0), Triggered(20, 1, B, 104, 3),
                Expired(20, 1, B, 104, 3, kStp));
}

TYPED_TEST(OrderBookTest, TriggeredIcebergStopRestsWithSlice) {
  this->TradeAt(100, 900);
  Command stop = StopLoss(20, 1, B, 102, 101, 10);
  stop.iceberg_qty = 4;
  EXPECT_EVENTS(stop, Accepted(20, 1, B, 101, 10, OrderType::kStopLossLimit));
  this->Run(Lim(30, 2, S, 102, 1));
  EXPECT_EVENTS(Lim(31, 3, B, 102, 1), Accepted(31, 3, B, 102, 1),
                Trade(31, 30, 3, 2, S, 102, 1), Level(S, 102, 0), Triggered(20, 1, B, 101, 10),
                Level(B, 101, 4));
  auto v = this->book_.FindOrder(20);
  EXPECT_EQ(v->visible, 4);
  EXPECT_EQ(v->hidden, 6);
}

TYPED_TEST(OrderBookTest, AmendThatTradesTriggersStops) {
  this->TradeAt(100, 900);
  this->Run(Lim(10, 2, S, 103, 1));
  this->Run(Lim(1, 3, B, 99, 1));
  this->Run(StopLoss(20, 1, B, 103, 110, 1));
  EXPECT_EVENTS(AmendCmd(1, 103, 1), Amended(1, 3, B, 103, 1, false), Level(B, 99, 0),
                Trade(1, 10, 3, 2, S, 103, 1), Level(S, 103, 0), Triggered(20, 1, B, 110, 1),
                Level(B, 110, 1));
}

// ------------------------------------------------------------------ iceberg

TYPED_TEST(OrderBookTest, IcebergRestsWithVisibleSlice) {
  EXPECT_EVENTS(Ice(1, 10, B, 100, 10, 3), Accepted(1, 10, B, 100, 10), Level(B, 100, 3));
  auto v = this->book_.FindOrder(1);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->visible, 3);
  EXPECT_EQ(v->hidden, 7);
  EXPECT_EQ(v->iceberg_qty, 3);
  LevelView lv[4];
  ASSERT_EQ(this->book_.Depth(B, lv, 4), 1u);
  EXPECT_EQ(lv[0].total, 3);
}

TYPED_TEST(OrderBookTest, IcebergReplenishesAtBackOfLevel) {
  this->Run(Ice(1, 10, B, 100, 10, 3));
  this->Run(Lim(2, 11, B, 100, 4));
  EXPECT_EVENTS(Lim(3, 20, S, 100, 5), Accepted(3, 20, S, 100, 5),
                Trade(3, 1, 20, 10, B, 100, 3), Trade(3, 2, 20, 11, B, 100, 2),
                Level(B, 100, 5));
  EXPECT_EVENTS(Lim(4, 20, S, 100, 4), Accepted(4, 20, S, 100, 4),
                Trade(4, 2, 20, 11, B, 100, 2), Trade(4, 1, 20, 10, B, 100, 2),
                Level(B, 100, 1));
  auto v = this->book_.FindOrder(1);
  EXPECT_EQ(v->visible, 1);
  EXPECT_EQ(v->hidden, 4);
}

TYPED_TEST(OrderBookTest, IcebergLastSliceIsTheRemainder) {
  this->Run(Ice(1, 10, S, 100, 7, 3));
  EXPECT_EVENTS(Lim(2, 20, B, 100, 6), Accepted(2, 20, B, 100, 6),
                Trade(2, 1, 20, 10, S, 100, 3), Trade(2, 1, 20, 10, S, 100, 3),
                Level(S, 100, 1));
  EXPECT_EVENTS(Lim(3, 20, B, 100, 6), Accepted(3, 20, B, 100, 6),
                Trade(3, 1, 20, 10, S, 100, 1), Level(S, 100, 0), Level(B, 100, 5));
}

TYPED_TEST(OrderBookTest, IcebergTakerRestsRemainderAsIceberg) {
  this->Run(Lim(1, 10, S, 100, 4));
  EXPECT_EVENTS(Ice(2, 20, B, 100, 10, 3), Accepted(2, 20, B, 100, 10),
                Trade(2, 1, 20, 10, S, 100, 4), Level(S, 100, 0), Level(B, 100, 3));
  auto v = this->book_.FindOrder(2);
  EXPECT_EQ(v->visible, 3);
  EXPECT_EQ(v->hidden, 3);
}

// ------------------------------------------------------------------ validation

TYPED_TEST(OrderBookTest, InvalidQuantityIsRejected) {
  EXPECT_REJECTED(Lim(1, 10, B, 100, 0), RejectCode::kInvalidQuantity);
  EXPECT_REJECTED(Lim(1, 10, B, 100, -5), RejectCode::kInvalidQuantity);
  EXPECT_REJECTED(Mkt(1, 10, B, 0), RejectCode::kInvalidQuantity);
  EXPECT_REJECTED(MktQuote(1, 10, B, -100), RejectCode::kInvalidQuantity);
  Command both = MktQuote(1, 10, B, 100);
  both.qty = 1;
  EXPECT_REJECTED(both, RejectCode::kInvalidQuantity);
  EXPECT_REJECTED(StopLoss(1, 10, B, 100, 100, 0), RejectCode::kInvalidQuantity);
}

TYPED_TEST(OrderBookTest, InvalidPriceIsRejected) {
  EXPECT_REJECTED(Lim(1, 10, B, 0, 5), RejectCode::kInvalidPrice);
  EXPECT_REJECTED(Lim(1, 10, S, -1, 5), RejectCode::kInvalidPrice);
  EXPECT_REJECTED(Maker(1, 10, S, 0, 5), RejectCode::kInvalidPrice);
  EXPECT_REJECTED(StopLoss(1, 10, B, 100, 0, 5), RejectCode::kInvalidPrice);
}

TYPED_TEST(OrderBookTest, InvalidStopPriceIsRejected) {
  EXPECT_REJECTED(StopLoss(1, 10, B, 0, 100, 5), RejectCode::kInvalidStopPrice);
  EXPECT_REJECTED(TakeProfit(1, 10, S, -3, 100, 5), RejectCode::kInvalidStopPrice);
}

TYPED_TEST(OrderBookTest, InvalidIcebergIsRejected) {
  EXPECT_REJECTED(Ice(1, 10, B, 100, 5, 5), RejectCode::kInvalidIceberg);
  EXPECT_REJECTED(Ice(1, 10, B, 100, 5, 9), RejectCode::kInvalidIceberg);
  EXPECT_REJECTED(Ice(1, 10, B, 100, 5, -1), RejectCode::kInvalidIceberg);
  Command c = Ice(1, 10, B, 100, 5, 2);
  c.tif = kIoc;
  EXPECT_REJECTED(c, RejectCode::kInvalidIceberg);
  c.tif = kFok;
  EXPECT_REJECTED(c, RejectCode::kInvalidIceberg);
  Command m = Mkt(1, 10, B, 5);
  m.iceberg_qty = 2;
  EXPECT_REJECTED(m, RejectCode::kInvalidIceberg);
  Command s = StopLoss(1, 10, B, 100, 100, 5, kIoc);
  s.iceberg_qty = 2;
  EXPECT_REJECTED(s, RejectCode::kInvalidIceberg);
  EXPECT_EVENTS(Ice(1, 10, B, 100, 5, 4), Accepted(1, 10, B, 100, 5), Level(B, 100, 4));
}

TYPED_TEST(OrderBookTest, DuplicateOrderIdIsRejected) {
  this->TradeAt(100, 900);
  this->Run(Lim(1, 10, B, 99, 5));
  this->Run(StopLoss(2, 10, B, 105, 106, 3));
  EXPECT_REJECTED(Lim(1, 11, S, 120, 5), RejectCode::kDuplicateOrderId);
  EXPECT_REJECTED(Mkt(1, 11, S, 5), RejectCode::kDuplicateOrderId);
  EXPECT_REJECTED(Lim(2, 11, S, 120, 5), RejectCode::kDuplicateOrderId);
  EXPECT_REJECTED(StopLoss(2, 11, B, 105, 106, 3), RejectCode::kDuplicateOrderId);
}

TYPED_TEST(OrderBookTest, ValidationOrder) {
  this->TradeAt(100, 900);
  this->Run(Lim(1, 10, S, 101, 5));
  // qty before price before stop price before tif before iceberg before
  // duplicate id before would-take before would-trigger.
  Command c = Maker(5, 10, B, 0, 0);
  c.tif = kIoc;
  c.iceberg_qty = 9;
  EXPECT_REJECTED(c, RejectCode::kInvalidQuantity);
  c.qty = 5;
  EXPECT_REJECTED(c, RejectCode::kInvalidPrice);
  c.price = 200;
  EXPECT_REJECTED(c, RejectCode::kInvalidTimeInForce);
  c.tif = kGtc;
  EXPECT_REJECTED(c, RejectCode::kInvalidIceberg);
  c.iceberg_qty = 0;
  c.order_id = 1;
  EXPECT_REJECTED(c, RejectCode::kDuplicateOrderId);
  c.order_id = 5;
  EXPECT_REJECTED(c, RejectCode::kWouldTakeLiquidity);

  Command s = StopLoss(1, 10, B, 0, 0, 0, kFok);
  s.iceberg_qty = 7;
  EXPECT_REJECTED(s, RejectCode::kInvalidQuantity);
  s.qty = 5;
  EXPECT_REJECTED(s, RejectCode::kInvalidPrice);
  s.price = 100;
  EXPECT_REJECTED(s, RejectCode::kInvalidStopPrice);
  s.stop_price = 90;  // would also trigger at once
  EXPECT_REJECTED(s, RejectCode::kInvalidIceberg);
  s.iceberg_qty = 0;
  EXPECT_REJECTED(s, RejectCode::kDuplicateOrderId);
  s.order_id = 6;
  EXPECT_REJECTED(s, RejectCode::kWouldTriggerImmediately);
}

TYPED_TEST(OrderBookTest, MarketPriceIsNotValidated) {
  Command c = Mkt(1, 10, B, 5);
  c.price = -7;
  EXPECT_EVENTS(c, Accepted(1, 10, B, 0, 5, OrderType::kMarket),
                Expired(1, 10, B, 0, 5, kMktRem));
}

// ------------------------------------------------------------------ queries, hash

TYPED_TEST(OrderBookTest, DepthListsBestFirst) {
  this->Run(Lim(1, 10, B, 99, 5));
  this->Run(Lim(2, 10, B, 100, 3));
  this->Run(Lim(3, 11, B, 100, 4));
  this->Run(Lim(4, 10, B, 97, 1));
  this->Run(Lim(5, 10, S, 103, 2));
  this->Run(Lim(6, 10, S, 102, 6));
  LevelView lv[8];
  ASSERT_EQ(this->book_.Depth(B, lv, 8), 3u);
  EXPECT_EQ(lv[0].price, 100);
  EXPECT_EQ(lv[0].total, 7);
  EXPECT_EQ(lv[0].orders, 2u);
  EXPECT_EQ(lv[1].price, 99);
  EXPECT_EQ(lv[2].price, 97);
  ASSERT_EQ(this->book_.Depth(B, lv, 2), 2u);
  ASSERT_EQ(this->book_.Depth(S, lv, 8), 2u);
  EXPECT_EQ(lv[0].price, 102);
  EXPECT_EQ(lv[0].total, 6);
  EXPECT_EQ(lv[0].orders, 1u);
  EXPECT_EQ(lv[1].price, 103);
  EXPECT_EQ(this->book_.symbol(), kSym);
}

TYPED_TEST(OrderBookTest, StateHashFollowsTheRecipe) {
  uint64_t want = HashCombine(protocol::kHashSeed, 0);  // no pending stops
  want = HashCombine(want, 0);                              // last trade price
  want = HashCombine(want, 0);                              // last trade id
  EXPECT_EQ(this->book_.StateHash(), want);

  this->TradeAt(100, 900);
  this->Run(Ice(1, 10, B, 99, 10, 3));
  this->Run(Lim(2, 11, B, 99, 4, kGtc, StpMode::kExpireMaker));
  this->Run(Lim(3, 12, S, 101, 5));
  Command stop = StopLoss(4, 13, S, 95, 94, 6);
  stop.stp = StpMode::kExpireBoth;
  this->Run(stop);
  auto H = [](uint64_t h, uint64_t v) { return HashCombine(h, v); };
  uint64_t h = protocol::kHashSeed;
  h = H(h, 99), h = H(h, 7);
  h = H(h, 1), h = H(h, 10), h = H(h, 3), h = H(h, 7), h = H(h, 3), h = H(h, 0);
  h = H(h, 2), h = H(h, 11), h = H(h, 4), h = H(h, 0), h = H(h, 0), h = H(h, 2);
  h = H(h, 101), h = H(h, 5);
  h = H(h, 3), h = H(h, 12), h = H(h, 5), h = H(h, 0), h = H(h, 0), h = H(h, 0);
  h = H(h, 1);
  h = H(h, 4), h = H(h, 13), h = H(h, 1), h = H(h, 3), h = H(h, 95), h = H(h, 94);
  h = H(h, 6), h = H(h, 0), h = H(h, 0), h = H(h, 3);
  h = H(h, 100);
  h = H(h, 1);  // TradeAt's one trade
  EXPECT_EQ(this->book_.StateHash(), h);
}

// Trade ids belong to the symbol: both sides of a trade carry the same one,
// and they count 1, 2, 3... across commands and makers, with no gap for
// commands that do not trade.
TYPED_TEST(OrderBookTest, TradeIdsCountTheSymbolsTradesInMatchOrder) {
  EXPECT_EQ(this->book_.last_trade_id(), 0u);
  this->Run(Lim(1, 10, S, 100, 2));
  this->Run(Lim(2, 11, S, 101, 2));
  std::vector<Event> got = this->Run(Lim(3, 12, B, 101, 3));
  std::vector<uint64_t> ids;
  for (const Event& e : got) {
    if (e.type == EventType::kTrade) ids.push_back(e.trade_id);
    else EXPECT_EQ(e.trade_id, 0u) << EventTypeName(e.type);
  }
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2}));
  this->Run(Lim(4, 13, B, 90, 1));   // no trade
  this->Run(CancelCmd(4, 13));
  got = this->Run(Mkt(5, 14, B, 1));
  ASSERT_EQ(got.size(), 3u);  // Accepted, Trade, LevelChanged
  EXPECT_EQ(got[1].type, EventType::kTrade);
  EXPECT_EQ(got[1].trade_id, 3u);
  EXPECT_EQ(this->book_.last_trade_id(), 3u);
}

TYPED_TEST(OrderBookTest, StateHashDependsOnQueueOrder) {
  TypeParam other{kSym};
  EventBuffer out;
  Seq seq = 0;
  other.Apply(Lim(2, 11, B, 100, 5), ++seq, out);
  other.Apply(Lim(1, 10, B, 100, 5), ++seq, out);
  this->Run(Lim(1, 10, B, 100, 5));
  this->Run(Lim(2, 11, B, 100, 5));
  EXPECT_NE(this->book_.StateHash(), other.StateHash());
  other.Apply(CancelCmd(2), ++seq, out);
  other.Apply(Lim(2, 11, B, 100, 5), ++seq, out);
  EXPECT_EQ(this->book_.StateHash(), other.StateHash());
}

TYPED_TEST(OrderBookTest, EventsAreAppendedToTheBuffer) {
  EventBuffer out(1);
  Command c = Lim(1, 10, B, 100, 10);
  c.ts = 77;
  this->book_.Apply(c, 5, out);
  c = Lim(2, 10, B, 101, 10);
  c.ts = 78;
  this->book_.Apply(c, 6, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].seq, 5u);
  EXPECT_EQ(out[0].ts, 77);
  EXPECT_EQ(out[1].seq, 5u);
  EXPECT_EQ(out[1].symbol, kSym);
  EXPECT_EQ(out[3].seq, 6u);
  EXPECT_EQ(out[3].ts, 78);
  EXPECT_EQ(out[3].type, EventType::kLevelChanged);
}

}  // namespace
}  // namespace xc::engine
