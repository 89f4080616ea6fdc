// bench_encoders.cpp — ImageBind-Huge forward throughput on CPU (random weights built in
// memory, nothing read from disk): vision (B,3,224,224), text (B,77) ids, audio single clips
// (B,1,128,204), at each batch size, fp32 (baseline) and bf16 / bf16 autocast (contenders);
// prints items/s and the ratios to fp32. Results: docs/bench/encoders.md.
//   codebind_bench encoders [modalities=vision,text,audio] [batch=1,8] [dtypes=fp32,bf16,autocast] [reps=2]
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <sstream>

#include "bench_registry.h"
#include "core/precision.h"
#include "core/threads.h"
#include "encoders/imagebind/imagebind_model.h"

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ','))
    if (!x.empty()) out.push_back(x);
  return out;
}

at::Tensor make_input(cb::Modality m, int64_t B) {
  at::manual_seed(0);
  switch (m) {
    case cb::Modality::Vision: return at::randn({B, 3, 224, 224});
    case cb::Modality::Audio: return at::randn({B, 1, 128, 204});
    case cb::Modality::Text: {
      at::Tensor ids = at::randint(1, 49406, {B, 77}, at::kLong);
      ids.narrow(1, 20, 57).zero_();
      ids.select(1, 0).fill_(49406);
      ids.select(1, 19).fill_(49407);  // EOT at position 19
      return ids;
    }
    default: throw std::runtime_error("bench: modality not covered");
  }
}

int bench_encoders(const cb::bench::BenchArgs& a) {
  const auto mods = split(a.get("modalities", "vision,text,audio"));
  const auto batches = split(a.get("batch", "1,8"));
  const auto dtypes = split(a.get("dtypes", "fp32,bf16"));
  const int reps = static_cast<int>(a.get_int("reps", 2));
  fmt::print("ImageBind-Huge CPU forward, threads={}, reps={} (median after one warm-up)\n", cb::thread_count(),
             reps);
  fmt::print("{:<8} {:>5} {:>6} {:>10} {:>10}\n", "modality", "batch", "dtype", "s/batch", "items/s");
  at::NoGradGuard no_grad;
  const cb::ImageBindConfig cfg = cb::ImageBindConfig::huge();
  for (const auto& mn : mods) {
    const cb::Modality m = cb::parse_modality(mn);
    cb::ImageBindModel model(cfg, {m}, 1);  // random weights, fp32
    for (const auto& bs : batches) {
      const int64_t B = std::stoll(bs);
      const at::Tensor x = make_input(m, B);
      std::map<std::string, double> ips;
      for (const auto& dt : dtypes) {
        // bf16: the model cast once (embed --weights); autocast: fp32 weights under CPU autocast
        // to bf16, cast per product (eval, train's frozen towers: core/precision.h).
        const bool autocast = dt == "autocast";
        const at::ScalarType st = dt == "bf16" ? at::kBFloat16 : at::kFloat;
        cb::ImageBindModel run = model;  // shares storage; to() below makes a cast copy only for bf16
        if (st != at::kFloat) run.to(at::kCPU, st);
        at::Tensor xi = at::isFloatingType(x.scalar_type()) ? x.to(st) : x;
        double s = cb::bench::median_seconds(reps, [&] {
          cb::PrecisionScope scope(autocast ? at::kBFloat16 : at::kFloat);
          run.embed(m, xi);
        });
        ips[dt] = double(B) / s;
        fmt::print("{:<8} {:>5} {:>6} {:>10.3f} {:>10.2f}\n", mn, B, dt, s, ips[dt]);
        std::fflush(stdout);
      }
      for (const char* c : {"bf16", "autocast"})
        if (ips.count("fp32") && ips.count(c))
          fmt::print("{:<8} {:>5} ratio {}/fp32 = {:.2f}x\n", mn, B, c, ips[c] / ips["fp32"]);
    }
  }
  return 0;
}

}  // namespace

CB_REGISTER_BENCH("encoders", "ImageBind-Huge vision/text/audio forward items/s, fp32 vs bf16 (CPU)", bench_encoders);
