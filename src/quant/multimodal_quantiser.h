// multimodal_quantiser.h — CodeBind's compositional multimodal quantiser (MVQ, docs/model.md §3):
// one shared codebook used by every modality and every chunk position of the shared half,
// and one specific codebook per non-text modality for the specific half. A (P…, 2048)
// token embedding is split into 128 shared + 128 specific chunks of 8 (seg_type 1); text
// (P…, 1024) has only the shared half. Ablations: standard VQ (chunk dim = full width),
// separate codebooks (each modality quantises its shared half with its own codebook).
#pragma once
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/modality.h"
#include "quant/codebook.h"

namespace cb {

// The quantiser's one configuration, end to end: the settings a model config's "quantiser"
// object holds (JSON keys = field names), and the layout the model fills in from its widths.
struct QuantiserConfig {
  // ---- settings (JSON) ----
  int64_t shared_codebook_size = 1024;   // K_c
  int64_t specific_codebook_size = 256;  // K_s
  int64_t codevector_dim = 8;            // c (chunk length); standard_vq uses the half width instead
  bool use_vq = true;                    // false: "decoupling + reconstruction" ablation (no codebook)
  bool standard_vq = false;              // one codevector per half instead of c-d chunks
  bool separate_codebooks = false;       // per-modality shared codebooks (text keeps the shared one)
  bool per_rank_codebooks = false;       // reproduce the reference: no cross-rank synchronisation
  double decay = 0.99, eps = 1e-5, beta = 0.25;  // EMA γ, Laplace ε, commitment β
  int kmeans_iters = 10;                 // k-means iterations initialising each codebook on its first batch
  bool reseed = true;                    // dead-code re-seeding from the batch ('random' anchor)
  // ---- layout (set by the model, not read from JSON) ----
  int64_t shared_width = 1024;                // d_c
  int64_t specific_width = 1024;              // d_s (0 = "codebook only" ablation: no specific half)
  std::vector<Modality> specific_modalities;  // non-text modalities with a specific codebook
  uint64_t seed = 0;

  int64_t shared_chunk_dim() const { return standard_vq ? shared_width : codevector_dim; }
  int64_t specific_chunk_dim() const { return standard_vq ? std::max<int64_t>(1, specific_width) : codevector_dim; }
  int64_t shared_chunks() const { return shared_width / shared_chunk_dim(); }
  int64_t specific_chunks() const { return specific_width / specific_chunk_dim(); }
  // The settings as JSON (the layout is not included).
  nlohmann::json to_json() const;
  // Reads the settings of `j` (absent keys keep their defaults); unknown keys, ill-typed values
  // and out-of-range integers → InputError naming `where` and the key ("quantiser.KEY").
  static QuantiserConfig from_json(const nlohmann::json& j, const std::string& where);
  // Settings and layout together (InputError naming `where`).
  void validate(const std::string& where) const;
  // The configuration of one of its codebooks (K codes of dimension c; `salt` varies the seed).
  CodebookConfig codebook(int64_t num_codes, int64_t code_dim, uint64_t salt) const;
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

  // x: (P…, d_c + d_s) for non-text modalities, (P…, d_c) for text. Without VQ (use_vq
  // false) the halves are only normalised and no codes exist. `tokens_per_sample` =
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

  // The checkpointable state of every codebook: "<book>.{weight,cluster_size,embed_avg,
  // embed_prob,initted,rng}" with <book> = "shared", "specific_<modality>" or (separate
  // codebooks) "shared_<modality>". weight…embed_prob alias the live tensors; initted and rng
  // are snapshots, so after copying into the returned tensors call after_load() to restore
  // them (a resumed run then matches an uninterrupted one).
  NamedTensors named_state() const;
  void after_load();
  // named_state() with a name prefix into `out`, and the reverse from a file.
  void save(NamedTensors& out, const std::string& prefix = "quant.") const;
  void load(const SafetensorsFile& f, const std::string& prefix = "quant.");
  void to(const at::Device& device);
  void set_communicator(std::shared_ptr<Communicator> comm);
  // SHA-256-free 64-bit fingerprint (FNV-1a) of the shared codebook weight bytes.
  uint64_t shared_fingerprint() const;

 private:
  std::vector<std::pair<std::string, Codebook*>> books() const;
  QuantiserConfig cfg_;
  mutable std::map<std::string, at::Tensor> initted_, rng_;  // named_state() snapshots
  std::unique_ptr<Codebook> shared_;
  std::map<Modality, std::unique_ptr<Codebook>> separate_shared_;
  std::map<Modality, std::unique_ptr<Codebook>> specific_;
};

}  // namespace cb
