// inputs.h — manifest items → network inputs, for every modality the trainers and
// `codebind eval` read. One pipeline for every bridge: sizes and scaling come from the
// bridge's InputSpec (encoders/input_spec.h), so ImageBind and our own small bridges differ
// only in data:
//   vision  PNG/JPEG → (3, S, S) CLIP-normalised (Pillow-exact resize + centre crop)
//   audio   WAV → (1, mel, frames) log-mel (one 2 s clip, AudioSet normalisation)
//   depth   imagebind: .npy metres / 16-bit PNG → disparity, DepthNorm, (1, S, S)
//           standardised: .npy [H, W] → bilinear (1, S, S), per-sample standardisation
//   thermal imagebind: grey image → [0, 1], or .npy values kept, bilinear → (1, S, S)
//           standardised: as depth
//   imu     .npy [6, T] → (6, window), centre crop / zero pad; standardised: per channel
//   text    inline text → (context_length) BPE ids
// Decoded tensors are cached in memory by item id (the same items are read every epoch).
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "encoders/bridge.h"
#include "preprocess/tokenizer.h"

namespace cb {

class InputPipeline {
 public:
  // The specs of every tower of `bridge`.
  explicit InputPipeline(const Bridge& bridge, bool cache = true);
  InputPipeline(std::vector<InputSpec> specs, bool cache = true);

  // One item → its per-sample network input (see above). Thread-safe.
  at::Tensor decode(const data::Item& it) const;
  // Items of one modality → (B, ...) decoded in parallel.
  at::Tensor batch(const std::vector<const data::Item*>& items) const;
  // Texts → (B, 77) int64 ids.
  at::Tensor tokenize(const std::vector<std::string>& texts) const;
  // InputError naming the item when its text has more BPE tokens than the text tower's context
  // holds (tokenize would cut it): for captions, which are training targets, not prompts.
  void check_text_fits(const data::Item& it) const;

 private:
  at::Tensor decode_uncached(const data::Item& it) const;
  const InputSpec& spec(Modality m, const std::string& item) const;
  std::map<Modality, InputSpec> specs_;
  bool cache_;
  std::unique_ptr<BpeTokenizer> tok_;
  mutable std::mutex mu_, tok_mu_;
  mutable std::map<std::string, at::Tensor> memo_;
};

}  // namespace cb
