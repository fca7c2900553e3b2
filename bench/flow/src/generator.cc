#include "xc/flow/generator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/order_book.h"

namespace xc::flow {
namespace {

using protocol::Command;
using protocol::Event;
using protocol::EventType;
using protocol::OrderId;
using protocol::Price;
using protocol::Qty;
using protocol::Side;
using protocol::TimeInForce;

constexpr uint32_t kNotLive = std::numeric_limits<uint32_t>::max();

// Random numbers with transforms of our own: std:: distributions differ between
// standard libraries, mt19937_64's raw sequence does not.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, n), n > 0 (multiply-shift; the bias is < n / 2^64).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(engine_()) * n) >> 64);
  }
  // Uniform in [0, 1) with 53 random bits.
  double Unit() { return static_cast<double>(engine_() >> 11) * 0x1p-53; }
  double Exponential(double mean) { return -mean * std::log(1.0 - Unit()); }

 private:
  std::mt19937_64 engine_;
};

struct LiveOrder {
  OrderId id;
  Side side;
};

}  // namespace

class FlowGenerator::Impl {
 public:
  explicit Impl(const GeneratorOptions& o)
      : opt_(o),
        rng_(o.seed),
        book_(0, BookOptions(o)),
        events_(1024),
        cancel_pct_(100.0 - o.add_pct - o.ioc_pct - o.gtc_cross_pct - o.amend_pct) {
    live_.reserve(o.resting * 2 + 16);
    slot_.reserve(o.resting * 2 + 16);
    slot_.push_back(kNotLive);  // order id 0 is never used
    sample_every_ = std::max<uint64_t>(1, o.ops / 20);
  }

  bool Next(Command* out) {
    if (emitted_ == total()) return false;
    Command cmd = emitted_ < opt_.resting ? Prefill() : Mixed();
    Apply(cmd);
    ++emitted_;
    if (emitted_ > opt_.resting) {
      const uint64_t live = live_.size();
      if (emitted_ == opt_.resting + 1) stats_.min_live = stats_.max_live = live;
      stats_.min_live = std::min(stats_.min_live, live);
      stats_.max_live = std::max(stats_.max_live, live);
      stats_.sum_live += static_cast<double>(live);
      if ((emitted_ - opt_.resting) % sample_every_ == 0) stats_.live_samples.push_back(live);
    }
    *out = cmd;
    return true;
  }

  uint64_t total() const { return opt_.resting + opt_.ops; }
  const GeneratorStats& stats() const { return stats_; }
  const GeneratorOptions& options() const { return opt_; }
  uint64_t live_orders() const { return live_.size(); }

 private:
  static engine::OrderBook::Options BookOptions(const GeneratorOptions& o) {
    engine::OrderBook::Options b;
    uint64_t want = std::max<uint64_t>(4096, uint64_t{o.resting} * 2 + 4096);
    b.max_orders = static_cast<uint32_t>(std::min<uint64_t>(want, 1u << 22));
    return b;
  }

  // Reference prices of the two sides: the real touch, or a stand-in one tick
  // beyond the other side (or around `mid`) when a side is empty.
  Price BidRef() const {
    if (auto b = book_.best_bid()) return *b;
    if (auto a = book_.best_ask()) return *a - 1;
    return opt_.mid - 1;
  }
  Price AskRef() const {
    if (auto a = book_.best_ask()) return *a;
    if (auto b = book_.best_bid()) return *b + 1;
    return opt_.mid + 1;
  }

  Price PassivePrice(Side side) {
    const Price d = 1 + static_cast<Price>(std::floor(rng_.Exponential(opt_.depth_mean)));
    const Price p = side == Side::kBuy ? AskRef() - d : BidRef() + d;
    return std::max<Price>(p, 1);
  }
  Qty Size() { return 1 + static_cast<Qty>(rng_.Below(static_cast<uint64_t>(opt_.max_qty))); }

  Command Add(Side side) {
    ++stats_.adds;
    return Command::Limit(0, NewId(), kFlowUser, side, PassivePrice(side), Size());
  }

  Command Prefill() {
    ++stats_.prefill;
    const Side side = emitted_ % 2 == 0 ? Side::kBuy : Side::kSell;
    return Command::Limit(0, NewId(), kFlowUser, side, PassivePrice(side), Size());
  }

