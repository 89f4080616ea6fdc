// bench_precision.cpp — where bf16 pays on this CPU: one transformer MLP block (256 tokens,
// width w → 4w → w, GELU, LayerNorm) in fp32 (baseline) and bf16 (contender), same process and
// minute, per width; the ratio is what core/precision.h's "auto" rule rests on (bf16 on CPUs
// with AVX512-BF16, for towers at least kBf16MinWidth wide). Results: docs/bench/encoders.md.
//   codebind_bench precision [widths=64,128,256,384,512,768,1024,1280]
#include <fmt/format.h>

#include <sstream>

#include "bench_registry.h"
#include "core/cpu_features.h"
#include "core/precision.h"
#include "core/threads.h"

namespace cb::bench {
namespace {

int bench_precision(const BenchArgs& a) {
  fmt::print("cpu: {} ({})\n", cpu_model(), cpu_simd_features());
  if (!cpu_has_avx512_core()) {
    fmt::print("no AVX-512 core subset: libtorch's bf16 is a scalar loop here (not timed); auto = fp32\n");
    return 0;
  }
  std::stringstream ws(a.get("widths", "64,128,256,384,512,768,1024,1280"));
  std::string w;
  fmt::print("{:>6} {:>22} {:>8}\n", "width", "bf16 vs fp32 (speedup)", "auto");
  while (std::getline(ws, w, ',')) {
    const int64_t width = std::stol(w);
    const double s = bf16_probe_speedup(width);
    fmt::print("{:>6} {:>21.2f}x {:>8}\n", width, s,
               precision_name(choose_precision("auto", at::Device(at::kCPU), "auto", width).dtype));
  }
  fmt::print("threads {}; rule: bf16 when the CPU has AVX512-BF16 and the widest tower is >= {}\n", thread_count(),
             kBf16MinWidth);
  return 0;
}

}  // namespace

CB_REGISTER_BENCH("precision", "bf16 vs fp32 of one transformer MLP block per width (the --dtype auto rule)",
                  bench_precision);

}  // namespace cb::bench
