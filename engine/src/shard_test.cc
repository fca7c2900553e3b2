// Tests of xc::engine::Shard: routing by symbol, sequence stamping, rejects of
// unknown symbols and command types, and the shard state hash.

#include "xc/engine/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include <vector>

#include "testing/reference_book.h"
#include "xc/engine/event_buffer.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"
#include "xc/protocol/hash.h"

namespace xc::engine {
namespace {

using protocol::Command;
using protocol::CommandType;
using protocol::Event;
using protocol::EventType;
using protocol::HashCombine;
using protocol::RejectCode;
using protocol::Side;

OrderBook::Options SmallOptions() {
  OrderBook::Options o;
  o.max_orders = 1024;
  o.max_levels = 256;
  return o;
}

TEST(ShardTest, AddSymbolTwiceIsInvalidArgument) {
  Shard shard;
  ASSERT_TRUE(shard.AddSymbol(4, SmallOptions()).ok());
  ASSERT_TRUE(shard.AddSymbol(1, SmallOptions()).ok());
  absl::Status s = shard.AddSymbol(4, SmallOptions());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(shard.symbols(), (std::vector<protocol::SymbolId>{1, 4}));
  EXPECT_NE(shard.book(4), nullptr);
  EXPECT_EQ(shard.book(2), nullptr);
  EXPECT_EQ(shard.book(100), nullptr);
}

TEST(ShardTest, UnknownSymbolIsRejectedAndConsumesASeq) {
  Shard shard;
  ASSERT_TRUE(shard.AddSymbol(2, SmallOptions()).ok());
  EventBuffer out;
  Command c = Command::Limit(5, 11, 7, Side::kSell, 100, 3);
  c.ts = 1234;
  shard.Apply(c, out);
  ASSERT_EQ(out.size(), 1u);
  Event want;
  want.type = EventType::kRejected;
  want.code = static_cast<int16_t>(RejectCode::kUnknownSymbol);
  want.symbol = 5;
  want.seq = 1;
  want.ts = 1234;
  want.order_id = 11;
  want.user = 7;
  want.side = Side::kSell;
  EXPECT_EQ(out[0], want) << testing::EventToString(out[0]);
  EXPECT_EQ(shard.last_seq(), 1u);
  // A symbol just past the end of a sparse table is unknown too.
  out.clear();
  shard.Apply(Command::Cancel(3, 1), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].code, static_cast<int16_t>(RejectCode::kUnknownSymbol));
  EXPECT_EQ(out[0].seq, 2u);
}

TEST(ShardTest, UnknownCommandTypeIsRejected) {
  Shard shard;
  ASSERT_TRUE(shard.AddSymbol(0, SmallOptions()).ok());
  EventBuffer out;
  Command c = Command::Limit(0, 1, 1, Side::kBuy, 100, 3);
  c.type = static_cast<CommandType>(9);
  shard.Apply(c, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, EventType::kRejected);
  EXPECT_EQ(out[0].code, static_cast<int16_t>(RejectCode::kInvalidCommand));
  EXPECT_EQ(out[0].seq, 1u);
  EXPECT_EQ(shard.book(0)->resting_orders(), 0u);
}

TEST(ShardTest, EveryEventCarriesItsCommandsSeqAndTs) {
  Shard shard;
  ASSERT_TRUE(shard.AddSymbol(0, SmallOptions()).ok());
  ASSERT_TRUE(shard.AddSymbol(1, SmallOptions()).ok());
  std::vector<Command> cmds = {
      Command::Limit(0, 1, 1, Side::kSell, 100, 3),
      Command::Limit(1, 1, 1, Side::kSell, 200, 3),  // same id on another symbol
      Command::Limit(0, 2, 2, Side::kBuy, 100, 5),
      Command::Cancel(0, 99),
      Command::Market(1, 3, 2, Side::kBuy, 1),
      Command::MassCancel(0, 2),
  };
  EventBuffer out;
  for (size_t i = 0; i < cmds.size(); ++i) {
    cmds[i].ts = 5000 + static_cast<int64_t>(i);
    const size_t before = out.size();
    shard.Apply(cmds[i], out);
    ASSERT_GT(out.size(), before) << "command " << i << " emitted nothing";
    for (size_t k = before; k < out.size(); ++k) {
      EXPECT_EQ(out[k].seq, i + 1) << testing::EventToString(out[k]);
      EXPECT_EQ(out[k].ts, cmds[i].ts);
      EXPECT_EQ(out[k].symbol, cmds[i].symbol);
    }
  }
  EXPECT_EQ(shard.last_seq(), cmds.size());
  EXPECT_EQ(shard.commands_applied(), cmds.size());
  EXPECT_EQ(shard.book(0)->resting_orders(), 0u);
  EXPECT_EQ(shard.book(1)->resting_orders(), 1u);
  EXPECT_EQ(shard.book(1)->last_trade_price(), 200);
}

TEST(ShardTest, StateHashCombinesSeqAndBooks) {
  Shard shard;
  ASSERT_TRUE(shard.AddSymbol(1, SmallOptions()).ok());
  ASSERT_TRUE(shard.AddSymbol(3, SmallOptions()).ok());
  testing::ReferenceBook ref1(1), ref3(3);
  std::vector<Command> cmds = {
      Command::Limit(1, 1, 1, Side::kSell, 100, 3),
      Command::Limit(3, 2, 1, Side::kBuy, 50, 3),
      Command::Limit(9, 3, 1, Side::kBuy, 50, 3),  // unknown symbol
      Command::Limit(1, 4, 2, Side::kBuy, 101, 5),
  };
  EventBuffer out, ref_out;
  protocol::Seq seq = 0;
  for (const Command& c : cmds) {
    shard.Apply(c, out);
    ++seq;
    if (c.symbol == 1) ref1.Apply(c, seq, ref_out);
    if (c.symbol == 3) ref3.Apply(c, seq, ref_out);
  }
  uint64_t want = HashCombine(protocol::kHashSeed, seq);
  want = HashCombine(want, 1);
  want = HashCombine(want, shard.book(1)->StateHash());
  want = HashCombine(want, 3);
  want = HashCombine(want, shard.book(3)->StateHash());
  EXPECT_EQ(shard.StateHash(), want);
  // The books' hashes agree with the reference model's.
  EXPECT_EQ(shard.book(1)->StateHash(), ref1.StateHash());
  EXPECT_EQ(shard.book(3)->StateHash(), ref3.StateHash());
}

TEST(ShardTest, SameCommandsGiveSameHash) {
  Shard a, b;
  for (Shard* s : {&a, &b}) ASSERT_TRUE(s->AddSymbol(0, SmallOptions()).ok());
  EventBuffer out;
  std::vector<Command> cmds = {
      Command::Limit(0, 1, 1, Side::kSell, 100, 3),
      Command::Limit(0, 2, 2, Side::kBuy, 99, 5),
      Command::Amend(0, 2, 99, 4),
  };
  for (const Command& c : cmds) {
    a.Apply(c, out);
    b.Apply(c, out);
  }
  EXPECT_EQ(a.StateHash(), b.StateHash());
  // A rejected command changes no book but still moves the sequence number.
  b.Apply(Command::Cancel(0, 77), out);
  EXPECT_NE(a.StateHash(), b.StateHash());
  EXPECT_EQ(a.book(0)->StateHash(), b.book(0)->StateHash());
  a.Apply(Command::Cancel(0, 78), out);
  EXPECT_EQ(a.StateHash(), b.StateHash());
  a.Apply(Command::Cancel(0, 1), out);
  b.Apply(Command::Cancel(0, 2), out);
  EXPECT_NE(a.StateHash(), b.StateHash());
}


TEST(ShardTest, SnapshotImageRestoresSeqAndEveryBook) {
  auto make = [] {
    auto s = std::make_unique<Shard>();
    EXPECT_TRUE(s->AddSymbol(0, OrderBook::Options{1024, 64}).ok());
    EXPECT_TRUE(s->AddSymbol(2, OrderBook::Options{1024, 64}).ok());
    return s;
  };
  auto a = make();
  EventBuffer ev;
  for (uint64_t id = 1; id <= 200; ++id) {
    const protocol::SymbolId sym = id % 2 == 0 ? 0 : 2;
    const Side side = id % 3 == 0 ? Side::kSell : Side::kBuy;
    a->Apply(Command::Limit(sym, id, id % 5 + 1, side, 1000 + (side == Side::kSell ? 10 : -10) +
                                                       static_cast<int64_t>(id % 7),
                            static_cast<int64_t>(id % 9) + 1),
             ev);
    if (id % 4 == 0) a->Apply(Command::Cancel(sym, id - 2), ev);
  }
  std::string image;
  a->SaveTo(&image);
  auto b = make();
  ASSERT_TRUE(b->LoadFrom(image).ok());
  EXPECT_EQ(b->last_seq(), a->last_seq());
  EXPECT_EQ(b->StateHash(), a->StateHash());
  // Both continue identically.
  EventBuffer ea, eb;
  a->Apply(Command::Market(0, 999, 7, Side::kBuy, 20), ea);
  b->Apply(Command::Market(0, 999, 7, Side::kBuy, 20), eb);
  ASSERT_EQ(ea.size(), eb.size());
  EXPECT_TRUE(std::equal(ea.begin(), ea.end(), eb.begin()));
  EXPECT_EQ(b->StateHash(), a->StateHash());

  // A shard with other symbols refuses the image and stays empty.
  Shard c;
  ASSERT_TRUE(c.AddSymbol(0, OrderBook::Options{1024, 64}).ok());
  EXPECT_FALSE(c.LoadFrom(image).ok());
  EXPECT_EQ(c.last_seq(), 0u);
  EXPECT_EQ(c.book(0)->resting_orders(), 0u);
}

}  // namespace
}  // namespace xc::engine
