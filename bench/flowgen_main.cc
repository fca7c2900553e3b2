// flowgen: writes a deterministic order-flow file (bench/README.md) for
// engine-replay. The flow is produced by xc::flow::FlowGenerator, which runs
// the real engine to place every order relative to the real touch.
//
//   flowgen --seed 1 --resting 1000 --depth-mean 8 --ops 10000000 [--symbol BTCUSDT]
//           [--out FILE]        (default: standard output)
//
// The file starts with a comment header holding the parameters and ends with a
// comment holding the realised mix; the same mix goes to stderr.

#include <cstdio>
#include <string>

#include "cli_args.h"
#include "xc/flow/flow_format.h"
#include "xc/flow/generator.h"

namespace {

constexpr const char* kUsage =
    "usage: flowgen [--seed N] [--resting N] [--depth-mean X] [--ops N] [--symbol NAME]\n"
    "               [--max-qty N] [--mid TICKS] [--out FILE]\n";

int Fail(const std::string& msg) {
  std::fprintf(stderr, "flowgen: %s\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  xc::flow::GeneratorOptions opt;
  std::string out_path;
  xc::bench::ArgReader args(argc, argv);
  while (args.Next()) {
    if (!args.is_flag()) return Fail("unexpected argument '" + args.positional() + "'\n" + kUsage);
    const std::string f = args.flag();
    uint64_t u = 0;
    bool ok = true;
    if (f == "--seed") {
      ok = args.Uint(&opt.seed);
    } else if (f == "--resting") {
      ok = args.Uint(&u) && u > 0 && u <= (1u << 21);
      opt.resting = static_cast<uint32_t>(u);
    } else if (f == "--depth-mean") {
      ok = args.Double(&opt.depth_mean);
    } else if (f == "--ops") {
      ok = args.Uint(&opt.ops);
    } else if (f == "--symbol") {
      ok = args.Value(&opt.symbol);
    } else if (f == "--max-qty") {
      ok = args.Uint(&u) && u > 0;
      opt.max_qty = static_cast<xc::protocol::Qty>(u);
    } else if (f == "--mid") {
      ok = args.Uint(&u) && u > 1;
      opt.mid = static_cast<xc::protocol::Price>(u);
    } else if (f == "--out") {
      ok = args.Value(&out_path);
    } else if (f == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      return Fail("unknown flag " + f + "\n" + kUsage);
    }
    if (!ok) return Fail("bad or missing value for " + f);
  }

  auto gen = xc::flow::FlowGenerator::Create(opt);
  if (!gen.ok()) return Fail(std::string(gen.status().message()));

  std::FILE* file = stdout;
  if (!out_path.empty() && out_path != "-") {
    file = std::fopen(out_path.c_str(), "wb");
    if (file == nullptr) return Fail(out_path + ": cannot open for writing");
  }
  absl::Status s;
  {
    xc::flow::FlowWriter writer(file, {opt.symbol});
    s = writer.Comment("xc order flow written by flowgen (format: bench/README.md)\n" +
                       xc::flow::DescribeOptions(opt));
    xc::protocol::Command cmd;
    while (s.ok() && (*gen)->Next(&cmd)) s = writer.Write(cmd);
    if (s.ok()) s = writer.Comment(xc::flow::DescribeStats((*gen)->stats()));
    if (s.ok()) s = writer.Flush();
  }
  if (file != stdout && std::fclose(file) != 0 && s.ok()) {
    s = absl::InternalError("close failed");
  }
  if (!s.ok()) return Fail((out_path.empty() ? "<stdout>" : out_path) + ": " +
                           std::string(s.message()));
  std::fprintf(stderr, "flowgen: %llu commands; %s\n",
               static_cast<unsigned long long>((*gen)->total_commands()),
               xc::flow::DescribeStats((*gen)->stats()).c_str());
  return 0;
}
