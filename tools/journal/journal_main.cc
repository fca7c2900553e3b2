// journal: inspect, check and replay a shard's command journal
// (engine/doc/journal_format.md).
//
//   journal dump DIR             one line per record (segment headers included)
//   journal verify DIR           CRCs, framing, sequence continuity, snapshot files,
//                                and that the newest valid snapshot + journal reach
//                                the end; changes nothing
//   journal replay DIR [--max-orders N] [--symbols N] [--no-snapshot]
//                                rebuilds the books from the newest valid snapshot
//                                plus the journal after it (or the journal alone)
//                                and prints engine-replay's summary line
//   journal snapshot DIR         lists the snapshots (seq, size, books, orders, valid)
//   journal snapshot DIR --take [--at SEQ] [--retention keep|delete|archive:<dir>]
//                                writes a snapshot of the state at SEQ (default:
//                                the last command) into DIR, offline
//   journal import FLOW DIR [--policy P] [--backend B] [--shard-id N]
//                                writes a flow file (bench/README.md) as a journal
//
// replay: with a snapshot, the shard owns the snapshot's symbols, the line
// above the summary names the snapshot, and commands/trades/volume count the
// commands replayed after it (the summary then ends in snapshot_seq=S);
// without one, the shard owns symbols 0..N-1, N = --symbols or 1 + the largest
// symbol id in the journal. Each book's pool is sized from a first pass (2x
// its live orders in the snapshot plus its new orders in the journal, power of
// two, 4096..2^21) unless --max-orders is given.
//
// Exit codes: 0 ok; 1 the journal has a problem (corruption, sequence gap, torn
// tail, wrong format) -- the message names the file and offset; 2 usage or I/O
// error.

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xc/engine/event_buffer.h"
#include "xc/engine/io/file_journal.h"
#include "xc/engine/io/file_snapshot_store.h"
#include "xc/engine/journal_format.h"
#include "xc/engine/journal_reader.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/order_book.h"
#include "xc/engine/shard.h"
#include "xc/engine/snapshot_recovery.h"
#include "xc/engine/snapshot_store.h"
#include "xc/flow/flow_format.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"

namespace {

using xc::engine::JournalRecord;
using xc::engine::JournalRecordType;
using xc::engine::JournalScanOptions;
using xc::engine::JournalScanResult;
using xc::engine::JournalSink;
using xc::protocol::Command;
using xc::protocol::Seq;

constexpr const char* kUsage =
    "usage: journal dump DIR\n"
    "       journal verify DIR\n"
    "       journal replay DIR [--max-orders N] [--symbols N] [--no-snapshot]\n"
    "       journal snapshot DIR [--take [--at SEQ] [--retention keep|delete|archive:<dir>]]\n"
    "       journal import FLOW DIR [--policy fsync|interval:<ms>|none]"
    " [--backend auto|io_uring|pwrite] [--shard-id N]\n";

int Usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Problems with the journal's contents exit 1; anything else (I/O, usage) 2.
int ExitFor(const absl::Status& s) {
  return s.code() == absl::StatusCode::kDataLoss ||
                 s.code() == absl::StatusCode::kFailedPrecondition
             ? 1
             : 2;
}

std::unique_ptr<JournalSink> OpenDir(const std::string& dir, bool must_exist = true) {
  if (must_exist) {
    FILE* f = std::fopen(dir.c_str(), "r");
    if (f == nullptr) {
      std::fprintf(stderr, "journal: %s: %s\n", dir.c_str(), std::strerror(errno));
      return nullptr;
    }
    std::fclose(f);
  }
  // Reading needs no io_uring; pwrite keeps the tool quiet on refusing hosts.
  auto sink = xc::engine::io::OpenFileJournal(dir, xc::engine::io::JournalIoBackend::kPwrite);
  if (!sink.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(sink.status()).c_str());
    return nullptr;
  }
  return std::move(*sink);
}

