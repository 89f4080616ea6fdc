// inputs.h — manifest items → network inputs for an ImageBind-architecture model, for every
// modality the trainers and `codebind eval` read (sizes come from the model's config):
//   vision  PNG/JPEG → (3, S, S) CLIP-normalised (Pillow-exact resize + centre crop)
//   audio   WAV → (1, mel, frames) log-mel (one 2 s clip, AudioSet normalisation)
//   depth   .npy/PNG [H, W] → (1, S, S), bilinear resize, per-sample standardisation
//   imu     .npy [6, T] → (6, window), centre crop / zero pad, per-channel standardisation
//   text    inline text → (77) BPE ids
// Decoded tensors are cached in memory by item id (the same items are read every epoch).
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "encoders/imagebind_config.h"
#include "preprocess/tokenizer.h"

namespace cb {

class InputPipeline {
 public:
  explicit InputPipeline(const ImageBindConfig& cfg, bool cache = true);

  // One item → its per-sample network input (see above). Thread-safe.
  at::Tensor decode(const data::Item& it) const;
  // Items of one modality → (B, ...) decoded in parallel.
  at::Tensor batch(const std::vector<const data::Item*>& items) const;
  // Texts → (B, 77) int64 ids.
  at::Tensor tokenize(const std::vector<std::string>& texts) const;

 private:
  at::Tensor decode_uncached(const data::Item& it) const;
  ImageBindConfig cfg_;
  bool cache_;
  std::unique_ptr<BpeTokenizer> tok_;
  mutable std::mutex mu_, tok_mu_;
  mutable std::map<std::string, at::Tensor> memo_;
};

}  // namespace cb
