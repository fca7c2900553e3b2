#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/order_book.h"
#include "xc/protocol/command.h"
#include "xc/protocol/types.h"

namespace xc::engine {

// Shard is the single-threaded state machine of one engine shard: the books of
// many symbols and the shard's sequence number. It has no thread of its own
// (ShardRunner in engine_node drives it); a test or the one-process build may
// call Apply directly ("invoker" mode, STYLE.md §10).
//
// Thread safety: owned by one thread; not thread-safe.
// Determinism: its output is a pure function of the sequence of commands
// applied (DESIGN.md invariant 1); StateHash() proves it.
// Allocation: AddSymbol allocates the book's pools; Apply allocates nothing
// (see OrderBook and EventBuffer).
class Shard {
 public:
  Shard() = default;
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Creates the book of `symbol`. InvalidArgument if the symbol is already
  // there. Not for the hot path.
  [[nodiscard]] absl::Status AddSymbol(protocol::SymbolId symbol,
                                       const OrderBook::Options& options);

  // Stamps cmd with the next sequence number and applies it to its book,
  // appending its events to out. An unknown symbol yields Rejected
  // (kUnknownSymbol); an unknown command type Rejected (kInvalidCommand). Both
  // still consume a sequence number, so that journal and output stay aligned.
  void Apply(const protocol::Command& cmd, EventBuffer& out);

  // Hint that cmd will be applied soon (see OrderBook::Prefetch). Callers
  // that hold a batch call it for the next command before applying the current.
  // Only cancels and amends look up an existing order; a new order's id is
  // usually next to the previous one and already cached.
  void Prefetch(const protocol::Command& cmd) const {
    if (cmd.type == protocol::CommandType::kNewOrder) return;
    if (const OrderBook* b = book(cmd.symbol)) b->Prefetch(cmd);
  }

  // Sequence number of the last command applied (0 before the first).
  protocol::Seq last_seq() const { return seq_; }
  uint64_t commands_applied() const { return seq_; }

  // Snapshot image of the whole shard at last_seq(): the sequence number and
  // every book's OrderBook::SaveTo image, in symbol order. Appends to *out.
  // Called on the shard's thread: this is the snapshot pause.
  void SaveTo(std::string* out) const;
  // Restores an image written by SaveTo. REQUIRES: the shard owns exactly the
  // image's symbols (AddSymbol done), all books empty, nothing applied yet.
  // Errors: InvalidArgument for a malformed image or a symbol mismatch (the
  // shard is then left with empty books and seq 0).
  [[nodiscard]] absl::Status LoadFrom(std::string_view image);

  // Hash of the sequence number and every book's StateHash, in symbol order.
  uint64_t StateHash() const;

  // The book of `symbol`, or nullptr if the shard does not own it.
  OrderBook* book(protocol::SymbolId symbol) {
    return symbol < books_.size() ? books_[symbol].get() : nullptr;
  }
  const OrderBook* book(protocol::SymbolId symbol) const {
    return symbol < books_.size() ? books_[symbol].get() : nullptr;
  }
  // Owned symbols, ascending.
  std::vector<protocol::SymbolId> symbols() const;

 private:
  protocol::Seq seq_ = 0;
  // Indexed by SymbolId (dense per process); null where another shard owns it.
  std::vector<std::unique_ptr<OrderBook>> books_;
};

}  // namespace xc::engine