const char* CmdTypeName(xc::protocol::CommandType t) {
  switch (t) {
    case xc::protocol::CommandType::kNewOrder: return "new";
    case xc::protocol::CommandType::kCancel: return "cancel";
    case xc::protocol::CommandType::kMassCancel: return "mass_cancel";
    case xc::protocol::CommandType::kAmend: return "amend";
  }
  return "?";
}

int Dump(const std::string& dir) {
  auto sink = OpenDir(dir);
  if (!sink) return 2;
  JournalScanOptions o;
  o.repair = false;
  o.log_warnings = false;
  auto r = xc::engine::ScanJournal(*sink, o, [](const std::string& seg, const JournalRecord& rec) {
    if (rec.type == JournalRecordType::kSegmentHeader) {
      xc::engine::JournalSegmentHeader h;
      rec.segment_header(&h);
      std::printf("%s off=%" PRIu64 " segment_header version=%u shard=%u first_seq=%" PRIu64 "\n",
                  seg.c_str(), rec.offset, h.version, h.shard_id, h.first_seq);
      return absl::OkStatus();
    }
    Command c;
    rec.command(&c);
    std::printf("%s off=%" PRIu64 " seq=%" PRIu64 " cmd=%s sym=%u id=%" PRIu64 " user=%" PRIu64
                " side=%s otype=%u tif=%u stp=%u price=%" PRId64 " qty=%" PRId64
                " quote=%" PRId64 " stop=%" PRId64 " iceberg=%" PRId64 " ts=%" PRId64 "\n",
                seg.c_str(), rec.offset, rec.seq, CmdTypeName(c.type), c.symbol, c.order_id,
                c.user, c.side == xc::protocol::Side::kBuy ? "B" : "S",
                static_cast<unsigned>(c.order_type), static_cast<unsigned>(c.tif),
                static_cast<unsigned>(c.stp), c.price, c.qty, c.quote_qty, c.stop_price,
                c.iceberg_qty, c.ts);
    return absl::OkStatus();
  });
  if (!r.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(r.status()).c_str());
    return ExitFor(r.status());
  }
  if (r->torn_tail) {
    std::fprintf(stderr, "journal: %s\n", r->torn_tail_detail.c_str());
    return 1;
  }
  return 0;
}

std::unique_ptr<xc::engine::SnapshotStore> OpenSnapshots(const std::string& dir) {
  auto store = xc::engine::io::OpenFileSnapshotStore(dir, /*create=*/false);
  if (!store.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(store.status()).c_str());
    return nullptr;
  }
  return std::move(*store);
}

int Verify(const std::string& dir) {
  auto sink = OpenDir(dir);
  if (!sink) return 2;
  auto store = OpenSnapshots(dir);
  if (!store) return 2;
  // Snapshots first: the newest valid one says where the journal must reach back to.
  auto snaps = store->List();
  if (!snaps.ok()) {
    std::printf("FAIL %s\n", Msg(snaps.status()).c_str());
    return 2;
  }
  bool bad_snapshot = false;
  Seq newest_valid = 0;
  for (const xc::engine::SnapshotInfo& si : *snaps) {
    auto l = store->Load(si.seq);
    if (l.ok()) {
      newest_valid = si.seq;
      std::printf("  %s  seq %" PRIu64 "  %" PRIu64 " bytes  OK\n", si.name.c_str(), si.seq,
                  si.bytes);
    } else {
      bad_snapshot = true;
      std::printf("  %s  seq %" PRIu64 "  %" PRIu64 " bytes  FAIL %s\n", si.name.c_str(), si.seq,
                  si.bytes, Msg(l.status()).c_str());
    }
  }
  JournalScanOptions o;
  o.repair = false;
  o.log_warnings = false;
  o.after_seq = newest_valid;
  auto r = xc::engine::ScanJournal(
      *sink, o, [](const std::string&, const JournalRecord&) { return absl::OkStatus(); });
  if (!r.ok()) {
    std::printf("FAIL %s\n", Msg(r.status()).c_str());
    return ExitFor(r.status());
  }
  for (const auto& s : r->segments) {
    std::printf("  %s  seq %" PRIu64 "..%" PRIu64 "  %" PRIu64 " commands  %" PRIu64
                " bytes (file %" PRIu64 ")\n",
                s.name.c_str(), s.first_seq, s.last_seq, s.commands, s.valid_bytes, s.file_bytes);
  }
  if (r->torn_tail) {
    std::printf("FAIL %s (recovery would truncate it)\n", r->torn_tail_detail.c_str());
    return 1;
  }
  if (newest_valid == 0 && r->first_seq > 1) {
    std::printf("FAIL the journal starts at seq %" PRIu64 " and there is no valid snapshot\n",
                r->first_seq);
    return 1;
  }
  if (bad_snapshot) {
    std::printf("FAIL corrupt snapshot(s) (recovery would skip them)\n");
    return 1;
  }
  std::printf("OK %zu segment(s), %" PRIu64 " commands, seq %" PRIu64 "..%" PRIu64
              ", %zu snapshot(s)",
              r->segments.size(), r->commands, r->first_seq, r->last_seq, snaps->size());
  if (newest_valid != 0) std::printf(", newest at seq %" PRIu64, newest_valid);
  std::printf("\n");
  return 0;
}

