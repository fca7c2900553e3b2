// Randomized differential test (STYLE.md §14): seeded random command streams
// go through the optimized OrderBook and the ReferenceBook; every event and,
// every 64 commands, the state hash and the simple queries must agree.
//
// Scale: 2,000,000 commands in total by default; 300,000 when XC_TEST_SCALE is
// "sanitizer" or unset in a -DXC_SANITIZE build; 100,000,000 when it is "soak"
// (by hand, about two minutes). On a mismatch the test prints the seed, the command index, both
// event lists, and a shrunk reproducer (as C++ commands) when one is found.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "testing/reference_book.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/order_book.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"
#include "xc/protocol/types.h"

namespace xc::engine {
namespace {

using protocol::Command;
using protocol::CommandType;
using protocol::Event;
using protocol::OrderId;
using protocol::OrderType;
using protocol::Price;
using protocol::Qty;
using protocol::Side;
using protocol::StpMode;
using protocol::SymbolId;
using protocol::TimeInForce;
using testing::ReferenceBook;

constexpr SymbolId kSym = 3;
constexpr int kHashEvery = 64;

// Generates a random but plausible command stream for one book: a few users,
// prices within about 40 ticks of a slowly drifting mid, a book kept to a few
// hundred orders, and a sprinkle of invalid commands.
class CommandGen {
 public:
  explicit CommandGen(uint64_t seed) : rng_(seed) {}

  // `ref` is only read, to aim cancels and amends at live orders and stops
  // near the last price; the stream stays a pure function of the seed because
  // the reference book's state is.
  Command Next(const ReferenceBook& ref, int64_t index) {
    if (Chance(1, 40)) mid_ += Uniform(0, 1) ? 1 : -1;
    mid_ = std::clamp<Price>(mid_, 60, 100000);
    if (index % 64 == 0) Prune(ref);

    Command c;
    c.symbol = kSym;
    c.ts = 1'700'000'000'000'000'000 + index * 1000;
    const size_t resting = ref.resting_orders() + ref.pending_stops();
    // Cancels grow with the book, which keeps it at a few hundred orders.
    const int cancel_weight = resting > 500 ? 60 : resting > 300 ? 20 : 0;
    const int r = static_cast<int>(Uniform(0, 99 + cancel_weight));
    if (r < 56) {
      NewLimit(c);
    } else if (r < 61) {
      NewLimit(c);
      c.order_type = OrderType::kLimitMaker;
      c.tif = Chance(1, 30) ? TimeInForce::kIoc : TimeInForce::kGtc;
    } else if (r < 67) {
      NewMarket(c, /*by_quote=*/false);
    } else if (r < 70) {
      NewMarket(c, /*by_quote=*/true);
    } else if (r < 78) {
      NewStop(c, ref);
    } else if (r < 92) {
      AmendLive(c, ref);
    } else if (r < 93 && Chance(1, 4)) {
      c.type = CommandType::kMassCancel;
      c.user = User();
    } else if (r < 93) {
      NewLimit(c);
    } else if (r < 97) {
      Invalid(c, ref);
    } else {
      CancelLive(c, ref);
    }
    if (c.type == CommandType::kNewOrder && c.order_id == next_id_) {
      ++next_id_;
      live_.push_back(c.order_id);
    }
    return c;
  }

 private:
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(int num, int den) { return Uniform(0, den - 1) < num; }
  uint64_t User() { return static_cast<uint64_t>(Uniform(1, 4)); }
  Qty SmallQty() { return Chance(1, 10) ? Uniform(20, 80) : Uniform(1, 15); }
  StpMode Stp() {
    return Chance(3, 5) ? StpMode::kNone : static_cast<StpMode>(Uniform(1, 3));
  }
  Side RandomSide() { return Uniform(0, 1) ? Side::kBuy : Side::kSell; }
  // Buys mostly below mid, sells mostly above, with overlap so that some cross.
  Price PriceFor(Side s) {
    Price off = Uniform(-6, 20);
    Price p = s == Side::kBuy ? mid_ - off : mid_ + off;
    return std::max<Price>(1, p);
  }

