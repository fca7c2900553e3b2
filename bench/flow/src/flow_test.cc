#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "xc/flow/flow_format.h"
#include "xc/flow/generator.h"

namespace xc::flow {
namespace {

using protocol::Command;
using protocol::CommandType;
using protocol::OrderType;
using protocol::Side;
using protocol::TimeInForce;

bool SameCommand(const Command& a, const Command& b) {
  return a.type == b.type && a.side == b.side && a.order_type == b.order_type &&
         a.tif == b.tif && a.stp == b.stp && a.symbol == b.symbol && a.order_id == b.order_id &&
         a.user == b.user && a.price == b.price && a.qty == b.qty && a.quote_qty == b.quote_qty;
}

TEST(FlowFormatTest, ParsesEveryLineKind) {
  const std::string text =
      "A,BTCUSDT,1,B,1000000,5,GTC\n"
      "A,BTCUSDT,2,S,1000010,7,IOC\n"
      "A,ETHUSDT,3,B,500,1,FOK\n"
      "A,BTCUSDT,4,S,1000020,2,MAKER\n"
      "A,ETHUSDT,5,S,0,3,MARKET\n"
      "C,BTCUSDT,1\n"
      "M,ETHUSDT,3,499,1\n";
  absl::StatusOr<Flow> flow = ParseFlow(text);
  ASSERT_TRUE(flow.ok()) << flow.status();
  ASSERT_EQ(flow->commands.size(), 7u);
  EXPECT_EQ(flow->symbols, (std::vector<std::string>{"BTCUSDT", "ETHUSDT"}));
  EXPECT_EQ(flow->new_orders, 5u);
  EXPECT_EQ(flow->cancels, 1u);
  EXPECT_EQ(flow->amends, 1u);
  EXPECT_EQ(flow->new_orders_per_symbol, (std::vector<uint64_t>{3, 2}));
  const auto& c = flow->commands;
  EXPECT_TRUE(SameCommand(c[0], Command::Limit(0, 1, kFlowUser, Side::kBuy, 1000000, 5)));
  EXPECT_TRUE(SameCommand(
      c[1], Command::Limit(0, 2, kFlowUser, Side::kSell, 1000010, 7, TimeInForce::kIoc)));
  EXPECT_TRUE(
      SameCommand(c[2], Command::Limit(1, 3, kFlowUser, Side::kBuy, 500, 1, TimeInForce::kFok)));
  EXPECT_TRUE(SameCommand(c[3], Command::LimitMaker(0, 4, kFlowUser, Side::kSell, 1000020, 2)));
  EXPECT_TRUE(SameCommand(c[4], Command::Market(1, 5, kFlowUser, Side::kSell, 3)));
  EXPECT_TRUE(SameCommand(c[5], Command::Cancel(0, 1, kFlowUser)));
  EXPECT_TRUE(SameCommand(c[6], Command::Amend(1, 3, 499, 1, kFlowUser)));
  EXPECT_EQ(c[6].type, CommandType::kAmend);
  EXPECT_EQ(c[3].order_type, OrderType::kLimitMaker);
}

TEST(FlowFormatTest, CommentsBlankLinesAndCrlfAreIgnored) {
  const std::string text =
      "# header comment\n"
      "\n"
      "   \t\n"
      "A,X,1,B,100,5,GTC   # trailing comment\r\n"
      "  # indented comment\n"
      "C,X,1\r\n"
      "#";
  absl::StatusOr<Flow> flow = ParseFlow(text);
  ASSERT_TRUE(flow.ok()) << flow.status();
  ASSERT_EQ(flow->commands.size(), 2u);
  EXPECT_EQ(flow->commands[0].qty, 5);
  EXPECT_EQ(flow->commands[1].type, CommandType::kCancel);
}

TEST(FlowFormatTest, EmptyInputIsAnEmptyFlow) {
  absl::StatusOr<Flow> flow = ParseFlow("");
  ASSERT_TRUE(flow.ok());
  EXPECT_TRUE(flow->commands.empty());
}

TEST(FlowFormatTest, BadLinesNameTheLine) {
  struct Case {
    std::string text;
    std::string want;
  };
  const Case cases[] = {
      {"A,X,1,B,100,5,GTC\nZ,X,1\n", "f.csv:2: unknown command"},
      {"# c\n\nA,X,1,Q,100,5,GTC\n", "f.csv:3: side must be B or S"},
      {"A,X,1,B,-5,5,GTC\n", "f.csv:1: price is not an unsigned integer"},
      {"A,X,1,B,100,5,DAY\n", "f.csv:1: order type must be"},
      {"A,X,1,B,100\n", "f.csv:1: missing quantity"},
      {"C,X\n", "f.csv:1: missing order id"},
      {"C,X,1,2\n", "f.csv:1: unexpected extra fields"},
      {"M,X,1,100\n", "f.csv:1: missing quantity"},
      {"A,,1,B,100,5,GTC\n", "f.csv:1: missing symbol"},
      {"A,X,1,B,99999999999999999999,5,GTC\n", "f.csv:1: price out of range"},
      {"C,X,1\nC,X,2\nC,X,1x\n", "f.csv:3: order id is not an unsigned integer"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Flow> flow = ParseFlow(c.text, "f.csv");
    ASSERT_FALSE(flow.ok()) << c.text;
    EXPECT_EQ(flow.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(flow.status().message().find(c.want), std::string::npos)
        << "got: " << flow.status().message() << "\nwant: " << c.want;
  }
}

TEST(FlowFormatTest, FormatParseRoundTrip) {
  Flow flow;
  flow.symbols = {"AAA", "BBB"};
  flow.commands = {
      Command::Limit(0, 1, kFlowUser, Side::kBuy, 1000000, 5),
      Command::Limit(1, 2, kFlowUser, Side::kSell, 7, 9, TimeInForce::kIoc),
      Command::Limit(0, 3, kFlowUser, Side::kSell, 8, 1, TimeInForce::kFok),
      Command::LimitMaker(1, 4, kFlowUser, Side::kBuy, 6, 2),
      Command::Market(0, 5, kFlowUser, Side::kBuy, 11),
      Command::Cancel(1, 4, kFlowUser),
      Command::Amend(0, 1, 999999, 3, kFlowUser),
  };
  absl::StatusOr<std::string> text = FormatFlow(flow);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->substr(0, text->find('\n')), "A,AAA,1,B,1000000,5,GTC");
  absl::StatusOr<Flow> back = ParseFlow(*text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->symbols, flow.symbols);
  ASSERT_EQ(back->commands.size(), flow.commands.size());
  for (size_t i = 0; i < flow.commands.size(); ++i) {
    EXPECT_TRUE(SameCommand(back->commands[i], flow.commands[i])) << "command " << i;
  }
  absl::StatusOr<std::string> again = FormatFlow(*back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *text);
}

TEST(FlowFormatTest, RefusesWhatTheFormatCannotExpress) {
  std::string out;
  EXPECT_FALSE(AppendCommandLine(Command::MassCancel(0, kFlowUser), "X", &out).ok());
  EXPECT_FALSE(AppendCommandLine(Command::MarketQuote(0, 1, kFlowUser, Side::kBuy, 100), "X",
                                 &out).ok());
  EXPECT_FALSE(
      AppendCommandLine(Command::Limit(0, 1, /*user=*/2, Side::kBuy, 10, 1), "X", &out).ok());
  Command iceberg = Command::Limit(0, 1, kFlowUser, Side::kBuy, 10, 5);
  iceberg.iceberg_qty = 1;
  EXPECT_FALSE(AppendCommandLine(iceberg, "X", &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(FlowFormatTest, WriterAndFileReaderAgree) {
  std::string path = ::testing::TempDir() + "/flow_test_writer.csv";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  {
    FlowWriter w(f, {"SYM"});
    ASSERT_TRUE(w.Comment("two\nline header").ok());
    ASSERT_TRUE(w.Write(Command::Limit(0, 1, kFlowUser, Side::kBuy, 10, 1)).ok());
    ASSERT_TRUE(w.Write(Command::Cancel(0, 1, kFlowUser)).ok());
    EXPECT_FALSE(w.Write(Command::Cancel(3, 1, kFlowUser)).ok());  // no name for symbol 3
    ASSERT_TRUE(w.Flush().ok());
  }
  std::fclose(f);
  absl::StatusOr<Flow> flow = ReadFlowFile(path);
  ASSERT_TRUE(flow.ok()) << flow.status();
  EXPECT_EQ(flow->commands.size(), 2u);
  std::remove(path.c_str());

  absl::StatusOr<Flow> missing = ReadFlowFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
}

GeneratorOptions SmallOptions(uint64_t seed) {
  GeneratorOptions o;
  o.seed = seed;
  o.resting = 500;
  o.depth_mean = 8;
  o.ops = 100000;
  return o;
}

TEST(FlowGeneratorTest, SameSeedSameFlow) {
  absl::StatusOr<Flow> a = GenerateFlow(SmallOptions(42));
  absl::StatusOr<Flow> b = GenerateFlow(SmallOptions(42));
  absl::StatusOr<Flow> c = GenerateFlow(SmallOptions(43));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  absl::StatusOr<std::string> ta = FormatFlow(*a), tb = FormatFlow(*b), tc = FormatFlow(*c);
  ASSERT_TRUE(ta.ok() && tb.ok() && tc.ok()) << ta.status();
  EXPECT_EQ(*ta, *tb);
  EXPECT_NE(*ta, *tc);
  // The text is a valid flow that parses back to the same commands.
  absl::StatusOr<Flow> back = ParseFlow(*ta);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->commands.size(), a->commands.size());
}

TEST(FlowGeneratorTest, HoldsRestingCountNearTarget) {
  for (uint32_t resting : {1000u, 10000u}) {
    GeneratorOptions o = SmallOptions(1);
    o.resting = resting;
    o.ops = 300000;
    GeneratorStats stats;
    absl::StatusOr<Flow> flow = GenerateFlow(o, &stats);
    ASSERT_TRUE(flow.ok()) << flow.status();
    EXPECT_EQ(flow->commands.size(), resting + o.ops);
    EXPECT_EQ(stats.prefill, resting);
    const double mean = stats.sum_live / static_cast<double>(o.ops);
    EXPECT_NEAR(mean, resting, 0.1 * resting) << DescribeStats(stats);
    EXPECT_GT(static_cast<double>(stats.min_live), 0.7 * resting) << DescribeStats(stats);
    EXPECT_LT(static_cast<double>(stats.max_live), 1.3 * resting) << DescribeStats(stats);
    // The mix is close to the requested one, and crossing orders do trade.
    const double ops = static_cast<double>(o.ops);
    EXPECT_NEAR(stats.ioc / ops, 0.07, 0.01);
    EXPECT_NEAR(stats.gtc_cross / ops, 0.03, 0.01);
    EXPECT_NEAR(stats.amends / ops, 0.05, 0.01);
    EXPECT_NEAR(stats.adds / ops, 0.50, 0.05);
    EXPECT_NEAR(stats.cancels / ops, 0.35, 0.05);
    EXPECT_GT(stats.trades, stats.ioc + stats.gtc_cross);
  }
}

TEST(FlowGeneratorTest, RejectsBadOptions) {
  GeneratorOptions o;
  o.resting = 0;
  EXPECT_FALSE(FlowGenerator::Create(o).ok());
  o = GeneratorOptions{};
  o.depth_mean = 0;
  EXPECT_FALSE(FlowGenerator::Create(o).ok());
  o = GeneratorOptions{};
  o.symbol = "A,B";
  EXPECT_FALSE(FlowGenerator::Create(o).ok());
  o = GeneratorOptions{};
  o.add_pct = 90;
  EXPECT_FALSE(FlowGenerator::Create(o).ok());
}

}  // namespace
}  // namespace xc::flow
