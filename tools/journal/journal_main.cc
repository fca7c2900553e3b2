// journal: inspect, check and replay a shard's command journal
// (engine/doc/journal_format.md).
//
//   journal dump DIR             one line per record (segment headers included)
//   journal verify DIR           CRCs, framing, sequence continuity; changes nothing
//   journal replay DIR [--max-orders N] [--symbols N]
//                                applies every command through an engine Shard and
//                                prints engine-replay's summary line
//   journal import FLOW DIR [--policy P] [--backend B] [--shard-id N]
//                                writes a flow file (bench/README.md) as a journal
//
// replay rebuilds the books from the journal alone (snapshots come later): the
// shard owns symbols 0..N-1, N = --symbols or 1 + the largest symbol id in the
// journal; each book's pool is sized from a first pass (2x its new orders,
// power of two, 4096..2^21) unless --max-orders is given.
//
// Exit codes: 0 ok; 1 the journal has a problem (corruption, sequence gap, torn
// tail, wrong format) -- the message names the file and offset; 2 usage or I/O
// error.

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "xc/engine/event_buffer.h"
#include "xc/engine/io/file_journal.h"
#include "xc/engine/journal_format.h"
#include "xc/engine/journal_reader.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/order_book.h"
#include "xc/engine/shard.h"
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
    "       journal replay DIR [--max-orders N] [--symbols N]\n"
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

int Verify(const std::string& dir) {
  auto sink = OpenDir(dir);
  if (!sink) return 2;
  JournalScanOptions o;
  o.repair = false;
  o.log_warnings = false;
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
  std::printf("OK %zu segment(s), %" PRIu64 " commands, seq %" PRIu64 "..%" PRIu64 "\n",
              r->segments.size(), r->commands, r->first_seq, r->last_seq);
  return 0;
}

int Replay(const std::string& dir, uint64_t max_orders, uint64_t symbols) {
  auto sink = OpenDir(dir);
  if (!sink) return 2;
  JournalScanOptions o;
  o.repair = false;  // a tool never changes the journal
  o.log_warnings = false;
  // Pass 1: symbols and new orders per symbol (pool sizes).
  std::vector<uint64_t> new_orders;
  auto sized = xc::engine::ReplayJournal(*sink, o, [&](Seq, const Command& c) {
    if (c.symbol >= new_orders.size()) new_orders.resize(c.symbol + 1, 0);
    if (c.type == xc::protocol::CommandType::kNewOrder) ++new_orders[c.symbol];
    return absl::OkStatus();
  });
  if (!sized.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(sized.status()).c_str());
    return ExitFor(sized.status());
  }
  if (symbols == 0) symbols = new_orders.size();
  new_orders.resize(std::max<size_t>(symbols, new_orders.size()), 0);
  xc::engine::Shard shard;
  for (uint64_t s = 0; s < symbols; ++s) {
    xc::engine::OrderBook::Options bo;
    if (max_orders != 0) {
      bo.max_orders = static_cast<uint32_t>(max_orders);
    } else {
      uint64_t n = 4096;
      while (n < 2 * new_orders[s] && n < (uint64_t{1} << 21)) n <<= 1;
      bo.max_orders = static_cast<uint32_t>(n);
    }
    absl::Status st = shard.AddSymbol(static_cast<xc::protocol::SymbolId>(s), bo);
    if (!st.ok()) {
      std::fprintf(stderr, "journal: AddSymbol(%" PRIu64 "): %s\n", s, Msg(st).c_str());
      return 2;
    }
  }
  // Pass 2: apply.
  xc::engine::EventBuffer events(1 << 16);
  uint64_t trades = 0, volume = 0, n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = xc::engine::ReplayJournal(*sink, o, [&](Seq seq, const Command& c) {
    // A journal that starts after seq 1 needs a snapshot first (not yet).
    if (n == 0 && seq != 1) {
      return absl::FailedPreconditionError(
          "journal starts at seq " + std::to_string(seq) +
          ": replay from a snapshot is not implemented yet");
    }
    shard.Apply(c, events);
    for (const xc::protocol::Event& e : events) {
      if (e.type == xc::protocol::EventType::kTrade) {
        ++trades;
        volume += static_cast<uint64_t>(e.qty);
      }
    }
    events.clear();
    ++n;
    return absl::OkStatus();
  });
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok()) {
    std::fprintf(stderr, "journal: %s\n", Msg(r.status()).c_str());
    return ExitFor(r.status());
  }
  if (r->torn_tail) {
    std::fprintf(stderr, "journal: warning: %s (replayed up to it)\n",
                 r->torn_tail_detail.c_str());
  }
  uint64_t resting = 0;
  for (xc::protocol::SymbolId s : shard.symbols()) resting += shard.book(s)->resting_orders();
  std::printf("journal replay %s: %zu segment(s), seq %" PRIu64 "..%" PRIu64 ", %.3f s\n",
              dir.c_str(), r->segments.size(), r->first_seq, r->last_seq, secs);
  std::printf("commands=%" PRIu64 " trades=%" PRIu64 " volume=%" PRIu64 " resting=%" PRIu64
              " hash=%016" PRIx64 " ops_per_sec=%.0f last_seq=%" PRIu64 "\n",
              n, trades, volume, resting, shard.StateHash(),
              secs > 0 ? static_cast<double>(n) / secs : 0.0, shard.last_seq());
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
  std::string policy = "fsync", backend = "auto";
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
  if (cmd == "replay" && pos.size() == 1) return Replay(pos[0], max_orders, symbols);
  if (cmd == "import" && pos.size() == 2) {
    return Import(pos[0], pos[1], policy, backend, shard_id);
  }
  if (cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return Usage();
}
