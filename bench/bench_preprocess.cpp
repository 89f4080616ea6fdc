// bench_preprocess.cpp — image resize cost: the Pillow-exact fixed-point bicubic (contender,
// what the vision pipeline must use for parity) against libtorch's float bicubic with
// antialias (baseline, not Pillow-exact) on the same image, one process.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "bench_registry.h"
#include "preprocess/image_transform.h"

namespace {

int bench_resize(const cb::bench::BenchArgs& a) {
  const int w = int(a.get_int("w", 640)), h = int(a.get_int("h", 480)), size = int(a.get_int("size", 224));
  const int reps = int(a.get_int("reps", 20));
  cb::Image img;
  img.width = w, img.height = h, img.channels = 3;
  img.pixels.resize(img.size());
  uint32_t s = 1;
  for (auto& p : img.pixels) s = s * 1664525u + 1013904223u, p = uint8_t(s >> 24);
  auto [ow, oh] = cb::short_side_resize_size(w, h, size);
  double t_pil = cb::bench::median_seconds(reps, [&] { cb::resize_bicubic_pillow(img, ow, oh); });
  at::Tensor x = at::from_blob(img.pixels.data(), {1, h, w, 3}, at::kByte).permute({0, 3, 1, 2}).to(at::kFloat);
  double t_torch = cb::bench::median_seconds(reps, [&] {
    at::_upsample_bicubic2d_aa(x, {oh, ow}, /*align_corners=*/false).round().clamp(0, 255).to(at::kByte);
  });
  fmt::print("resize {}x{} -> {}x{} RGB, threads {}: pillow-exact {:.3f} ms, torch bicubic-aa float {:.3f} ms, "
             "ratio torch/pillow {:.2f}\n", w, h, ow, oh, at::get_num_threads(), t_pil * 1e3, t_torch * 1e3,
             t_torch / t_pil);
  return 0;
}

}  // namespace

CB_REGISTER_BENCH("preprocess_resize", "Pillow-exact bicubic vs libtorch bicubic-aa (w= h= size= reps=)",
                  bench_resize);