// Orders per symbol that the state at the end can hold: live orders in the
// snapshot used plus new orders in the journal after it.
struct Sizing {
  std::optional<xc::engine::ShardImageInfo> image;  // of the snapshot recovery will use
  std::vector<uint64_t> orders;                     // per symbol id
};

int SizeBooks(xc::engine::SnapshotStore* store, JournalSink& sink, Seq max_seq, Sizing* out) {
  Seq after = 0;
  if (store != nullptr) {
    // The same choice RecoverShard makes (quietly: it warns itself).
    std::optional<xc::engine::LoadedSnapshot> snap;
    auto list = store->List();
    if (!list.ok()) {
      std::fprintf(stderr, "journal: %s\n", Msg(list.status()).c_str());
      return 2;
    }
    for (auto it = list->rbegin(); it != list->rend() && !snap; ++it) {
      if (max_seq != 0 && it->seq > max_seq) continue;
      auto l = store->Load(it->seq);
      if (l.ok()) snap = std::move(*l);
    }
    if (snap) {
      auto info = xc::engine::InspectShardImage(snap->image);
      if (!info.ok()) {
        std::fprintf(stderr, "journal: %s: %s\n", snap->name.c_str(), Msg(info.status()).c_str());
        return 1;
      }
      after = info->seq;
      for (const auto& b : info->books) {
        if (b.symbol >= out->orders.size()) out->orders.resize(b.symbol + 1, 0);
        out->orders[b.symbol] += b.resting_orders + b.pending_stops;
      }
      out->image = std::move(*info);
    }
  }
  JournalScanOptions o;
  o.repair = false;
  o.log_warnings = false;
  o.after_seq = after;
  auto sized = xc::engine::ReplayJournal(sink, o, [&](Seq seq, const Command& c) {
    if (max_seq != 0 && seq > max_seq) return absl::OkStatus();
    if (c.symbol >= out->orders.size()) out->orders.resize(c.symbol + 1, 0);
    if (c.type == xc::protocol::CommandType::kNewOrder) ++out->orders[c.symbol];
    return absl::OkStatus();
  });
  if (!sized.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(sized.status()).c_str());
    return ExitFor(sized.status());
  }
  return 0;
}