  Command Mixed() {
    // Gentle feedback: shift share from add to cancel (or back) in proportion
    // to how far the live count is from its target.
    const double live = static_cast<double>(live_.size());
    const double err = (live - opt_.resting) / opt_.resting;
    const double shift = std::clamp(err * 100.0, -opt_.max_feedback, opt_.max_feedback);
    const double add = std::max(0.0, opt_.add_pct - shift);
    const double cancel = std::max(0.0, cancel_pct_ + shift);
    double u = rng_.Unit() * (add + cancel + opt_.ioc_pct + opt_.gtc_cross_pct + opt_.amend_pct);

    if ((u -= add) < 0 || live_.empty()) {
      // Lean towards the thinner side so neither side drains.
      const double imbalance = live > 0 ? (static_cast<double>(asks_) - bids_) / live : 0.0;
      const double p_buy = 0.5 + std::clamp(imbalance, -0.25, 0.25);
      return Add(rng_.Unit() < p_buy ? Side::kBuy : Side::kSell);
    }
    if ((u -= cancel) < 0) {
      ++stats_.cancels;
      const LiveOrder& o = live_[rng_.Below(live_.size())];
      return Command::Cancel(0, o.id, kFlowUser);
    }
    if ((u -= opt_.amend_pct) < 0) {
      ++stats_.amends;
      const LiveOrder o = live_[rng_.Below(live_.size())];
      const std::optional<engine::OrderView> v = book_.FindOrder(o.id);
      const Qty left = v ? v->visible + v->hidden : Size();
      return Command::Amend(0, o.id, PassivePrice(o.side), left, kFlowUser);
    }
    const bool ioc = u < opt_.ioc_pct;
    if (ioc) {
      ++stats_.ioc;
    } else {
      ++stats_.gtc_cross;
    }
    const Side side = rng_.Below(2) == 0 ? Side::kBuy : Side::kSell;
    const Price through = 1 + static_cast<Price>(rng_.Below(2));
    const Price price =
        side == Side::kBuy ? AskRef() + through : std::max<Price>(1, BidRef() - through);
    const uint64_t makers = 1 + rng_.Below(3);
    Qty qty = 0;
    for (uint64_t i = 0; i < makers; ++i) qty += Size();
    return Command::Limit(0, NewId(), kFlowUser, side, price, qty,
                          ioc ? TimeInForce::kIoc : TimeInForce::kGtc);
  }

  OrderId NewId() {
    slot_.push_back(kNotLive);
    return slot_.size() - 1;
  }

  // Applies cmd to the book, then re-reads every order it touched (itself and
  // the makers it traded with), so the live set is exact whatever the engine did.
  void Apply(const Command& cmd) {
    events_.clear();
    book_.Apply(cmd, ++seq_, events_);
    Sync(cmd.order_id);
    for (const Event& e : events_) {
      if (e.type != EventType::kTrade) continue;
      ++stats_.trades;
      stats_.volume += static_cast<uint64_t>(e.qty);
      Sync(e.maker_id);
    }
  }

  void Sync(OrderId id) {
    if (id >= slot_.size()) return;
    const std::optional<engine::OrderView> v = book_.FindOrder(id);
    const bool was_live = slot_[id] != kNotLive;
    if (v && !was_live) {
      slot_[id] = static_cast<uint32_t>(live_.size());
      live_.push_back({id, v->side});
      (v->side == Side::kBuy ? bids_ : asks_)++;
    } else if (!v && was_live) {
      const uint32_t at = slot_[id];
      (live_[at].side == Side::kBuy ? bids_ : asks_)--;
      live_[at] = live_.back();
      slot_[live_[at].id] = at;
      live_.pop_back();
      slot_[id] = kNotLive;
    }
  }

  const GeneratorOptions opt_;
  Rng rng_;
  engine::OrderBook book_;
  engine::EventBuffer events_;
  const double cancel_pct_;
  protocol::Seq seq_ = 0;
  uint64_t emitted_ = 0;
  uint64_t sample_every_ = 1;
  // Live orders in no particular order (uniform picks), and each order id's
  // index in live_ (kNotLive when not live). Ids are dense from 1.
  std::vector<LiveOrder> live_;
  std::vector<uint32_t> slot_;
  uint64_t bids_ = 0;
  uint64_t asks_ = 0;
  GeneratorStats stats_;
};

