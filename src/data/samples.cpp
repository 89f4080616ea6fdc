// samples.cpp — see samples.h. Simple rasterising: an RGB canvas, nearest-neighbour blits,
// a colour map for spectrograms and depth, and 1-pixel polylines for traces.
#include "data/samples.h"

#include <filesystem>

#include "data/media_local.h"
#include "data/readers.h"
#include "io/run_dir.h"

namespace fs = std::filesystem;

namespace cb::data {

namespace {

struct Canvas {
  int w, h;
  std::vector<uint8_t> px;
  Canvas(int w_, int h_) : w(w_), h(h_), px(static_cast<size_t>(w_) * h_ * 3, 255) {}
  void set(int x, int y, const uint8_t c[3]) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    for (int k = 0; k < 3; ++k) px[(static_cast<size_t>(y) * w + x) * 3 + k] = c[k];
  }
  void line(int x0, int y0, int x1, int y1, const uint8_t c[3]) {
    const int n = std::max(std::abs(x1 - x0), std::abs(y1 - y0)) + 1;
    for (int i = 0; i <= n; ++i) set(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n, c);
  }
  // Blits a (3,H,W) image in [0,1] or a (H,W) map through the colour map at (ox, oy).
  void blit(const at::Tensor& t, int ox, int oy) {
    if (t.dim() == 3) {
      for (int y = 0; y < t.size(1); ++y)
        for (int x = 0; x < t.size(2); ++x) {
          uint8_t c[3];
          for (int k = 0; k < 3; ++k) c[k] = static_cast<uint8_t>(std::clamp(t[k][y][x].item<float>(), 0.f, 1.f) * 255);
          set(ox + x, oy + y, c);
        }
      return;
    }
    const float lo = t.min().item<float>(), hi = std::max(lo + 1e-6f, t.max().item<float>());
    for (int y = 0; y < t.size(0); ++y)
      for (int x = 0; x < t.size(1); ++x) {
        const float v = (t[y][x].item<float>() - lo) / (hi - lo);  // dark blue → yellow
        uint8_t c[3] = {static_cast<uint8_t>(255 * std::min(1.f, 1.5f * v)), static_cast<uint8_t>(255 * v),
                        static_cast<uint8_t>(255 * (0.5f - 0.5f * v))};
        set(ox + x, oy + y, c);
      }
  }
};

std::vector<const Item*> one_per_class(const Manifest& m, Modality mod, int per_class) {
  std::vector<const Item*> out;
  for (int c = 0; c < m.num_classes(); ++c) {
    int n = 0;
    for (auto* it : m.select(mod, "train"))
      if (it->label() == c && n < per_class) out.push_back(it), ++n;
  }
  return out;
}

}  // namespace

std::vector<std::string> render_samples(const Manifest& m, const std::string& out_dir) {
  create_output_dir(out_dir);
  std::vector<std::string> written;
  at::NoGradGuard ng;
  auto save = [&](const Canvas& c, const std::string& name) {
    const std::string p = (fs::path(out_dir) / name).string();
    write_png_u8(p, c.w, c.h, 3, c.px);
    written.push_back(p);
  };
  // Vision: 10 classes (rows) × 8 items (columns).
  if (auto v = one_per_class(m, Modality::Vision, 8); !v.empty()) {
    Canvas c(8 * 66, m.num_classes() * 66);
    for (size_t i = 0; i < v.size(); ++i) c.blit(read_item_tensor(*v[i]), static_cast<int>(i % 8) * 66, v[i]->label() * 66);
    save(c, "vision_grid.png");
  }
  // Audio: log-spectrograms, 10 classes × 2 items, each 128 × 96 (time × frequency).
  if (auto a = one_per_class(m, Modality::Audio, 2); !a.empty()) {
    Canvas c(2 * 130, m.num_classes() * 66);
    for (size_t i = 0; i < a.size(); ++i) {
      at::Tensor x = read_item_tensor(*a[i]).mean(0);
      at::Tensor fr = x.unfold(0, 512, 256) * at::hann_window(512);
      at::Tensor s = at::log(at::fft_rfft(fr, c10::nullopt, 1).abs().pow(2) + 1e-6).t().flip(0);  // (257, frames)
      s = at::adaptive_avg_pool2d(s.unsqueeze(0).unsqueeze(0), {64, 128}).squeeze();
      c.blit(s, static_cast<int>(i % 2) * 130, a[i]->label() * 66);
    }
    save(c, "audio_spectrograms.png");
  }
  // IMU: 10 classes × 2 items; accel (top) and gyro (bottom) channels as coloured lines.
  if (auto u = one_per_class(m, Modality::Imu, 2); !u.empty()) {
    const int W = 256, H = 120;
    Canvas c(2 * (W + 4), m.num_classes() * (H + 4));
    const uint8_t col[3][3] = {{220, 30, 30}, {30, 150, 30}, {30, 60, 220}};
    for (size_t i = 0; i < u.size(); ++i) {
      at::Tensor t = read_item_tensor(*u[i]);
      const int ox = static_cast<int>(i % 2) * (W + 4), oy = u[i]->label() * (H + 4);
      for (int part = 0; part < 2; ++part) {
        at::Tensor p = t.narrow(0, part * 3, 3);
        p = p - p.mean(1, true);
        const float s = std::max(1e-6f, p.abs().max().item<float>());
        for (int ch = 0; ch < 3; ++ch) {
          const int64_t T = p.size(1);
          int px = -1, py = 0;
          for (int x = 0; x < W; ++x) {
            const float v = p[ch][x * T / W].item<float>() / s;
            const int y = oy + part * (H / 2) + H / 4 - static_cast<int>(v * (H / 4 - 2));
            if (px >= 0) c.line(ox + px, py, ox + x, y, col[ch]);
            px = x, py = y;
          }
        }
      }
    }
    save(c, "imu_traces.png");
  }
  if (auto d = one_per_class(m, Modality::Depth, 4); !d.empty()) {
    Canvas c(4 * 66, m.num_classes() * 66);
    for (size_t i = 0; i < d.size(); ++i) c.blit(read_item_tensor(*d[i]), static_cast<int>(i % 4) * 66, d[i]->label() * 66);
    save(c, "depth_maps.png");
  }
  return written;
}

}  // namespace cb::data
