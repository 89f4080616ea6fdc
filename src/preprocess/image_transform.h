// image_transform.h — the CLIP/ImageBind still-image pipeline (docs/imagebind.md §2.1):
// Pillow-exact bicubic resize, centre crop (round half to even), ÷255, CLIP mean/std.
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <string>

#include "media/image_parse.h"

namespace cb {

constexpr std::array<float, 3> kClipMean = {0.48145466f, 0.4578275f, 0.40821073f};
constexpr std::array<float, 3> kClipStd = {0.26862954f, 0.26130258f, 0.27577711f};

// Pillow ImagingResample BICUBIC (a = -0.5, antialias, 22-bit fixed point, horizontal pass
// first, 8-bit intermediate). 8-bit images of 1..4 channels.
Image resize_bicubic_pillow(const Image& img, int out_w, int out_h);

// Pillow mode "F" BICUBIC: the same filter and bounds with double weights, double
// accumulation and float32 results. (H, W) float32 → (out_h, out_w) float32.
at::Tensor resize_bicubic_pillow_float(const at::Tensor& hw, int out_w, int out_h);

// torchvision Resize(size) target: short side → size, long side int(size*long/short).
// Returns {out_w, out_h}.
std::array<int, 2> short_side_resize_size(int w, int h, int size);

// Centre-crop offsets {top, left} with Python round (half to even).
std::array<int, 2> center_crop_offsets(int h, int w, int size);

// RGB 8-bit image → (3, size, size) float32: resize short side, centre crop, ÷255,
// (x - mean) / std. Non-RGB inputs are converted like Pillow convert("RGB").
at::Tensor clip_image_transform(const Image& img, int size = 224);

// decode_image + clip_image_transform. (3, size, size) float32.
at::Tensor load_and_transform_vision(const std::string& path, int size = 224);

}  // namespace cb