  void NewLimit(Command& c) {
    c.type = CommandType::kNewOrder;
    c.order_type = OrderType::kLimit;
    c.order_id = next_id_;
    c.user = User();
    c.side = RandomSide();
    c.price = PriceFor(c.side);
    c.qty = SmallQty();
    int t = static_cast<int>(Uniform(0, 9));
    c.tif = t < 7 ? TimeInForce::kGtc : t < 9 ? TimeInForce::kIoc : TimeInForce::kFok;
    c.stp = Stp();
    if (c.tif == TimeInForce::kGtc && c.qty > 1 && Chance(1, 8)) {
      c.iceberg_qty = Uniform(1, c.qty - 1);
    }
  }

  void NewMarket(Command& c, bool by_quote) {
    c.type = CommandType::kNewOrder;
    c.order_type = OrderType::kMarket;
    c.order_id = next_id_;
    c.user = User();
    c.side = RandomSide();
    c.tif = static_cast<TimeInForce>(Uniform(0, 2));  // ignored for MARKET
    c.stp = Stp();
    if (by_quote) {
      c.qty = 0;
      c.quote_qty = Uniform(1, 25) * mid_ + Uniform(0, mid_);
    } else {
      c.qty = SmallQty();
    }
  }

  void NewStop(Command& c, const ReferenceBook& ref) {
    c.type = CommandType::kNewOrder;
    c.order_type = Uniform(0, 1) ? OrderType::kStopLossLimit : OrderType::kTakeProfitLimit;
    c.order_id = next_id_;
    c.user = User();
    c.side = RandomSide();
    Price last = ref.last_trade_price() != 0 ? ref.last_trade_price() : mid_;
    c.stop_price = std::max<Price>(1, last + Uniform(-8, 8));
    c.price = std::max<Price>(1, c.stop_price + Uniform(-4, 4));
    c.qty = SmallQty();
    int t = static_cast<int>(Uniform(0, 9));
    c.tif = t < 6 ? TimeInForce::kGtc : t < 8 ? TimeInForce::kIoc : TimeInForce::kFok;
    c.stp = Stp();
    if (c.tif == TimeInForce::kGtc && c.qty > 1 && Chance(1, 6)) {
      c.iceberg_qty = Uniform(1, c.qty - 1);
    }
  }

  // Mostly a live order (a few tries against the reference book), sometimes
  // any id at all.
  OrderId PickLive(const ReferenceBook& ref) {
    if (live_.empty() || Chance(1, 20)) return static_cast<OrderId>(Uniform(1, next_id_ + 5));
    OrderId id = 0;
    for (int tries = 0; tries < 4; ++tries) {
      id = live_[static_cast<size_t>(Uniform(0, static_cast<int64_t>(live_.size()) - 1))];
      if (ref.FindOrder(id).has_value()) break;
    }
    return id;
  }

  // A user for cancel/amend: usually 0 (any) or the owner, sometimes wrong.
  uint64_t UserFor(const ReferenceBook& ref, OrderId id) {
    int r = static_cast<int>(Uniform(0, 9));
    if (r < 4) return 0;
    auto v = ref.FindOrder(id);
    if (r < 9 && v) return v->user;
    return User();
  }

  void CancelLive(Command& c, const ReferenceBook& ref) {
    c.type = CommandType::kCancel;
    c.order_id = PickLive(ref);
    c.user = UserFor(ref, c.order_id);
  }

  void AmendLive(Command& c, const ReferenceBook& ref) {
    c.type = CommandType::kAmend;
    c.order_id = PickLive(ref);
    c.user = UserFor(ref, c.order_id);
    auto v = ref.FindOrder(c.order_id);
    const Price base = v ? v->price : mid_;
    const Qty left = v ? v->visible + v->hidden : 5;
    int r = static_cast<int>(Uniform(0, 9));
    if (r < 4) {  // keep priority
      c.price = base;
      c.qty = Uniform(1, std::max<Qty>(1, left));
    } else if (r < 6) {  // same price, more
      c.price = base;
      c.qty = left + Uniform(1, 10);
    } else if (r < 9) {  // move, possibly across the spread
      c.price = std::max<Price>(1, base + Uniform(-12, 12));
      c.qty = SmallQty();
    } else {  // invalid
      c.price = Uniform(0, 1) ? 0 : base;
      c.qty = Uniform(-2, 0);
      if (c.qty == 0 && c.price == base) c.price = -1;
    }
  }

