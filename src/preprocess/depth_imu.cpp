// depth_imu.cpp — depth → disparity → DepthNorm, thermal and IMU preprocessing
// (docs/imagebind.md §2.7–§2.9). ImageBind ships no code for these, so the
// conventions are the documented reconstructions; the model contract starts at the tensor.
#include "preprocess/depth_imu.h"

#include <filesystem>

#include "core/error.h"
#include "media/image_io.h"
#include "preprocess/image_transform.h"

namespace cb {
namespace {

// Short-side Pillow-F bicubic resize + centre crop of a (H, W) float map → (size, size).
at::Tensor resize_crop_float(const at::Tensor& hw, int size) {
  auto [rw, rh] = short_side_resize_size(int(hw.size(1)), int(hw.size(0)), size);
  at::Tensor r = resize_bicubic_pillow_float(hw, rw, rh);  // (rh, rw)
  auto [top, left] = center_crop_offsets(rh, rw, size);
  return r.narrow(0, top, size).narrow(1, left, size).contiguous();  // (size, size)
}

}  // namespace

at::Tensor depth_to_disparity(const at::Tensor& depth_m, const DepthConfig& cfg) {
  CB_CHECK_INPUT(depth_m.dim() == 2 && depth_m.numel() > 0, "depth: expected a non-empty (H, W) map");
  CB_CHECK_INPUT(cfg.baseline_focal > 0 && cfg.min_depth > 0 && cfg.max_depth > cfg.min_depth,
                 "depth: bad configuration (baseline_focal {}, depth range [{}, {}])", cfg.baseline_focal,
                 cfg.min_depth, cfg.max_depth);
  at::Tensor d = depth_m.to(at::kFloat);
  at::Tensor valid = d > 0;  // 0 = no measurement
  at::Tensor disp = cfg.baseline_focal / d.clamp(cfg.min_depth, cfg.max_depth);
  return at::where(valid, disp, at::zeros_like(disp));  // (H, W)
}

at::Tensor depth_transform(const at::Tensor& depth_m, const DepthConfig& cfg) {
  at::Tensor disp = depth_to_disparity(depth_m, cfg);
  at::Tensor norm = disp.clamp(0.01, cfg.norm_max) / cfg.norm_max;  // DepthNorm
  at::Tensor x = resize_crop_float(norm, cfg.size);
  return x.sub(cfg.mean).div(cfg.std).unsqueeze(0);  // (1, size, size)
}

at::Tensor load_and_transform_depth(const std::string& path, const DepthConfig& cfg) {
  Image img = decode_image(path, /*keep16=*/true);
  CB_CHECK_INPUT(img.channels == 1, "{}: depth PNG must be single-channel, found {} channels "
                 "(.npy depth maps: read_npy + depth_transform)", path, img.channels);
  at::Tensor raw = image_to_tensor(img).squeeze(-1).to(at::kFloat);  // (H, W) PNG units
  try {
    return depth_transform(raw / cfg.png_scale, cfg);
  } catch (const InputError& e) {
    fail_input("{}: {}", path, e.what());
  }
}

at::Tensor load_and_transform_thermal(const std::string& path, const ThermalConfig& cfg) {
  CB_CHECK_INPUT(cfg.std != 0.0f && cfg.size > 0, "{}: bad thermal configuration", path);
  Image img = decode_image(path, /*keep16=*/true);
  at::Tensor x;
  if (img.bits == 8) {
    // The ImageBind community's convention: Pillow L → Resize(bicubic) → CenterCrop → ToTensor.
    Image g = to_grey(img);
    auto [rw, rh] = short_side_resize_size(g.width, g.height, cfg.size);
    Image r = resize_bicubic_pillow(g, rw, rh);
    auto [top, left] = center_crop_offsets(rh, rw, cfg.size);
    x = image_to_tensor(r).squeeze(-1).narrow(0, top, cfg.size).narrow(1, left, cfg.size)
            .to(at::kFloat).div(255);
  } else {
    Image g = to_grey(img);  // 16-bit radiometric: keep the precision
    x = resize_crop_float(image_to_tensor(g).squeeze(-1).to(at::kFloat).div(65535), cfg.size);
  }
  return x.sub(cfg.mean).div(cfg.std).unsqueeze(0).contiguous();  // (1, size, size)
}

at::Tensor imu_window(const at::Tensor& imu, const ImuConfig& cfg) {
  CB_CHECK_INPUT(imu.dim() == 2 && imu.size(0) > 0 && imu.size(1) > 0,
                 "imu: expected a (channels, T) array with channels, T > 0, got {}", c10::str(imu.sizes()));
  CB_CHECK_INPUT(cfg.window > 0, "imu: bad window {}", cfg.window);
  at::Tensor x = imu.to(at::kFloat);
  const int64_t T = x.size(1);
  if (T > cfg.window) x = x.narrow(1, (T - cfg.window) / 2, cfg.window);
  else if (T < cfg.window) x = at::constant_pad_nd(x, {0, cfg.window - T}, 0);
  if (cfg.standardize) {
    at::Tensor valid = x.narrow(1, 0, std::min(T, cfg.window));
    at::Tensor mu = valid.mean(1, true), sd = valid.std(1, false, true).clamp_min(1e-6);
    x = (x - mu) / sd;
    if (T < cfg.window) x.narrow(1, T, cfg.window - T).zero_();
  }
  return x.contiguous();  // (channels, window)
}

at::Tensor imu_patchify(const at::Tensor& imu, int64_t patch) {
  CB_CHECK_INPUT(imu.dim() == 3 && patch > 0 && imu.size(2) % patch == 0,
                 "imu_patchify: expected (B, C, T) with T divisible by {}", patch);
  const int64_t B = imu.size(0), C = imu.size(1), T = imu.size(2);
  at::Tensor u = imu.unfold(2, patch, patch);  // (B, C, T/patch, patch)
  return u.permute({0, 2, 1, 3}).reshape({B, T / patch, C * patch});  // (B, T/patch, C*patch)
}

}  // namespace cb
