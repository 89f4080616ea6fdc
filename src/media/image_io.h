// image_io.h — image files ↔ tensors. Decoding lives in the torch-free image_parse.h
// (fuzzable); this header adds the tensor conversion.
#pragma once
#include <ATen/ATen.h>

#include "media/image_parse.h"

namespace cb {

// (H, W, C) uint8 (bits 8) or int32 (bits 16; torch 1.13 has no uint16) tensor copy.
at::Tensor image_to_tensor(const Image& img);
// Inverse: (H, W, C) or (H, W) uint8 → 8-bit Image; any integer dtype with values > 255 →
// 16-bit Image.
Image tensor_to_image(const at::Tensor& hwc);

}  // namespace cb