  void Invalid(Command& c, const ReferenceBook& ref) {
    NewLimit(c);
    switch (Uniform(0, 9)) {
      case 0: c.qty = Uniform(-3, 0); break;
      case 1: c.price = Uniform(-3, 0); break;
      case 2:
        c.order_type = OrderType::kStopLossLimit;
        c.stop_price = Uniform(-3, 0);
        break;
      case 3:
        c.order_type = OrderType::kLimitMaker;
        c.tif = TimeInForce::kFok;
        break;
      case 4:
        c.iceberg_qty = c.qty + Uniform(0, 3);
        break;
      case 5:
        c.iceberg_qty = 1;
        c.qty = std::max<Qty>(c.qty, 2);
        c.tif = TimeInForce::kIoc;
        break;
      case 6:  // duplicate of a live id
        if (!live_.empty()) c.order_id = live_[static_cast<size_t>(
                                Uniform(0, static_cast<int64_t>(live_.size()) - 1))];
        break;
      case 7:  // MARKET with both qty and quote, or neither
        NewMarket(c, /*by_quote=*/true);
        c.qty = Uniform(0, 1) ? 3 : 0;
        if (c.qty == 0) c.quote_qty = 0;
        break;
      case 8: {  // LIMIT_MAKER that would cross
        c.order_type = OrderType::kLimitMaker;
        c.iceberg_qty = 0;
        c.tif = TimeInForce::kGtc;
        auto opp = c.side == Side::kBuy ? ref.best_ask() : ref.best_bid();
        if (opp) c.price = *opp;
        break;
      }
      default: {  // stop that would trigger at once
        NewStop(c, ref);
        Price last = ref.last_trade_price();
        if (last == 0) break;
        const bool sl = c.order_type == OrderType::kStopLossLimit;
        const bool up = (c.side == Side::kBuy) == sl;  // triggers when last >= stop
        c.stop_price = std::max<Price>(1, up ? last - Uniform(0, 3) : last + Uniform(0, 3));
        break;
      }
    }
  }

  // Drops ids that are no longer live, so cancels and amends mostly hit.
  void Prune(const ReferenceBook& ref) {
    live_.erase(std::remove_if(live_.begin(), live_.end(),
                               [&](OrderId id) { return !ref.FindOrder(id).has_value(); }),
                live_.end());
  }

  std::mt19937_64 rng_;
  Price mid_ = 1000;
  OrderId next_id_ = 1;
  std::vector<OrderId> live_;
};

std::string DumpEvents(const EventBuffer& b) {
  std::string s;
  for (const Event& e : b) s += "\n    " + testing::EventToString(e);
  return s.empty() ? "\n    (none)" : s;
}

bool SameEvents(const EventBuffer& a, const EventBuffer& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i])) return false;
  }
  return true;
}

OrderBook::Options SmallOptions() {
  OrderBook::Options o;
  o.max_orders = 1u << 14;
  o.max_levels = 1u << 12;
  return o;
}

// Replays cmds through fresh books; true if they disagree anywhere (events,
// or the final state hash).
bool Diverges(const std::vector<Command>& cmds) {
  OrderBook fast(kSym, SmallOptions());
  ReferenceBook ref(kSym);
  EventBuffer a, b;
  for (size_t i = 0; i < cmds.size(); ++i) {
    a.clear();
    b.clear();
    fast.Apply(cmds[i], i + 1, a);
    ref.Apply(cmds[i], i + 1, b);
    if (!SameEvents(a, b)) return true;
  }
  return fast.StateHash() != ref.StateHash();
}

