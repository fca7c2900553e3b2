#include "xc/flow/flow_format.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace xc::flow {
namespace {

using protocol::Command;
using protocol::CommandType;
using protocol::OrderType;
using protocol::Side;
using protocol::TimeInForce;

// Debian's Abseil is built with its own absl::string_view, not std::string_view.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Characters that end a field: ',' and everything that can end a command line
// (newline, comment, trailing blanks). A lookup table keeps the field scan a
// single load and branch per byte.
struct StopTable {
  bool stop[256] = {};
  constexpr StopTable() {
    for (unsigned char c : {',', '\n', '#', ' ', '\t', '\r'}) stop[c] = true;
  }
};
constexpr StopTable kStop;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The command line being parsed; fields are consumed left to right straight
// from the file text (no per-line pre-scan). Every Take* returns false with
// `error` set on malformed input; the caller adds file and line.
struct LineCursor {
  const char* p;
  const char* end;  // end of the whole text
  bool done = false;  // the last field read was not followed by ','
  std::string error;

  // The next field (empty once the line has no more), consuming its ','.
  std::string_view Field() {
    if (done) return {};
    const char* start = p;
    while (p < end && !kStop.stop[static_cast<unsigned char>(*p)]) ++p;
    std::string_view f(start, static_cast<size_t>(p - start));
    if (p < end && *p == ',') {
      ++p;
    } else {
      done = true;
    }
    return f;
  }
  // The rest of the current line (for messages).
  std::string_view Rest() const {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    return std::string_view(p, static_cast<size_t>((nl ? nl : end) - p));
  }

  bool TakeUint(const char* what, uint64_t max, uint64_t* out) {
    std::string_view f = Field();
    if (f.empty()) {
      error = absl::StrCat("missing ", what);
      return false;
    }
    uint64_t v = 0;
    for (char c : f) {
      const unsigned d = static_cast<unsigned char>(c) - '0';
      if (d > 9) {
        error = absl::StrCat(what, " is not an unsigned integer: '", Sv(f), "'");
        return false;
      }
      if (v > (max - d) / 10) {
        error = absl::StrCat(what, " out of range: '", Sv(f), "'");
        return false;
      }
      v = v * 10 + d;
    }
    *out = v;
    return true;
  }
  bool TakeInt64(const char* what, int64_t* out) {
    uint64_t v;
    if (!TakeUint(what, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), &v)) {
      return false;
    }
    *out = static_cast<int64_t>(v);
    return true;
  }
};

// Symbol table: flows name very few symbols, almost always the same one on
// consecutive lines, so a last-hit cache plus a linear scan beats hashing.
class SymbolTable {
 public:
  explicit SymbolTable(std::vector<std::string>* names, std::vector<uint64_t>* adds)
      : names_(names), adds_(adds) {}
  protocol::SymbolId Intern(std::string_view name) {
    if (last_ < names_->size() && (*names_)[last_] == name) return last_;
    for (size_t i = 0; i < names_->size(); ++i) {
      if ((*names_)[i] == name) return last_ = static_cast<protocol::SymbolId>(i);
    }
    names_->emplace_back(name);
    adds_->push_back(0);
    return last_ = static_cast<protocol::SymbolId>(names_->size() - 1);
  }

 private:
  std::vector<std::string>* names_;
  std::vector<uint64_t>* adds_;
  protocol::SymbolId last_ = 0;
};

