#pragma once
// The order-flow file format of the benchmarks: a CSV text file with one engine
// command per line, written by flowgen and read by engine-replay and the micro
// benchmarks. Format (see bench/README.md):
//
//   # comment (a '#' anywhere starts a comment that runs to the end of the line)
//   A,<symbol>,<order id>,<B|S>,<price ticks>,<qty lots>,<GTC|IOC|FOK|MAKER|MARKET>
//   C,<symbol>,<order id>
//   M,<symbol>,<order id>,<new price ticks>,<new remaining qty lots>
//
// Blank lines are ignored; a trailing '\r' (CRLF files) is accepted. Numbers are
// unsigned decimal integers. Every order belongs to user kFlowUser with STP
// NONE. MAKER is LIMIT_MAKER (GTC); MARKET is a market order by base quantity
// (its price field is ignored and written as 0). M is Command::Amend. Symbol
// names map to dense SymbolIds in order of first appearance.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/protocol/command.h"
#include "xc/protocol/types.h"

namespace xc::flow {

// The one user every order of a flow file belongs to.
inline constexpr protocol::UserId kFlowUser = 1;

// A parsed flow file: the commands in file order and the symbol table.
struct Flow {
  // Symbol names indexed by SymbolId (order of first appearance).
  std::vector<std::string> symbols;
  std::vector<protocol::Command> commands;
  // How many commands of each kind (A / C / M lines).
  uint64_t new_orders = 0;
  uint64_t cancels = 0;
  uint64_t amends = 0;
  // A lines per symbol, indexed by SymbolId (sizes the books' pools).
  std::vector<uint64_t> new_orders_per_symbol;
};

// Parses the text of a flow file. `source_name` only labels error messages.
// Returns InvalidArgument("<source_name>:<line>: <what is wrong>") for the first
// malformed line. Cost: one pass over the text, no allocation per line other
// than the growth of the command vector (reserved from a newline count) and one
// string per distinct symbol. Millions of lines per second.
[[nodiscard]] absl::StatusOr<Flow> ParseFlow(std::string_view text,
                                             std::string_view source_name = "<input>");

// Reads and parses the file at `path` ("-" reads standard input). The file is
// mapped (or read whole when it cannot be mapped, e.g. a pipe). NotFound /
// PermissionDenied / Internal name the path when it cannot be read; parse
// errors are as for ParseFlow with the path as the source name.
[[nodiscard]] absl::StatusOr<Flow> ReadFlowFile(const std::string& path);

// Appends the line of `cmd` (with its '\n') to `out`, naming its symbol
// `symbol`. InvalidArgument, and `out` unchanged, for a command the format
// cannot express: mass cancel, stop orders, icebergs, MARKET by quote amount,
// a user other than kFlowUser or an STP mode other than NONE.
[[nodiscard]] absl::Status AppendCommandLine(const protocol::Command& cmd,
                                             std::string_view symbol, std::string* out);

// The whole text of `flow` (no comments), such that ParseFlow(FormatFlow(f))
// yields f's commands and symbols again.
[[nodiscard]] absl::StatusOr<std::string> FormatFlow(const Flow& flow);

// FlowWriter streams commands to a stdio file through a private buffer, for
// files too large to build in memory (flowgen writes tens of millions of
// lines). Not thread-safe. The FILE is borrowed, never closed.
class FlowWriter {
 public:
  // `symbols` names the SymbolIds of the commands that will be written.
  FlowWriter(std::FILE* file, std::vector<std::string> symbols);
  ~FlowWriter();  // flushes; errors at that point are lost, call Flush() first
  FlowWriter(const FlowWriter&) = delete;
  FlowWriter& operator=(const FlowWriter&) = delete;

  // Writes one command line (see AppendCommandLine for what is rejected).
  [[nodiscard]] absl::Status Write(const protocol::Command& cmd);
  // Writes "# <text>" (each line of a multi-line text gets its own '#').
  [[nodiscard]] absl::Status Comment(std::string_view text);
  // Hands the buffer to stdio and fflush()es. Internal on a write error.
  [[nodiscard]] absl::Status Flush();

 private:
  absl::Status Drain();

  std::FILE* file_;
  std::vector<std::string> symbols_;
  std::string buf_;
};

}  // namespace xc::flow