// Greedy delta debugging: removes chunks of commands while the books still
// disagree. Bounded so that a failure report stays quick.
std::vector<Command> Shrink(std::vector<Command> cmds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (size_t chunk = cmds.size() / 2; chunk >= 1; chunk /= 2) {
    for (size_t start = 0; start + chunk <= cmds.size();) {
      if (std::chrono::steady_clock::now() > deadline) return cmds;
      std::vector<Command> trial;
      trial.reserve(cmds.size() - chunk);
      trial.insert(trial.end(), cmds.begin(), cmds.begin() + static_cast<ptrdiff_t>(start));
      trial.insert(trial.end(), cmds.begin() + static_cast<ptrdiff_t>(start + chunk), cmds.end());
      if (Diverges(trial)) {
        cmds.swap(trial);
      } else {
        start += chunk;
      }
    }
    if (chunk == 1) break;
  }
  return cmds;
}

std::string ReproducerReport(std::vector<Command> history, int64_t failed_at) {
  std::ostringstream os;
  if (failed_at >= static_cast<int64_t>(history.size())) {
    os << "\n(divergence after command #" << failed_at << ": too late to shrink)";
    return os.str();
  }
  history.resize(static_cast<size_t>(failed_at + 1));
  std::vector<Command> small = Shrink(std::move(history));
  os << "\nShrunk reproducer (" << small.size() << " commands, seq = index + 1):";
  for (const Command& c : small) os << "\n  " << testing::CommandToCode(c);
  OrderBook fast(kSym, SmallOptions());
  ReferenceBook ref(kSym);
  EventBuffer a, b;
  for (size_t i = 0; i < small.size(); ++i) {
    a.clear();
    b.clear();
    fast.Apply(small[i], i + 1, a);
    ref.Apply(small[i], i + 1, b);
    if (!SameEvents(a, b) || i + 1 == small.size()) {
      os << "\n  at #" << i << " " << testing::CommandToString(small[i])
         << "\n  OrderBook:" << DumpEvents(a) << "\n  ReferenceBook:" << DumpEvents(b)
         << "\n  final hashes " << fast.StateHash() << " vs " << ref.StateHash();
      break;
    }
  }
  return os.str();
}

// What a run exercised, so that a generator that silently stops producing some
// case fails the test instead of passing vacuously.
struct Coverage {
  int64_t events[8] = {};
  int64_t rejects[16] = {};   // by code - 100
  int64_t expires[5] = {};    // by ExpireReason
  int64_t kept_amends = 0;
  int64_t requeued_amends = 0;
  int64_t quote_market_trades = 0;
  size_t max_resting = 0;
  size_t max_stops = 0;

  void Add(const EventBuffer& b, const Command& c) {
    for (const Event& e : b) {
      events[static_cast<int>(e.type)]++;
      if (e.type == protocol::EventType::kRejected && e.code >= 100 && e.code < 116) {
        rejects[e.code - 100]++;
      }
      if (e.type == protocol::EventType::kExpired && e.code >= 0 && e.code < 5) expires[e.code]++;
      if (e.type == protocol::EventType::kAmended) (e.code ? kept_amends : requeued_amends)++;
      if (e.type == protocol::EventType::kTrade && c.quote_qty > 0) quote_market_trades++;
    }
  }
  std::string Summary() const {
    std::ostringstream os;
    for (int t = 0; t < 8; ++t) {
      os << protocol::EventTypeName(static_cast<protocol::EventType>(t)) << "=" << events[t]
         << " ";
    }
    os << "\n  rejects by code:";
    for (int k = 0; k < 16; ++k) {
      if (rejects[k] != 0) os << " " << 100 + k << ":" << rejects[k];
    }
    os << "\n  expires by reason:";
    for (int k = 0; k < 5; ++k) os << " " << k << ":" << expires[k];
    os << "\n  amends kept/requeued " << kept_amends << "/" << requeued_amends
       << ", quote-market trades " << quote_market_trades << ", max resting " << max_resting
       << ", max pending stops " << max_stops;
    return os.str();
  }
};