// Adds the books recovery needs to `shard`; 0 or an exit code.
int AddBooks(const Sizing& sizing, uint64_t max_orders, uint64_t symbols,
             xc::engine::Shard* shard) {
  std::vector<xc::protocol::SymbolId> ids;
  if (sizing.image) {
    for (const auto& b : sizing.image->books) ids.push_back(b.symbol);
    if (symbols != 0 && symbols != ids.size()) {
      std::fprintf(stderr, "journal: --symbols %" PRIu64 " but the snapshot has %zu books\n",
                   symbols, ids.size());
      return 2;
    }
  } else {
    const uint64_t n = symbols != 0 ? symbols : sizing.orders.size();
    for (uint64_t s = 0; s < n; ++s) ids.push_back(static_cast<xc::protocol::SymbolId>(s));
  }
  for (xc::protocol::SymbolId s : ids) {
    xc::engine::OrderBook::Options bo;
    if (max_orders != 0) {
      bo.max_orders = static_cast<uint32_t>(max_orders);
    } else {
      const uint64_t want = s < sizing.orders.size() ? 2 * sizing.orders[s] : 0;
      uint64_t n = 4096;
      while (n < want && n < (uint64_t{1} << 21)) n <<= 1;
      bo.max_orders = static_cast<uint32_t>(n);
    }
    absl::Status st = shard->AddSymbol(s, bo);
    if (!st.ok()) {
      std::fprintf(stderr, "journal: AddSymbol(%u): %s\n", s, Msg(st).c_str());
      return 2;
    }
  }
  return 0;
}

int Replay(const std::string& dir, uint64_t max_orders, uint64_t symbols, bool use_snapshot) {
  auto sink = OpenDir(dir);
  if (!sink) return 2;
  std::unique_ptr<xc::engine::SnapshotStore> store;
  if (use_snapshot) {
    store = OpenSnapshots(dir);
    if (!store) return 2;
  }
  // Pass 1: symbols and pool sizes.
  Sizing sizing;
  if (int rc = SizeBooks(store.get(), *sink, 0, &sizing); rc != 0) return rc;
  xc::engine::Shard shard;
  if (int rc = AddBooks(sizing, max_orders, symbols, &shard); rc != 0) return rc;
  // Pass 2: recover = snapshot + journal after it.
  uint64_t trades = 0, volume = 0;
  xc::engine::RecoveryOptions ro;
  ro.scan.repair = false;  // a tool never changes the journal
  ro.scan.log_warnings = false;
  ro.on_events = [&](Seq, const xc::engine::EventBuffer& events) {
    for (const xc::protocol::Event& e : events) {
      if (e.type == xc::protocol::EventType::kTrade) {
        ++trades;
        volume += static_cast<uint64_t>(e.qty);
      }
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto r = xc::engine::RecoverShard(store.get(), *sink, &shard, ro);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(r.status()).c_str());
    return r.status().code() == absl::StatusCode::kDataLoss ||
                   r.status().code() == absl::StatusCode::kFailedPrecondition ||
                   r.status().code() == absl::StatusCode::kInvalidArgument
               ? 1
               : 2;
  }
  for (const std::string& skipped : r->skipped_snapshots) {
    std::fprintf(stderr, "journal: warning: skipped corrupt snapshot %s\n", skipped.c_str());
  }
  if (r->journal.torn_tail) {
    std::fprintf(stderr, "journal: warning: %s (replayed up to it)\n",
                 r->journal.torn_tail_detail.c_str());
  }
  uint64_t resting = 0;
  for (xc::protocol::SymbolId s : shard.symbols()) resting += shard.book(s)->resting_orders();
  const uint64_t n = r->commands_replayed;
  if (r->snapshot_seq != 0) {
    std::printf("journal replay %s: snapshot %s (seq %" PRIu64 ") + %zu segment(s), seq %" PRIu64
                "..%" PRIu64 ", %.3f s\n",
                dir.c_str(), r->snapshot_name.c_str(), r->snapshot_seq, r->journal.segments.size(),
                r->journal.first_seq, r->journal.last_seq, secs);
  } else {
    std::printf("journal replay %s: no snapshot, %zu segment(s), seq %" PRIu64 "..%" PRIu64
                ", %.3f s\n",
                dir.c_str(), r->journal.segments.size(), r->journal.first_seq,
                r->journal.last_seq, secs);
  }
  std::printf("commands=%" PRIu64 " trades=%" PRIu64 " volume=%" PRIu64 " resting=%" PRIu64
              " hash=%016" PRIx64 " ops_per_sec=%.0f last_seq=%" PRIu64,
              n, trades, volume, resting, shard.StateHash(),
              secs > 0 ? static_cast<double>(n) / secs : 0.0, shard.last_seq());
  if (r->snapshot_seq != 0) std::printf(" snapshot_seq=%" PRIu64, r->snapshot_seq);
  std::printf("\n");
  return 0;
}

