#include "xc/engine/shard.h"

#include "xc/protocol/hash.h"

namespace xc::engine {

using protocol::Command;
using protocol::CommandType;
using protocol::Event;
using protocol::EventType;
using protocol::RejectCode;

absl::Status Shard::AddSymbol(protocol::SymbolId symbol, const OrderBook::Options& options) {
  if (symbol < books_.size() && books_[symbol] != nullptr) {
    return absl::InvalidArgumentError("symbol already owned by this shard");
  }
  if (symbol >= books_.size()) books_.resize(symbol + 1);
  books_[symbol] = std::make_unique<OrderBook>(symbol, options);
  return absl::OkStatus();
}

void Shard::Apply(const Command& cmd, EventBuffer& out) {
  const protocol::Seq seq = ++seq_;
  OrderBook* b = book(cmd.symbol);
  RejectCode code = RejectCode::kNone;
  if (__builtin_expect(b == nullptr, 0)) {
    code = RejectCode::kUnknownSymbol;
  } else if (__builtin_expect(static_cast<uint8_t>(cmd.type) > 3, 0)) {
    code = RejectCode::kInvalidCommand;
  } else {
    b->Apply(cmd, seq, out);
    return;
  }
  Event& e = out.Emplace();
  e = Event{};
  e.type = EventType::kRejected;
  e.code = static_cast<int16_t>(code);
  e.symbol = cmd.symbol;
  e.seq = seq;
  e.ts = cmd.ts;
  e.order_id = cmd.order_id;
  e.user = cmd.user;
  e.side = cmd.side;
}

uint64_t Shard::StateHash() const {
  uint64_t h = protocol::HashCombine(protocol::kHashSeed, seq_);
  for (size_t i = 0; i < books_.size(); ++i) {
    if (books_[i] == nullptr) continue;
    h = protocol::HashCombine(h, i);
    h = protocol::HashCombine(h, books_[i]->StateHash());
  }
  return h;
}

std::vector<protocol::SymbolId> Shard::symbols() const {
  std::vector<protocol::SymbolId> out;
  for (size_t i = 0; i < books_.size(); ++i) {
    if (books_[i] != nullptr) out.push_back(static_cast<protocol::SymbolId>(i));
  }
  return out;
}

}  // namespace xc::engine
