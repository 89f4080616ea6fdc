// bridge_cache.h — the frozen-bridge cache. In a run where a bridge tower (vision, text) trains
// nothing (`freeze_bridge_heads`) and its forward is deterministic (no drop-path or dropout), its
// output for an item never changes: it is computed once, stored on disk, and reused every epoch
// and by every later run on the same data with the same tower weights and preprocessing.
//
// What is stored per entry (everything after it is recomputed each step, because it trains):
//   non-text tower: the trunk output z (S, L, D_M), S = clips (1 without a clip axis); the
//                   shared head, CodeBind's specific head and the decoder run on it.
//   text:           the pooled head embedding (d_c), before normalisation.
// Entries are keyed by hex FNV-1a 64 of (item id, media path, file size, mtime) — an edited
// file misses — or of the prompt text. One file per tower:
//   DIR/bridge-<modality>-<fingerprint>.safetensors
// with fingerprint = FNV-1a 64 over the cache format, the bridge kind and architecture, the
// tower's input spec, every tensor of the tower (names, shapes, bytes) and, for bf16, the dtype. A file whose
// fingerprint or checksum does not match is ignored with a warning and rebuilt.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "core/modality.h"
#include "data/inputs.h"
#include "data/manifest.h"
#include "encoders/bridge.h"
#include "model/model_config.h"

namespace cb {

// The frozen tower's forward itself, cached or not (the trainer calls these when the cache is
// off, so a cache never changes a result): under PrecisionScope(dtype), returned in fp32.
// Non-text: the trunk output (B·S, L, D_M) of `input`; text: pooled head embeddings (B, d_c).
at::Tensor frozen_trunk_output(const Bridge& bridge, Modality m, const at::Tensor& input, at::ScalarType dtype);
at::Tensor frozen_pooled_text(const Bridge& bridge, const at::Tensor& tokens, at::ScalarType dtype);

class FrozenTowerCache {
 public:
  // Opens (or starts) the cache file of tower `m` of `bridge` in `dir` (created on flush);
  // entries are computed in `dtype` (fp32 or bf16; part of the fingerprint when bf16).
  FrozenTowerCache(const Bridge& bridge, Modality m, const InputPipeline& inputs, const std::string& dir,
                   at::ScalarType dtype = at::kFloat);

  Modality modality() const { return m_; }
  const std::string& path() const { return path_; }
  // Non-text: z for `items` (B·S, L, D_M), sample-major; *clips = S. Missing entries are
  // computed in one batch (no gradient) and kept.
  at::Tensor trunk_output(const std::vector<const data::Item*>& items, int64_t* clips);
  // Text: pooled head embeddings (B, d_c) of `texts`.
  at::Tensor pooled_text(const std::vector<std::string>& texts);
  // Writes the file (atomically) when entries were added since the last flush; a write that
  // fails (read-only directory, full disk) is a warning, the run goes on.
  void flush();

  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }
  size_t entries() const { return entries_.size(); }
  // The fingerprint of a tower computed in `dtype` (hex), as in the file name.
  static std::string fingerprint(const Bridge& bridge, Modality m, at::ScalarType dtype = at::kFloat);

 private:
  // Looks up `keys`; computes the missing ones with `compute(indices)` → one tensor per index.
  std::vector<at::Tensor> lookup(const std::vector<std::string>& keys,
                                 const std::function<std::vector<at::Tensor>(const std::vector<size_t>&)>& compute);

  const Bridge& bridge_;
  Modality m_;
  const InputPipeline& inputs_;
  at::ScalarType dtype_;
  std::string path_, fingerprint_;
  std::map<std::string, at::Tensor> entries_;
  bool dirty_ = false;
  int64_t hits_ = 0, misses_ = 0;
};

// The bridge towers of `pair` whose output can be cached in a training run; for every bridge
// tower that cannot, one line in *why_not saying why.
std::vector<Modality> cacheable_towers(const ModelConfig& model, bool freeze_bridge_heads, const Bridge& bridge,
                                       std::vector<std::string>* why_not);

// The cache directory for `option`: "off" → ""; "auto" → DATA/.codebind-cache when DATA is
// writable, else RUN/bridge-cache; anything else is the directory itself.
std::string resolve_bridge_cache_dir(const std::string& option, const std::string& data_dir, const std::string& run_dir);

}  // namespace cb
