// multimodal_quantiser.h — CodeBind's compositional multimodal quantiser (MVQ, spec §7):
// one shared codebook used by every modality and every chunk position of the shared half,
// and one specific codebook per non-text modality for the specific half. A (P…, 2048)
// token embedding is split into 128 shared + 128 specific chunks of 8 (seg_type 1); text
// (P…, 1024) has only the shared half. Ablations: standard VQ (chunk dim = full width),
// separate codebooks (each modality quantises its shared half with its own codebook).
#pragma once
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/modality.h"
#include "quant/codebook.h"

namespace cb {

struct QuantiserConfig {
  int64_t shared_codes = 1024;     // K_c
  int64_t specific_codes = 256;    // K_s
  int64_t shared_chunk_dim = 8;    // c (standard VQ ablation: = shared_width)
  int64_t specific_chunk_dim = 8;
  int64_t shared_width = 1024;     // d_c
  int64_t specific_width = 1024;   // d_s (0 = "codebook only" ablation: no specific half)
  std::vector<Modality> specific_modalities;  // non-text modalities with a specific codebook
  bool separate_codebooks = false;  // ablation: per-modality shared codebooks (text keeps the shared one)
  bool per_rank_codebooks = false;  // reproduce the reference: no cross-rank synchronisation
  bool reseed = true;               // dead-code re-seeding ('random' anchor)
  int kmeans_iters = 10;            // k-means iterations of the first-batch initialisation
  double decay = 0.99, eps = 1e-5, beta = 0.25;
  uint64_t seed = 0;

  int64_t shared_chunks() const { return shared_width / shared_chunk_dim; }
  int64_t specific_chunks() const { return specific_chunk_dim > 0 ? specific_width / specific_chunk_dim : 0; }
  nlohmann::json to_json() const;
  // Unknown keys or inconsistent sizes → InputError naming `where` and the key.
  static QuantiserConfig from_json(const nlohmann::json& j, const std::string& where);
  void validate(const std::string& where) const;
};

struct QuantiserOutput {
  at::Tensor z_c;               // (P…, d_c) n(flatten(q̃_c)) — the shared ("common") embedding
  at::Tensor z_s;               // (P…, d_s) n(flatten(q̃_s)); undefined for text / width 0
  at::Tensor z;                 // (P…, d_c + d_s) n([q̃_c; q̃_s]); text: = z_c
  at::Tensor commit;            // () shared + specific commitment
  at::Tensor shared_indices;    // (P…, m_c) int64
  at::Tensor specific_indices;  // (P…, m_s) int64; undefined for text
  at::Tensor shared_unit;       // (P…, m_c, c) normalised shared chunks û (with gradient)
};

class MultimodalQuantiser {
 public:
  explicit MultimodalQuantiser(QuantiserConfig cfg);

  const QuantiserConfig& config() const { return cfg_; }

  // x: (P…, d_c + d_s) for non-text modalities, (P…, d_c) for text. `tokens_per_sample` =
  // L when the leading axes are (B, L) tokens of one sample each (k-means uses token 0).
  QuantiserOutput forward(const at::Tensor& x, Modality m, bool training, int64_t tokens_per_sample = 1);

  // Eval-mode codes only: shared (P…, m_c) and specific (P…, m_s) (undefined for text).
  std::pair<at::Tensor, at::Tensor> encode(const at::Tensor& x, Modality m) const;
  // Codes → quantised embeddings (P…, d_c) normalised, and (P…, d_s) normalised (if given).
  at::Tensor decode_shared(const at::Tensor& shared_indices, Modality m = Modality::Text) const;
  at::Tensor decode_specific(const at::Tensor& specific_indices, Modality m) const;

  Codebook& shared_codebook(Modality m = Modality::Text);
  const Codebook& shared_codebook(Modality m = Modality::Text) const;
  bool has_specific(Modality m) const { return specific_.count(m) > 0; }
  Codebook& specific_codebook(Modality m);
  const Codebook& specific_codebook(Modality m) const;

  // Names: "<prefix>common.<state>", "<prefix>specific.<modality>.<state>",
  // (separate codebooks) "<prefix>common.<modality>.<state>".
  void save(NamedTensors& out, const std::string& prefix = "quantiser.") const;
  void load(const SafetensorsFile& f, const std::string& prefix = "quantiser.");
  void to(const at::Device& device);
  void set_communicator(std::shared_ptr<Communicator> comm);
  // SHA-256-free 64-bit fingerprint (FNV-1a) of the shared codebook weight bytes.
  uint64_t shared_fingerprint() const;

 private:
  QuantiserConfig cfg_;
  std::unique_ptr<Codebook> shared_;
  std::map<Modality, std::unique_ptr<Codebook>> separate_shared_;
  std::map<Modality, std::unique_ptr<Codebook>> specific_;
};

}  // namespace cb
