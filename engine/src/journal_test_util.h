#pragma once
// Helpers shared by the journal tests: hand-built segments and a simple
// command generator.

#include <string>
#include <vector>

#include "xc/engine/journal_format.h"
#include "xc/protocol/command.h"

namespace xc::engine::journal_test {

inline protocol::Command Cmd(protocol::Seq seq) {
  protocol::Command c = protocol::Command::Limit(
      static_cast<protocol::SymbolId>(seq % 3), seq, 1 + seq % 5,
      seq % 2 == 0 ? protocol::Side::kBuy : protocol::Side::kSell,
      10'000 + static_cast<int64_t>(seq % 11) - 5, 1 + static_cast<int64_t>(seq % 7));
  c.ts = static_cast<protocol::Timestamp>(seq) * 1000;
  return c;
}

// A segment with a header (first_seq = seqs.front() unless given) and one
// command record per seq.
inline std::string Segment(const std::vector<protocol::Seq>& seqs, protocol::Seq first = 0,
                           uint32_t shard = 0) {
  std::string out;
  JournalSegmentHeader h;
  h.first_seq = first != 0 ? first : seqs.front();
  h.shard_id = shard;
  out.resize(kJournalSegmentHeaderRecordSize);
  EncodeJournalRecord(JournalRecordType::kSegmentHeader, h.first_seq, &h, sizeof(h), out.data());
  for (protocol::Seq s : seqs) {
    const size_t at = out.size();
    out.resize(at + kJournalCommandRecordSize);
    EncodeCommandRecord(s, Cmd(s), out.data() + at);
  }
  return out;
}

inline std::vector<protocol::Seq> Range(protocol::Seq from, protocol::Seq to) {
  std::vector<protocol::Seq> v;
  for (protocol::Seq s = from; s <= to; ++s) v.push_back(s);
  return v;
}

// Offset of command record i (0-based) in a Segment().
inline uint64_t CommandOffset(size_t i) {
  return kJournalSegmentHeaderRecordSize + i * kJournalCommandRecordSize;
}

}  // namespace xc::engine::journal_test
