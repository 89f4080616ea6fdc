// precision.cpp — see precision.h.
#include "core/precision.h"

#include <ATen/autocast_mode.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "core/cpu_features.h"
#include "core/error.h"

namespace cb {

namespace {

// Best of 3 timings of a (256, w) → 4w → w block (two linears, GELU, LayerNorm) in `t`, on
// fixed values (no draw from the global generator: that would shift a run's random numbers).
double probe_seconds(at::ScalarType t, int64_t w) {
  auto fixed = [t](int64_t r, int64_t c, double f) {
    return at::arange(r * c, at::kFloat).mul(f).sin().mul(0.05).view({r, c}).to(t);
  };
  const at::Tensor x = fixed(256, w, 0.618), w1 = fixed(4 * w, w, 0.754), w2 = fixed(w, 4 * w, 0.569);
  const at::Tensor g = at::ones({w}, t), b = at::zeros({w}, t);
  at::NoGradGuard no_grad;
  auto run = [&] { return at::layer_norm(at::linear(at::gelu(at::linear(x, w1)), w2), {w}, g, b); };
  run();  // first call: oneDNN primitive creation
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

double bf16_probe_speedup(int64_t width) {
  if (!cpu_has_avx512_core()) return 0.0;
  return probe_seconds(at::kFloat, width) / probe_seconds(at::kBFloat16, width);
}

void check_precision_request(const std::string& requested, const std::string& what) {
  CB_CHECK_INPUT(requested == "auto" || requested == "fp32" || requested == "bf16",
                 "{} must be auto, fp32 or bf16 (got '{}')", what, requested);
}

PrecisionChoice choose_precision(const std::string& requested, const at::Device& device, const std::string& what,
                                 int64_t width) {
  check_precision_request(requested, what);
  if (requested == "fp32") return {at::kFloat, what + " fp32"};
  if (requested == "bf16") {
    if (device.is_cpu() && !cpu_has_avx512_core())
      spdlog::warn("{} bf16 on a CPU without AVX-512: libtorch runs bf16 products in a scalar loop here, "
                   "28-105x slower than fp32 (docs/bench/encoders.md)", what);
    return {at::kBFloat16, what + " bf16"};
  }
  if (!device.is_cpu()) return {at::kFloat, "fp32 (auto on " + device.str() + ": not measured)"};
  if (const char* e = std::getenv("CODEBIND_DTYPE"); e && *e) {
    const std::string v = e;
    CB_CHECK_INPUT(v == "fp32" || v == "bf16", "CODEBIND_DTYPE must be fp32 or bf16 (got '{}')", v);
    return {v == "bf16" ? at::kBFloat16 : at::kFloat, v + " (CODEBIND_DTYPE)"};
  }
  if (!cpu_has_avx512_core()) return {at::kFloat, "fp32 (auto: no AVX-512, bf16 would be libtorch's scalar loop)"};
  if (!cpu_has_avx512_bf16()) return {at::kFloat, "fp32 (auto: AVX-512 without AVX512-BF16, bf16 emulated)"};
  if (width > 0 && width < kBf16MinWidth)
    return {at::kFloat, fmt::format("fp32 (auto: towers {} wide; bf16 pays from {} on, docs/bench/encoders.md)", width,
                                    kBf16MinWidth)};
  return {at::kBFloat16, "bf16 (auto: this CPU has AVX512-BF16)"};
}

std::string precision_name(at::ScalarType t) { return t == at::kBFloat16 ? "bf16" : "fp32"; }

PrecisionScope::PrecisionScope(at::ScalarType dtype) {
  if (dtype == at::kFloat) return;
  CB_CHECK(dtype == at::kBFloat16, "PrecisionScope: only bf16 or fp32, got {}", c10::toString(dtype));
  active_ = true;
  prev_enabled_ = at::autocast::is_cpu_enabled();
  prev_dtype_ = at::autocast::get_autocast_cpu_dtype();
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::increment_nesting();
}

PrecisionScope::~PrecisionScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(prev_enabled_);
  at::autocast::set_autocast_cpu_dtype(prev_dtype_);
}

}  // namespace cb
