// precision.h — the floating type of forwards through frozen weights (`embed`, `eval`, the
// trainer's frozen-bridge cache): bf16 on CPUs where it is measured faster, fp32 elsewhere.
//
// The rule, from measurements (docs/bench/encoders.md, `codebind_bench encoders`): libtorch
// 1.13's CPU bf16 products run through oneDNN on CPUs with the AVX-512 core subset and fall back
// to a scalar loop elsewhere (28–105× slower than fp32); with native AVX512-BF16 dot products
// they are faster than fp32 (ImageBind-Huge audio 2.5× on an AMD EPYC), with emulated bf16 they
// are not measured faster; and small products (towers under 512 wide) gain nothing. So "auto"
// = bf16 exactly on CPUs with AVX512-BF16, for models with a tower at least 512 wide. The rule is a
// CPU-feature test, not a timing taken at start-up: a timed choice near its threshold would
// flip between two runs of one command on one host and change their codes. `--version` prints
// the probe below so a user can check the rule on their CPU. Accuracy (cosine to fp32 ≥ 0.999
// on the ImageBind fixtures, both ways of running bf16) is `Precision.Bf16KeepsTheFixtureEmbeddings`.
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace cb {

struct PrecisionChoice {
  at::ScalarType dtype = at::kFloat;  // kFloat or kBFloat16
  std::string why;                    // one line for logs: what decided it
};

// `requested` is "auto", "fp32" or "bf16" (anything else: InputError naming `what`, e.g.
// "--dtype"). "auto" on CPU: CODEBIND_DTYPE (fp32|bf16) if set, else bf16 on CPUs with
// AVX512-BF16 (and the AVX-512 core subset), fp32 elsewhere. "auto" on CUDA: fp32 (not measured
// here). An explicit bf16 on a CPU without the subset is honoured with a warning.
// `width`: the widest tower of the model at hand (0: unknown, counted as wide); below
// kBf16MinWidth "auto" stays fp32, because small products gain nothing from bf16.
constexpr int64_t kBf16MinWidth = 512;
PrecisionChoice choose_precision(const std::string& requested, const at::Device& device, const std::string& what,
                                 int64_t width = 0);

// InputError naming `what` unless `requested` is auto, fp32 or bf16 (choose_precision checks it
// too; this is for refusing a bad option before loading a model).
void check_precision_request(const std::string& requested, const std::string& what);

// The dtype's name as options spell it: "fp32" or "bf16".
std::string precision_name(at::ScalarType t);

// fp32 seconds / bf16 seconds for one (256, width) → 4·width → width MLP with GELU and
// LayerNorm, best of 3 (a few ms at 512): what `--version` and `codebind_bench precision` report
// next to the rule. 0 on CPUs without the AVX-512 core subset (not timed: the scalar loop
// takes seconds).
double bf16_probe_speedup(int64_t width = 512);

// Runs the forwards inside it with CPU autocast to `dtype` (matrix products and convolutions in
// bf16, weights kept in fp32, reductions as autocast keeps them); nothing when dtype is fp32.
// Outputs of a scope may be bf16: callers convert what leaves it with .to(at::kFloat).
class PrecisionScope {
 public:
  explicit PrecisionScope(at::ScalarType dtype);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  bool active_ = false, prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kBFloat16;
};

}  // namespace cb
