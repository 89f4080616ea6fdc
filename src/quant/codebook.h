// codebook.h — one EMA vector-quantisation codebook of CodeBind's compositional quantiser
// (docs/model.md §3.3–§3.7, §3.10): cosine assignment of L2-normalised chunks, straight-
// through estimator, EMA update with Laplace smoothing, k-means initialisation on the CLS
// chunks of the first batch, dead-code re-seeding, commitment loss. The shared codebook
// (1024 × 8) and every specific codebook (256 × 8) are instances of this class.
#pragma once
#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "io/safetensors.h"
#include "quant/communicator.h"

namespace cb {

struct CodebookConfig {
  int64_t num_codes = 1024;  // K
  int64_t code_dim = 8;      // c
  double decay = 0.99;       // γ
  double eps = 1e-5;         // Laplace ε
  double beta = 0.25;        // commitment factor β
  bool reseed = true;        // dead-code re-seeding ('random' anchor); false = anchor 'none'
  int kmeans_iters = 10;
  uint64_t seed = 0;
};

struct CodebookOutput {
  at::Tensor q;        // (N0, m, c) straight-through output û + sg(w[k] − û)
  at::Tensor unit;     // (N0, m, c) û: L2-normalised input chunks (carries the gradient)
  at::Tensor indices;  // (N0, m) int64 assigned codes (state before this call's update)
  at::Tensor commit;   // () β · mean((sg(w[k]) − û)²)
};

struct CodebookUsage {
  at::Tensor histogram;  // (K) int64 assignment counts
  double perplexity = 0;  // exp(entropy of the usage distribution); K for uniform usage
  int64_t dead = 0;       // codes never assigned
};

class Codebook {
 public:
  explicit Codebook(CodebookConfig cfg);

  const CodebookConfig& config() const { return cfg_; }
  int64_t num_codes() const { return cfg_.num_codes; }
  int64_t code_dim() const { return cfg_.code_dim; }

  // Forward on chunks (N0, m, c). `tokens_per_sample` = L when N0 = B·L rows of tokens (row
  // b·L is sample b's CLS token, used by k-means); 1 for one vector per sample. Training
  // mode updates the EMA state (and re-seeds); eval mode changes nothing (but an un-initted
  // codebook is k-means initialised in any mode, as in the reference).
  CodebookOutput forward(const at::Tensor& chunks, bool training, int64_t tokens_per_sample = 1);

  // Nearest codes (cosine) for chunks (…, m, c) → (…, m) int64; no state change.
  at::Tensor encode(const at::Tensor& chunks) const;
  // Raw codebook rows for indices (…) → (…, c).
  at::Tensor decode(const at::Tensor& indices) const;
  // Rows L2-normalised (K, c) — what distances use.
  at::Tensor normalized_weight() const;

  // Assignment of already-normalised rows (N, c) → (N) int64 (argmax cosine, ties → lowest).
  at::Tensor assign(const at::Tensor& unit_rows) const;

  // The state steps, public for tests, parity and distributed use (all under no-grad).
  // With a communicator each sums its statistics over the ranks first.
  void kmeans_init(const at::Tensor& samples);  // (S, c) unit rows
  void ema_update(const at::Tensor& unit_rows, const at::Tensor& idx);
  // p ← γ p + (1−γ)·bins/Σbins; returns the bins (K) int64 used.
  at::Tensor update_usage(const at::Tensor& idx);
  at::Tensor reseed_alpha() const;  // (K) α = exp(−(p·K·10)/(1−γ) − 1e-3)
  // w ← (1−α)·w + α·f with f K random rows of the batch (or all rows topped up with noise).
  // Across ranks this rank's rows (N, c) are rows [offset, offset + N) of `total`.
  void reseed(const at::Tensor& unit_rows, int64_t offset = 0, int64_t total = -1);
  // A training step's update: EMA, usage, re-seeding — the three steps above with their
  // cross-rank sums folded into two all-reduces (statistics with row counts; re-seed rows).
  void train_update(const at::Tensor& unit_rows, const at::Tensor& idx);

  CodebookUsage usage(const at::Tensor& indices) const;

  // State tensors (fp32, never require grad).
  at::Tensor weight;        // (K, c)
  at::Tensor cluster_size;  // (K)
  at::Tensor embed_avg;     // (K, c)
  at::Tensor embed_prob;    // (K)
  bool initted = false;

  void save(NamedTensors& out, const std::string& prefix) const;  // prefix.weight, …, prefix.initted
  void load(const SafetensorsFile& f, const std::string& prefix);
  void load_state(const std::map<std::string, at::Tensor>& tensors, const std::string& prefix);
  void to(const at::Device& device);

  void set_communicator(std::shared_ptr<Communicator> comm) { comm_ = std::move(comm); }
  Communicator* communicator() const { return comm_.get(); }
  at::Generator& generator() { return gen_; }

 private:
  void apply_ema(const at::Tensor& counts, const at::Tensor& sums);  // (K), (K, c) float32, summed over ranks
  void apply_usage(const at::Tensor& bins);                          // (K), summed over ranks
  CodebookConfig cfg_;
  std::shared_ptr<Communicator> comm_;
  at::Generator gen_;
};

}  // namespace cb