// Runs one seed; returns false (after reporting) at the first divergence.
bool RunSeed(uint64_t seed, int64_t commands, Coverage& cov) {
  OrderBook fast(kSym, SmallOptions());
  ReferenceBook ref(kSym);
  CommandGen gen(seed);
  EventBuffer a, b;
  std::vector<Command> history;
  history.reserve(static_cast<size_t>(std::min<int64_t>(commands, 20001)));
  for (int64_t i = 0; i < commands; ++i) {
    const Command c = gen.Next(ref, i);
    // Only an early divergence is cheap to shrink, so only the start is kept.
    if (history.size() <= 20000) history.push_back(c);
    const protocol::Seq seq = static_cast<protocol::Seq>(i + 1);
    a.clear();
    b.clear();
    fast.Apply(c, seq, a);
    ref.Apply(c, seq, b);
    cov.Add(b, c);
    cov.max_resting = std::max(cov.max_resting, ref.resting_orders());
    cov.max_stops = std::max(cov.max_stops, ref.pending_stops());
    if (!SameEvents(a, b)) {
      ADD_FAILURE() << "seed " << seed << ": events differ at command #" << i << " "
                    << testing::CommandToString(c) << "\n  OrderBook:" << DumpEvents(a)
                    << "\n  ReferenceBook:" << DumpEvents(b) << ReproducerReport(history, i);
      return false;
    }
    const bool last = i + 1 == commands;
    if ((i + 1) % kHashEvery == 0 || last) {
      if (fast.StateHash() != ref.StateHash() || fast.resting_orders() != ref.resting_orders() ||
          fast.pending_stops() != ref.pending_stops() || fast.best_bid() != ref.best_bid() ||
          fast.best_ask() != ref.best_ask() ||
          fast.last_trade_price() != ref.last_trade_price()) {
        ADD_FAILURE() << "seed " << seed << ": state differs after command #" << i
                      << " (hash " << fast.StateHash() << " vs " << ref.StateHash()
                      << ", resting " << fast.resting_orders() << " vs "
                      << ref.resting_orders() << ", stops " << fast.pending_stops() << " vs "
                      << ref.pending_stops() << ")" << ReproducerReport(history, i);
        return false;
      }
      LevelView la[16], lb[16];
      for (Side s : {Side::kBuy, Side::kSell}) {
        const size_t na = fast.Depth(s, la, 16);
        const size_t nb = ref.Depth(s, lb, 16);
        bool same = na == nb;
        for (size_t k = 0; same && k < na; ++k) {
          same = la[k].price == lb[k].price && la[k].total == lb[k].total &&
                 la[k].orders == lb[k].orders;
        }
        if (!same) {
          ADD_FAILURE() << "seed " << seed << ": Depth differs after command #" << i;
          return false;
        }
      }
    }
  }
  return true;
}

int64_t TotalCommands() {
  const char* scale = std::getenv("XC_TEST_SCALE");
  if (scale != nullptr && std::strcmp(scale, "sanitizer") == 0) return 300'000;
#ifdef XC_SANITIZER_BUILD
  if (scale == nullptr) return 300'000;  // -DXC_SANITIZE builds are ~10x slower
#endif
  if (scale != nullptr && std::strcmp(scale, "soak") == 0) return 100'000'000;
  return 2'000'000;
}