absl::StatusOr<std::unique_ptr<FlowGenerator>> FlowGenerator::Create(
    const GeneratorOptions& o) {
  const auto pct_ok = [](double p) { return p >= 0.0 && p <= 100.0; };
  if (o.resting == 0) return absl::InvalidArgumentError("resting must be > 0");
  if (!(o.depth_mean > 0.0)) return absl::InvalidArgumentError("depth_mean must be > 0");
  if (o.max_qty < 1) return absl::InvalidArgumentError("max_qty must be >= 1");
  if (o.mid < 2) return absl::InvalidArgumentError("mid must be >= 2");
  if (o.symbol.empty() || o.symbol.find_first_of(",#\n\r \t") != std::string::npos) {
    return absl::InvalidArgumentError("symbol must be non-empty, without ',', '#' or blanks");
  }
  if (!pct_ok(o.add_pct) || !pct_ok(o.ioc_pct) || !pct_ok(o.gtc_cross_pct) ||
      !pct_ok(o.amend_pct) || o.add_pct + o.ioc_pct + o.gtc_cross_pct + o.amend_pct > 100.0) {
    return absl::InvalidArgumentError("mix percentages must be in [0,100] and sum to <= 100");
  }
  if (!(o.max_feedback >= 0.0)) return absl::InvalidArgumentError("max_feedback must be >= 0");
  return std::unique_ptr<FlowGenerator>(new FlowGenerator(std::make_unique<Impl>(o)));
}

FlowGenerator::FlowGenerator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FlowGenerator::~FlowGenerator() = default;
bool FlowGenerator::Next(Command* cmd) { return impl_->Next(cmd); }
uint64_t FlowGenerator::total_commands() const { return impl_->total(); }
const GeneratorStats& FlowGenerator::stats() const { return impl_->stats(); }
const GeneratorOptions& FlowGenerator::options() const { return impl_->options(); }
uint64_t FlowGenerator::live_orders() const { return impl_->live_orders(); }

absl::StatusOr<Flow> GenerateFlow(const GeneratorOptions& options, GeneratorStats* stats) {
  absl::StatusOr<std::unique_ptr<FlowGenerator>> gen = FlowGenerator::Create(options);
  if (!gen.ok()) return gen.status();
  Flow flow;
  flow.symbols.push_back(options.symbol);
  flow.commands.reserve((*gen)->total_commands());
  Command cmd;
  while ((*gen)->Next(&cmd)) {
    flow.commands.push_back(cmd);
    if (cmd.type == protocol::CommandType::kNewOrder) {
      ++flow.new_orders;
    } else if (cmd.type == protocol::CommandType::kCancel) {
      ++flow.cancels;
    } else {
      ++flow.amends;
    }
  }
  flow.new_orders_per_symbol.push_back(flow.new_orders);
  if (stats != nullptr) *stats = (*gen)->stats();
  return flow;
}

std::string DescribeOptions(const GeneratorOptions& o) {
  return absl::StrFormat(
      "seed=%d resting=%d depth_mean=%g ops=%d symbol=%s mid=%d max_qty=%d\n"
      "mix: add=%g%% cancel=%g%% ioc=%g%% gtc_cross=%g%% amend=%g%% (after a prefill of %d "
      "passive adds; add/cancel feedback up to %g points)",
      o.seed, o.resting, o.depth_mean, o.ops, o.symbol, o.mid, o.max_qty, o.add_pct,
      100.0 - o.add_pct - o.ioc_pct - o.gtc_cross_pct - o.amend_pct, o.ioc_pct,
      o.gtc_cross_pct, o.amend_pct, o.resting, o.max_feedback);
}

std::string DescribeStats(const GeneratorStats& s) {
  const uint64_t ops = s.adds + s.cancels + s.ioc + s.gtc_cross + s.amends;
  const auto pct = [&](uint64_t n) { return ops ? 100.0 * static_cast<double>(n) / ops : 0.0; };
  std::string out = absl::StrFormat(
      "realised mix over %d ops: add=%.2f%% cancel=%.2f%% ioc=%.2f%% gtc_cross=%.2f%% "
      "amend=%.2f%%; trades=%d volume=%d; live min=%d mean=%.0f max=%d; live samples:",
      ops, pct(s.adds), pct(s.cancels), pct(s.ioc), pct(s.gtc_cross), pct(s.amends),
      s.trades, s.volume, s.min_live, ops ? s.sum_live / ops : 0.0, s.max_live);
  for (uint64_t v : s.live_samples) absl::StrAppend(&out, " ", v);
  return out;
}

}  // namespace xc::flow
