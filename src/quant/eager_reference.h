// eager_reference.h — the quantiser training step written the way the reference Python
// module writes it, in plain libtorch eager ops: the full (N, K) similarity matrix, argmax,
// a dense one-hot (N, K) for the EMA sums, F.normalize, mse commitment. It is the baseline
// the benchmarks time our fused quantiser against in the same process (bench/bench_quant.cpp)
// and is checked against the golden quantiser fixtures (tests/test_quant_eager.cpp), so both
// sides compute the same thing. Not used for training.
#pragma once
#include <ATen/ATen.h>

namespace cb::eager {

// One codebook's state, as the reference keeps it (buffers of the module).
struct CodebookState {
  at::Tensor weight;        // (K, c)
  at::Tensor cluster_size;  // (K)
  at::Tensor embed_avg;     // (K, c)
  at::Tensor embed_prob;    // (K)
};

struct Settings {
  double decay = 0.99, eps = 1e-5, beta = 0.25;
};

struct HalfOutput {
  at::Tensor indices;  // (N0, m) int64
  at::Tensor q;        // (N0, m, c) straight-through output û + (w[k] − û).detach()
  at::Tensor commit;   // () β · mean((w[k] − û)²), gradient to û only
};

// One training (or evaluation) call of one codebook on chunks (N0, m, c); updates `s` in
// training mode (EMA of counts and sums, Laplace smoothing, usage EMA; no re-seeding: the
// fixtures' anchor "none").
HalfOutput codebook_step(CodebookState& s, const at::Tensor& chunks, bool training, const Settings& opt);

struct StepOutput {
  at::Tensor z;       // (N0, d_c + d_s) n([q_c; q_s])
  at::Tensor commit;  // () shared + specific
  at::Tensor shared_indices, specific_indices;
};

// x (N0, d_c + d_s): the shared half against `shared` in chunks of shared.weight's width, the
// specific half against `specific` likewise; the merged output L2-normalised per row.
StepOutput quantiser_step(CodebookState& shared, CodebookState& specific, const at::Tensor& x, int64_t shared_width,
                          bool training, const Settings& opt);

}  // namespace cb::eager