TEST(OrderBookDifferentialTest, RandomStreamsAgreeWithReference) {
  constexpr uint64_t kSeeds[] = {1, 2, 3, 42, 1234567, 0x5eed5eed, 987654321, 20240601};
  constexpr int kNumSeeds = sizeof(kSeeds) / sizeof(kSeeds[0]);
  const int64_t per_seed = TotalCommands() / kNumSeeds;
  Coverage cov;
  for (uint64_t seed : kSeeds) {
    if (!RunSeed(seed, per_seed, cov)) return;
  }
  std::printf("coverage over %lld commands:\n  %s\n", static_cast<long long>(TotalCommands()),
              cov.Summary().c_str());
  using protocol::EventType;
  using protocol::RejectCode;
  for (int t = 0; t < 8; ++t) {
    EXPECT_GT(cov.events[t], 0) << protocol::EventTypeName(static_cast<EventType>(t));
  }
  for (RejectCode code :
       {RejectCode::kDuplicateOrderId, RejectCode::kInvalidQuantity, RejectCode::kInvalidPrice,
        RejectCode::kInvalidTimeInForce, RejectCode::kInvalidIceberg,
        RejectCode::kInvalidStopPrice, RejectCode::kUnknownOrder,
        RejectCode::kWouldTakeLiquidity, RejectCode::kWouldTriggerImmediately,
        RejectCode::kOrderNotAmendable}) {
    EXPECT_GT(cov.rejects[static_cast<int>(code) - 100], 0) << "reject code "
                                                             << static_cast<int>(code);
  }
  for (int k = 1; k < 5; ++k) EXPECT_GT(cov.expires[k], 0) << "expire reason " << k;
  EXPECT_GT(cov.kept_amends, 0);
  EXPECT_GT(cov.requeued_amends, 0);
  EXPECT_GT(cov.quote_market_trades, 0);
  EXPECT_GT(cov.max_resting, 50u);
}

// A small stream first, so that an early divergence shows up with a short,
// easily shrunk history.
TEST(OrderBookDifferentialTest, ShortStreamsAgreeWithReference) {
  Coverage cov;
  for (uint64_t seed = 100; seed < 300; ++seed) {
    if (!RunSeed(seed, 500, cov)) break;
  }
}


// Snapshots (OrderBook::SaveTo / LoadFrom) taken at random points of a random
// stream restore a book with the same state hash, and the restored book then
// produces exactly the events of the original on the rest of the stream.
TEST(OrderBookSnapshotTest, RestoredBookContinuesIdentically) {
  for (uint64_t seed : {11u, 12u, 13u}) {
    CommandGen gen(seed);
    ReferenceBook ref(kSym);
    OrderBook::Options opt;
    opt.max_orders = 1 << 14;
    opt.max_levels = 1 << 10;
    auto book = std::make_unique<OrderBook>(kSym, opt);
    EventBuffer ev_ref, ev_a, ev_b;
    protocol::Seq seq = 0;
    int restores = 0;
    for (int64_t i = 0; i < 60000; ++i) {
      const Command c = gen.Next(ref, i);
      ++seq;
      ev_ref.clear();
      ref.Apply(c, seq, ev_ref);
      ev_a.clear();
      book->Apply(c, seq, ev_a);
      ASSERT_EQ(ev_a.size(), ev_ref.size()) << "seed " << seed << " command " << i;
      if (i % 5000 == 4999) {
        std::string image;
        book->SaveTo(&image);
        auto restored = std::make_unique<OrderBook>(kSym, opt);
        ASSERT_TRUE(restored->LoadFrom(image).ok());
        ASSERT_EQ(restored->StateHash(), book->StateHash()) << "seed " << seed << " at " << i;
        ASSERT_EQ(restored->resting_orders(), book->resting_orders());
        ASSERT_EQ(restored->pending_stops(), book->pending_stops());
        // The restored book takes over; the original is dropped.
        book = std::move(restored);
        ++restores;
      }
      ASSERT_TRUE(std::equal(ev_a.begin(), ev_a.end(), ev_ref.begin()))
          << "seed " << seed << " command " << i << " after " << restores << " restores";
    }
    EXPECT_EQ(book->StateHash(), ref.StateHash());
    EXPECT_EQ(restores, 12);
  }
}

// Pools for the few orders of a hand-written image test.
OrderBook::Options TinyPools() {
  OrderBook::Options o;
  o.max_orders = 64;
  o.max_levels = 16;
  return o;
}