int Snapshot(const std::string& dir, bool take, uint64_t at, const std::string& retention) {
  if (!take) {
    auto store = OpenSnapshots(dir);
    if (!store) return 2;
    auto list = store->List();
    if (!list.ok()) {
      std::fprintf(stderr, "journal: %s\n", Msg(list.status()).c_str());
      return 2;
    }
    int rc = 0;
    for (const xc::engine::SnapshotInfo& si : *list) {
      auto l = store->Load(si.seq);
      if (!l.ok()) {
        std::printf("%s seq=%" PRIu64 " bytes=%" PRIu64 " FAIL %s\n", si.name.c_str(), si.seq,
                    si.bytes, Msg(l.status()).c_str());
        rc = 1;
        continue;
      }
      auto info = xc::engine::InspectShardImage(l->image);
      uint64_t resting = 0, stops = 0;
      if (info.ok()) {
        for (const auto& b : info->books) {
          resting += b.resting_orders;
          stops += b.pending_stops;
        }
      }
      std::printf("%s seq=%" PRIu64 " bytes=%" PRIu64 " books=%zu resting=%" PRIu64
                  " stops=%" PRIu64 " OK\n",
                  si.name.c_str(), si.seq, si.bytes, info.ok() ? info->books.size() : 0, resting,
                  stops);
    }
    if (list->empty()) std::printf("no snapshots in %s\n", dir.c_str());
    return rc;
  }
  auto policy = xc::engine::io::RetentionPolicy::Parse(retention);
  if (!policy.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(policy.status()).c_str());
    return 2;
  }
  auto sink = OpenDir(dir);
  if (!sink) return 2;
  auto store = OpenSnapshots(dir);
  if (!store) return 2;
  Sizing sizing;
  if (int rc = SizeBooks(store.get(), *sink, at, &sizing); rc != 0) return rc;
  xc::engine::Shard shard;
  if (int rc = AddBooks(sizing, 0, 0, &shard); rc != 0) return rc;
  xc::engine::RecoveryOptions ro;
  ro.scan.repair = false;
  ro.scan.log_warnings = false;
  ro.max_seq = at;
  auto r = xc::engine::RecoverShard(store.get(), *sink, &shard, ro);
  if (!r.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(r.status()).c_str());
    return r.status().code() == absl::StatusCode::kDataLoss ? 1 : 2;
  }
  if (at != 0 && shard.last_seq() != at) {
    std::fprintf(stderr, "journal: seq %" PRIu64 " is beyond the journal (last %" PRIu64 ")\n",
                 at, shard.last_seq());
    return 2;
  }
  std::string image;
  shard.SaveTo(&image);
  absl::Status st = store->Save(shard.last_seq(), image);
  if (!st.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(st).c_str());
    return 2;
  }
  std::printf("wrote %s (seq %" PRIu64 ", %zu bytes, hash=%016" PRIx64 ")\n",
              xc::engine::SnapshotFileName(shard.last_seq()).c_str(), shard.last_seq(),
              image.size(), shard.StateHash());
  auto ret = xc::engine::io::ApplyRetention(dir, *store, *policy);
  if (!ret.ok()) {
    std::fprintf(stderr, "journal: retention: %s\n", Msg(ret.status()).c_str());
    return 2;
  }
  for (const std::string& seg : ret->segments_removed) {
    std::printf("retention %s: %s\n", policy->ToString().c_str(), seg.c_str());
  }
  return 0;
}

