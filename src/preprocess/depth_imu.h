// depth_imu.h — preprocessing for modalities without official ImageBind code
// (docs/imagebind.md §2.7–§2.9): depth → disparity → DepthNorm, thermal
// normalisation, IMU windows. The model's parity contract starts at these tensors.
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace cb {

// Defaults: CodeBind's SUN/NYU RGB-D loader (docs/imagebind.md §2.7): PNG ÷ 8000 → metres,
// clip [0.01, 50], disparity = baseline 0.075 m · focal 518.857 px / depth, clamp
// [0.01, 75] ÷ 75, normalise with mean 0.318, std 0.115.
struct DepthConfig {
  double png_scale = 8000.0;               // 16-bit PNG units per metre
  double baseline_focal = 0.075 * 518.857; // baseline·focal (m·px)
  double min_depth = 0.01, max_depth = 50.0;  // depth clip in metres
  double norm_max = 75.0;                  // DepthNorm: clamp [0.01, norm_max], ÷ norm_max
  float mean = 0.318f, std = 0.115f;
  int size = 224;
};

// (H, W) metres → (H, W) disparity (baseline_focal / clip(depth)); zero depth (invalid) → 0.
at::Tensor depth_to_disparity(const at::Tensor& depth_m, const DepthConfig& cfg = {});
// (H, W) depth in metres → (1, size, size): disparity, DepthNorm, bicubic short-side resize
// (float, antialiased), centre crop, (x - mean) / std.
at::Tensor depth_transform(const at::Tensor& depth_m, const DepthConfig& cfg = {});
// 16-bit PNG (÷ png_scale → metres) or .npy float32 [H,W] (metres) → depth_transform.
at::Tensor load_and_transform_depth(const std::string& path, const DepthConfig& cfg = {});

// Thermal: grey 8/16-bit image → (1, size, size) in [0,1] (÷255 or ÷65535), Pillow-bicubic
// short-side resize and centre crop for 8-bit, then (x - mean) / std.
struct ThermalConfig { int size = 224; float mean = 0.0f, std = 1.0f; };
at::Tensor load_and_transform_thermal(const std::string& path, const ThermalConfig& cfg = {});

// IMU: (6, T) float → (6, window) windows. T == window: as is; T > window: centre crop;
// T < window: zero padded on the right. Optionally standardised per channel.
struct ImuConfig { int64_t window = 2000; bool standardize = false; };
at::Tensor imu_window(const at::Tensor& imu, const ImuConfig& cfg = {});
// The ImageBind patchify: (B, 6, 2000) → (B, 250, 48), feature = channel*8 + offset.
at::Tensor imu_patchify(const at::Tensor& imu, int64_t patch = 8);

}  // namespace cb
