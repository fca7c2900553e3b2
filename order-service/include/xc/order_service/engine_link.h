#pragma once
// The order service's two seams towards the engine (STYLE.md §8.2): it sends
// protocol::Command through an EngineLink and reads reference prices through a
// MarketView. It never sees an engine type; events come back to the owning
// partition through Partition::OnEngineEvent.

#include "xc/protocol/command.h"
#include "xc/protocol/types.h"

namespace xc::order_service {

// EngineLink carries commands from one partition to the engine shard that owns
// the command's symbol.
//
// Thread safety: a link shared by partitions must take calls from several
// threads at once; one partition's calls never overlap (they come from
// whichever thread holds the partition).
// Contract: commands of one partition reach the engine in Send order (per
// symbol at least), each exactly once. Send must not call back into the
// partition (enqueue; deliver events later) so a partition method never
// re-enters (STYLE.md §13).
class EngineLink {
 public:
  virtual ~EngineLink() = default;
  // Hands `cmd` on, waiting while the engine's input is full.
  virtual void Send(const protocol::Command& cmd) = 0;
  // Hands `cmd` on if that needs no waiting; false (nothing sent) when the
  // engine's input is full. PartitionWorker forwards with it because the
  // thread holding a partition may be the one the engine waits for (its
  // event consumer). The default never refuses.
  virtual bool TrySend(const protocol::Command& cmd) {
    Send(cmd);
    return true;
  }
  // Called by the thread that made TrySend calls, once it holds no
  // partition (it may then do work that settles partitions: an in-process
  // link may apply the commands and deliver their events right there).
  virtual void Flush() {}
  // Called, holding no partition, before answers made ready outside the
  // delivery of engine events run (a check that waited for its batch to be
  // durable, or for time). Returns once a delivery of events that was under
  // way has reached every partition owning a side of them: an answer must
  // not tell of a fill that the other side's partition has not applied yet.
  // The default (no such delivery) returns at once.
  virtual void AwaitDeliveries() {}
};

// Reference prices of a symbol, in ticks; 0 means "none" (empty side, no
// trade yet).
struct MarketQuote {
  protocol::Price best_bid = 0;
  protocol::Price best_ask = 0;
  protocol::Price last = 0;
};

// MarketView gives a partition the reference prices it needs to bound orders
// whose price it does not know (a MARKET BUY by quantity) and to apply
// PERCENT_PRICE_BY_SIDE. Built from the market-data events; it may lag the
// book, which only loosens or tightens those bounds, never money safety (a
// MARKET BUY by quantity is sent with its bound as a limit price).
//
// Thread safety: Quote is called on the partition's thread; an implementation
// shared by partitions must make that safe.
class MarketView {
 public:
  virtual ~MarketView() = default;
  virtual MarketQuote Quote(protocol::SymbolId symbol) const = 0;
};

}  // namespace xc::order_service