int Import(const std::string& flow_path, const std::string& dir, const std::string& policy,
           const std::string& backend, uint64_t shard_id) {
  auto flow = xc::flow::ReadFlowFile(flow_path);
  if (!flow.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(flow.status()).c_str());
    return 2;
  }
  auto pol = xc::engine::DurabilityPolicy::Parse(policy);
  auto be = xc::engine::io::ParseJournalIoBackend(backend);
  if (!pol.ok() || !be.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(!pol.ok() ? pol.status() : be.status()).c_str());
    return 2;
  }
  auto sink = xc::engine::io::OpenFileJournal(dir, *be);
  if (!sink.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(sink.status()).c_str());
    return 2;
  }
  // Continue an existing journal (recovering it first).
  JournalScanOptions so;
  so.shard_id = static_cast<uint32_t>(shard_id);
  auto rec = xc::engine::ScanJournal(**sink, so, [](const std::string&, const JournalRecord&) {
    return absl::OkStatus();
  });
  if (!rec.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(rec.status()).c_str());
    return ExitFor(rec.status());
  }
  xc::engine::JournalWriterOptions wo;
  wo.policy = *pol;
  wo.shard_id = static_cast<uint32_t>(shard_id);
  xc::engine::JournalWriter w(sink->get(), rec->last_seq + 1, wo);
  Seq seq = rec->last_seq;
  for (const Command& c : flow->commands) {
    ++seq;
    while (!w.TryAppend(seq, c)) {
      if (w.failed()) break;
      w.DoWork();
    }
    if (w.failed()) break;
  }
  absl::Status s = w.Close();
  if (!s.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(s).c_str());
    return 2;
  }
  std::printf("imported %zu commands into %s (seq %" PRIu64 "..%" PRIu64 ", %s, %s)\n",
              flow->commands.size(), (*sink)->Describe().c_str(), rec->last_seq + 1, seq,
              pol->ToString().c_str(), backend.c_str());
  return 0;
}

bool ParseUint(const char* s, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string cmd = argv[1];
  std::vector<std::string> pos;
  uint64_t max_orders = 0, symbols = 0, shard_id = 0;
  std::string policy = "fsync", backend = "auto", retention = "keep";
  bool no_snapshot = false, take = false;
  uint64_t at = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char** v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    const char* v = nullptr;
    if (a == "--max-orders") {
      if (!value(&v) || !ParseUint(v, &max_orders) || max_orders == 0) return Usage();
    } else if (a == "--symbols") {
      if (!value(&v) || !ParseUint(v, &symbols)) return Usage();
    } else if (a == "--shard-id") {
      if (!value(&v) || !ParseUint(v, &shard_id)) return Usage();
    } else if (a == "--no-snapshot") {
      no_snapshot = true;
    } else if (a == "--take") {
      take = true;
    } else if (a == "--at") {
      if (!value(&v) || !ParseUint(v, &at) || at == 0) return Usage();
    } else if (a == "--retention") {
      if (!value(&v)) return Usage();
      retention = v;
    } else if (a == "--policy") {
      if (!value(&v)) return Usage();
      policy = v;
    } else if (a == "--backend") {
      if (!value(&v)) return Usage();
      backend = v;
    } else if (a.rfind("--", 0) == 0) {
      return Usage();
    } else {
      pos.push_back(a);
    }
  }
  if (cmd == "dump" && pos.size() == 1) return Dump(pos[0]);
  if (cmd == "verify" && pos.size() == 1) return Verify(pos[0]);
  if (cmd == "replay" && pos.size() == 1) {
    return Replay(pos[0], max_orders, symbols, !no_snapshot);
  }
  if (cmd == "snapshot" && pos.size() == 1) return Snapshot(pos[0], take, at, retention);
  if (cmd == "import" && pos.size() == 2) {
    return Import(pos[0], pos[1], policy, backend, shard_id);
  }
  if (cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return Usage();
}
