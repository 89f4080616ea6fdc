// readers.h — the file readers of the manifest (docs/cli/data.md), shared by `data check` and
// the trainer's ItemDecoders so both see the same bytes the same way.
//
// read_item_tensor returns the raw decoded content, validated for its modality:
//   vision, tactile : (3, H, W) float in [0,1]   (PNG/JPEG; gray is repeated, alpha dropped)
//   audio           : (C, T) float in [-1,1]      (WAV, any rate/channels; rate in *sample_rate)
//   depth, thermal  : (H, W) float                (.npy float32, or 16-bit PNG scaled to [0,1])
//   imu             : (6, T) float                (.npy)
//   eeg             : (C, T) float                (.npy)
//   point           : (N, 3|6) float              (.npy)
// Text items have no file (Item::text). Errors are InputError naming the file and item id.
#pragma once
#include <torch/torch.h>

#include "data/manifest.h"

namespace cb::data {

at::Tensor read_item_tensor(const Item& item, int* sample_rate = nullptr);

// Checks a decoded tensor's shape for `m` and that it holds no NaN/Inf; throws InputError
// naming `where` otherwise (data check, train and eval give the same message).
void check_item_shape(Modality m, const at::Tensor& t, const std::string& where);

}  // namespace cb::data
