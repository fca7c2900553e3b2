#include "xc/engine/shard.h"

#include <cstring>

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

namespace {
constexpr uint32_t kShardImageMagic = 0x44534358;  // "XCSD"
struct ShardImageHeader {
  uint32_t magic;
  uint32_t books;
  uint64_t seq;
};
struct BookImageHeader {
  uint32_t symbol;
  uint32_t reserved;
  uint64_t bytes;
};
}  // namespace

void Shard::SaveTo(std::string* out) const {
  const std::vector<protocol::SymbolId> syms = symbols();
  const ShardImageHeader h{kShardImageMagic, static_cast<uint32_t>(syms.size()), seq_};
  out->append(reinterpret_cast<const char*>(&h), sizeof(h));
  for (protocol::SymbolId s : syms) {
    const size_t at = out->size();
    BookImageHeader bh{s, 0, 0};
    out->append(reinterpret_cast<const char*>(&bh), sizeof(bh));
    books_[s]->SaveTo(out);
    bh.bytes = out->size() - at - sizeof(bh);
    std::memcpy(out->data() + at, &bh, sizeof(bh));
  }
}

absl::Status Shard::LoadFrom(std::string_view image) {
  ShardImageHeader h;
  if (image.size() < sizeof(h)) return absl::InvalidArgumentError("shard image: truncated");
  std::memcpy(&h, image.data(), sizeof(h));
  if (h.magic != kShardImageMagic) return absl::InvalidArgumentError("shard image: bad magic");
  if (seq_ != 0) return absl::InvalidArgumentError("shard image: shard already applied commands");
  const std::vector<protocol::SymbolId> syms = symbols();
  if (h.books != syms.size()) {
    return absl::InvalidArgumentError("shard image: symbol count differs from the shard's");
  }
  image.remove_prefix(sizeof(h));
  absl::Status st;
  for (uint32_t i = 0; i < h.books && st.ok(); ++i) {
    BookImageHeader bh;
    if (image.size() < sizeof(bh)) {
      st = absl::InvalidArgumentError("shard image: truncated book header");
      break;
    }
    std::memcpy(&bh, image.data(), sizeof(bh));
    image.remove_prefix(sizeof(bh));
    if (bh.symbol != syms[i] || bh.bytes > image.size()) {
      st = absl::InvalidArgumentError("shard image: book of an unexpected symbol or size");
      break;
    }
    st = books_[bh.symbol]->LoadFrom(image.substr(0, bh.bytes));
    image.remove_prefix(bh.bytes);
  }
  if (st.ok() && !image.empty()) st = absl::InvalidArgumentError("shard image: trailing bytes");
  if (!st.ok()) {
    // Leave every book empty again.
    for (protocol::SymbolId s : syms) {
      const OrderBook::Options o = books_[s]->options();
      books_[s] = std::make_unique<OrderBook>(s, o);
    }
    return st;
  }
  seq_ = h.seq;
  return absl::OkStatus();
}

std::vector<protocol::SymbolId> Shard::symbols() const {
  std::vector<protocol::SymbolId> out;
  for (size_t i = 0; i < books_.size(); ++i) {
    if (books_[i] != nullptr) out.push_back(static_cast<protocol::SymbolId>(i));
  }
  return out;
}

}  // namespace xc::engine