TEST(OrderBookSnapshotTest, BadImagesAreRefusedAndLeaveTheBookEmpty) {
  const OrderBook::Options opt = TinyPools();
  OrderBook a(kSym, opt);
  EventBuffer ev;
  a.Apply(Command::Limit(kSym, 1, 1, Side::kBuy, 100, 5), 1, ev);
  a.Apply(Command::Limit(kSym, 2, 1, Side::kSell, 101, 5), 2, ev);
  a.Apply(Command::Stop(kSym, 3, 1, Side::kSell, OrderType::kStopLossLimit, 90, 89, 5), 3, ev);
  std::string image;
  a.SaveTo(&image);

  OrderBook truncated(kSym, opt);
  EXPECT_FALSE(truncated.LoadFrom(std::string_view(image).substr(0, image.size() - 1)).ok());
  EXPECT_EQ(truncated.resting_orders(), 0u);
  EXPECT_EQ(truncated.pending_stops(), 0u);

  OrderBook other_symbol(kSym + 1, opt);
  EXPECT_FALSE(other_symbol.LoadFrom(image).ok());

  OrderBook not_empty(kSym, opt);
  not_empty.Apply(Command::Limit(kSym, 9, 1, Side::kBuy, 100, 5), 1, ev);
  EXPECT_FALSE(not_empty.LoadFrom(image).ok());

  std::string corrupt = image;
  corrupt[0] ^= 0x5a;
  OrderBook bad_magic(kSym, opt);
  EXPECT_FALSE(bad_magic.LoadFrom(corrupt).ok());

  OrderBook small(kSym, OrderBook::Options{2, 16});
  EXPECT_EQ(small.LoadFrom(image).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(small.resting_orders(), 0u);

  OrderBook good(kSym, opt);
  ASSERT_TRUE(good.LoadFrom(image).ok());
  EXPECT_EQ(good.StateHash(), a.StateHash());
  EXPECT_EQ(good.pending_stops(), 1u);
}

// The image carries the last trade id (version 2). A version 1 image, written
// before trade ids were the engine's, has a 40-byte header without it: it
// still loads, and the symbol's trade ids start again from 1.
TEST(OrderBookSnapshotTest, TradeIdsSurviveTheImageAndVersion1StillLoads) {
  const OrderBook::Options opt = TinyPools();
  OrderBook a(kSym, opt);
  EventBuffer ev;
  a.Apply(Command::Limit(kSym, 1, 1, Side::kSell, 100, 5), 1, ev);
  a.Apply(Command::Limit(kSym, 2, 2, Side::kBuy, 100, 2), 2, ev);
  a.Apply(Command::Limit(kSym, 3, 2, Side::kBuy, 100, 1), 3, ev);
  ASSERT_EQ(a.last_trade_id(), 2u);
  std::string image;
  a.SaveTo(&image);
  ASSERT_EQ(image.size(), 48u + 64u);  // header + the one resting order

  OrderBook b(kSym, opt);
  ASSERT_TRUE(b.LoadFrom(image).ok());
  EXPECT_EQ(b.last_trade_id(), 2u);
  EXPECT_EQ(b.StateHash(), a.StateHash());
  ev.clear();
  b.Apply(Command::Limit(kSym, 4, 3, Side::kBuy, 100, 1), 4, ev);
  ASSERT_EQ(ev[1].type, protocol::EventType::kTrade);
  EXPECT_EQ(ev[1].trade_id, 3u);

  std::string v1 = image.substr(0, 40) + image.substr(48);
  const uint32_t one = 1;
  std::memcpy(v1.data() + 4, &one, sizeof(one));
  OrderBook c(kSym, opt);
  ASSERT_TRUE(c.LoadFrom(v1).ok());
  EXPECT_EQ(c.last_trade_id(), 0u);
  EXPECT_EQ(c.resting_orders(), 1u);
  EXPECT_EQ(c.last_trade_price(), 100);
  ev.clear();
  c.Apply(Command::Limit(kSym, 4, 3, Side::kBuy, 100, 1), 4, ev);
  EXPECT_EQ(ev[1].trade_id, 1u);

  std::string v3 = image;
  const uint32_t three = 3;
  std::memcpy(v3.data() + 4, &three, sizeof(three));
  OrderBook d(kSym, opt);
  EXPECT_FALSE(d.LoadFrom(v3).ok());
  std::string v2_cut = image.substr(0, 44);  // version 2, header cut short
  EXPECT_FALSE(d.LoadFrom(v2_cut).ok());
  EXPECT_EQ(d.resting_orders(), 0u);
}

}  // namespace
}  // namespace xc::engine