// Asks for transparent huge pages on the page-aligned interior of a large
// buffer before it is first written. Page faults dominate parsing otherwise
// (a 10M-command flow is 800 MB of Commands: 200k 4 KiB faults, expensive in a VM).
void AdviseHugePages(void* p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

bool ParseLine(LineCursor& cur, SymbolTable& symbols, Flow& flow) {
  std::string_view kind = cur.Field();
  if (kind.size() != 1 || (kind[0] != 'A' && kind[0] != 'C' && kind[0] != 'M')) {
    cur.error = absl::StrCat("unknown command '", Sv(kind), "' (expected A, C or M)");
    return false;
  }
  std::string_view sym = cur.Field();
  if (sym.empty()) {
    cur.error = "missing symbol";
    return false;
  }
  const protocol::SymbolId symbol = symbols.Intern(sym);
  uint64_t id;
  if (!cur.TakeUint("order id", std::numeric_limits<uint64_t>::max(), &id)) return false;

  Command cmd;
  switch (kind[0]) {
    case 'A': {
      std::string_view side = cur.Field();
      if (side != "B" && side != "S") {
        cur.error = absl::StrCat("side must be B or S, got '", Sv(side), "'");
        return false;
      }
      protocol::Price price;
      protocol::Qty qty;
      if (!cur.TakeInt64("price", &price) || !cur.TakeInt64("quantity", &qty)) return false;
      const std::string_view tif = cur.Field();
      const Side s = side[0] == 'B' ? Side::kBuy : Side::kSell;
      if (tif == "GTC") {
        cmd = Command::Limit(symbol, id, kFlowUser, s, price, qty, TimeInForce::kGtc);
      } else if (tif == "IOC") {
        cmd = Command::Limit(symbol, id, kFlowUser, s, price, qty, TimeInForce::kIoc);
      } else if (tif == "FOK") {
        cmd = Command::Limit(symbol, id, kFlowUser, s, price, qty, TimeInForce::kFok);
      } else if (tif == "MAKER") {
        cmd = Command::LimitMaker(symbol, id, kFlowUser, s, price, qty);
      } else if (tif == "MARKET") {
        cmd = Command::Market(symbol, id, kFlowUser, s, qty);
      } else {
        cur.error = absl::StrCat("order type must be GTC, IOC, FOK, MAKER or MARKET, got '",
                                 Sv(tif), "'");
        return false;
      }
      ++flow.new_orders;
      ++flow.new_orders_per_symbol[symbol];
      break;
    }
    case 'C':
      cmd = Command::Cancel(symbol, id, kFlowUser);
      ++flow.cancels;
      break;
    case 'M': {
      protocol::Price price;
      protocol::Qty qty;
      if (!cur.TakeInt64("price", &price) || !cur.TakeInt64("quantity", &qty)) return false;
      cmd = Command::Amend(symbol, id, price, qty, kFlowUser);
      ++flow.amends;
      break;
    }
  }
  if (!cur.done) {
    cur.error = absl::StrCat("unexpected extra fields: '", Sv(cur.Rest()), "'");
    return false;
  }
  // Only blanks and a comment may follow the last field.
  while (cur.p < cur.end && IsBlank(*cur.p)) ++cur.p;
  // (A comment is skipped by the caller, with the rest of the line.)
  if (cur.p < cur.end && *cur.p != '\n' && *cur.p != '#') {
    cur.error = absl::StrCat("unexpected text after the last field: '", Sv(cur.Rest()), "'");
    return false;
  }
  flow.commands.push_back(cmd);
  return true;
}

const char* TifName(const Command& cmd) {
  switch (cmd.order_type) {
    case OrderType::kMarket:
      return "MARKET";
    case OrderType::kLimitMaker:
      return cmd.tif == TimeInForce::kGtc ? "MAKER" : nullptr;
    case OrderType::kLimit:
      switch (cmd.tif) {
        case TimeInForce::kGtc: return "GTC";
        case TimeInForce::kIoc: return "IOC";
        case TimeInForce::kFok: return "FOK";
      }
      return nullptr;
    default:
      return nullptr;
  }
}

void AppendInt(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

absl::StatusOr<std::string> ReadAll(int fd, const std::string& path) {
  std::string data;
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat(path, ": read failed: ", std::strerror(errno)));
    }
    data.append(chunk, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace

absl::StatusOr<Flow> ParseFlow(std::string_view text, std::string_view source_name) {
  Flow flow;
  SymbolTable symbols(&flow.symbols, &flow.new_orders_per_symbol);
  // One command per line at most: count lines first so the vector never regrows.
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  flow.commands.reserve(lines);
  AdviseHugePages(flow.commands.data(), lines * sizeof(Command));

  const char* p = text.data();
  const char* const end = p + text.size();
  uint64_t line_no = 0;
  LineCursor cur{nullptr, end, false, {}};
  while (p < end) {
    ++line_no;
    while (p < end && IsBlank(*p)) ++p;
    if (p < end && *p != '\n' && *p != '#') {
      cur.p = p;
      cur.done = false;
      if (!ParseLine(cur, symbols, flow)) {
        return absl::InvalidArgumentError(
            absl::StrCat(Sv(source_name), ":", line_no, ": ", cur.error));
      }
      p = cur.p;
    }
    // Now at the newline, a comment, or the end: skip past the newline.
    if (p < end && *p != '\n') {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      p = nl ? nl : end;
    }
    if (p < end) ++p;
  }
  return flow;
}

absl::StatusOr<Flow> ReadFlowFile(const std::string& path) {
  if (path == "-") {
    absl::StatusOr<std::string> data = ReadAll(STDIN_FILENO, "<stdin>");
    if (!data.ok()) return data.status();
    return ParseFlow(*data, "<stdin>");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const std::string msg = absl::StrCat(path, ": cannot open: ", std::strerror(errno));
    if (errno == ENOENT) return absl::NotFoundError(msg);
    if (errno == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const std::string msg = absl::StrCat(path, ": cannot stat: ", std::strerror(errno));
    ::close(fd);
    return absl::InternalError(msg);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  absl::StatusOr<Flow> flow;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (map != MAP_FAILED) {
      ::madvise(map, size, MADV_SEQUENTIAL);
      flow = ParseFlow(std::string_view(static_cast<const char*>(map), size), path);
      ::munmap(map, size);
      ::close(fd);
      return flow;
    }
  }
  // Pipes, character devices and empty files: read it whole instead.
  absl::StatusOr<std::string> data = ReadAll(fd, path);
  ::close(fd);
  if (!data.ok()) return data.status();
  return ParseFlow(*data, path);
}

absl::Status AppendCommandLine(const Command& cmd, std::string_view symbol, std::string* out) {
  if (cmd.user != kFlowUser || cmd.stp != protocol::StpMode::kNone) {
    return absl::InvalidArgumentError("flow files hold orders of user 1 with STP NONE only");
  }
  switch (cmd.type) {
    case CommandType::kNewOrder: {
      const char* tif = TifName(cmd);
      if (tif == nullptr || cmd.iceberg_qty != 0 || cmd.quote_qty != 0 || cmd.qty < 0 ||
          cmd.price < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("order ", cmd.order_id, " cannot be expressed in a flow file"));
      }
      out->append("A,");
      out->append(symbol);
      out->push_back(',');
      AppendInt(out, cmd.order_id);
      out->append(cmd.side == Side::kBuy ? ",B," : ",S,");
      AppendInt(out, cmd.order_type == OrderType::kMarket ? 0 : static_cast<uint64_t>(cmd.price));
      out->push_back(',');
      AppendInt(out, static_cast<uint64_t>(cmd.qty));
      out->push_back(',');
      out->append(tif);
      out->push_back('\n');
      return absl::OkStatus();
    }
    case CommandType::kCancel:
      out->append("C,");
      out->append(symbol);
      out->push_back(',');
      AppendInt(out, cmd.order_id);
      out->push_back('\n');
      return absl::OkStatus();
    case CommandType::kAmend:
      if (cmd.price < 0 || cmd.qty < 0) {
        return absl::InvalidArgumentError("amend with a negative price or quantity");
      }
      out->append("M,");
      out->append(symbol);
      out->push_back(',');
      AppendInt(out, cmd.order_id);
      out->push_back(',');
      AppendInt(out, static_cast<uint64_t>(cmd.price));
      out->push_back(',');
      AppendInt(out, static_cast<uint64_t>(cmd.qty));
      out->push_back('\n');
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("mass cancel cannot be expressed in a flow file");
  }
}

absl::StatusOr<std::string> FormatFlow(const Flow& flow) {
  std::string out;
  out.reserve(flow.commands.size() * 32);
  for (const Command& cmd : flow.commands) {
    if (cmd.symbol >= flow.symbols.size()) {
      return absl::InvalidArgumentError(absl::StrCat("symbol id ", cmd.symbol, " has no name"));
    }
    absl::Status s = AppendCommandLine(cmd, flow.symbols[cmd.symbol], &out);
    if (!s.ok()) return s;
  }
  return out;
}

namespace {
constexpr size_t kWriterBuffer = 1 << 20;
}  // namespace

FlowWriter::FlowWriter(std::FILE* file, std::vector<std::string> symbols)
    : file_(file), symbols_(std::move(symbols)) {
  buf_.reserve(kWriterBuffer + 256);
}

FlowWriter::~FlowWriter() { (void)Flush(); }

absl::Status FlowWriter::Write(const Command& cmd) {
  if (cmd.symbol >= symbols_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("symbol id ", cmd.symbol, " has no name"));
  }
  absl::Status s = AppendCommandLine(cmd, symbols_[cmd.symbol], &buf_);
  if (!s.ok()) return s;
  return buf_.size() >= kWriterBuffer ? Drain() : absl::OkStatus();
}

absl::Status FlowWriter::Comment(std::string_view text) {
  size_t start = 0;
  for (;;) {
    const size_t nl = text.find('\n', start);
    const std::string_view line = text.substr(start, nl == text.npos ? text.npos : nl - start);
    buf_.append("# ");
    buf_.append(line);
    buf_.push_back('\n');
    if (nl == text.npos || nl + 1 == text.size()) break;
    start = nl + 1;
  }
  return buf_.size() >= kWriterBuffer ? Drain() : absl::OkStatus();
}

absl::Status FlowWriter::Drain() {
  if (buf_.empty()) return absl::OkStatus();
  const size_t n = std::fwrite(buf_.data(), 1, buf_.size(), file_);
  const bool ok = n == buf_.size();
  buf_.clear();
  if (!ok) {
    return absl::InternalError(absl::StrCat("write failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status FlowWriter::Flush() {
  absl::Status s = Drain();
  if (!s.ok()) return s;
  if (std::fflush(file_) != 0) {
    return absl::InternalError(absl::StrCat("flush failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace xc::flow
