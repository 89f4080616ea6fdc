// image_transform.cpp — Pillow-exact bicubic resize and the CLIP still-image transform
// (docs/imagebind.md §2.1, steps 2–4).
#include "preprocess/image_transform.h"

#include <cmath>

#include "core/error.h"

namespace cb {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Per output index: first input index, count, and fixed-point weights (ksize per row).
struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;    // (out, 2): xmin, count
  std::vector<int32_t> k;     // (out, ksize) fixed point
  std::vector<double> kd;     // (out, ksize) normalised double weights
};

Coeffs precompute(int in_size, int out_size) {
  const double support0 = 2.0;  // bicubic support
  double scale = double(in_size) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = support0 * filterscale;
  Coeffs c;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.bounds.resize(size_t(out_size) * 2);
  c.k.assign(size_t(out_size) * c.ksize, 0);
  c.kd.assign(size_t(out_size) * c.ksize, 0.0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    double center = (xx + 0.5) * scale;
    double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = bicubic_filter((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[x] / ww : w[x];
      c.kd[size_t(xx) * c.ksize + x] = v;
      double f = v * (1 << kPrecisionBits);
      c.k[size_t(xx) * c.ksize + x] = v < 0 ? int32_t(-0.5 + f) : int32_t(0.5 + f);
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t in) {
  if (in >= (1 << kPrecisionBits) << 8) return 255;
  if (in <= 0) return 0;
  return uint8_t(in >> kPrecisionBits);
}

// Horizontal pass over input rows [y0, y0 + rows).
Image resample_h(const Image& in, int out_w, int y0, int rows, const Coeffs& c) {
  Image o;
  o.width = out_w, o.height = rows, o.channels = in.channels, o.bits = 8;
  o.pixels.resize(o.size());
  const int C = in.channels;
  for (int y = 0; y < rows; ++y) {
    const uint8_t* src = &in.pixels[size_t(y + y0) * in.width * C];
    uint8_t* dst = &o.pixels[size_t(y) * out_w * C];
    for (int xx = 0; xx < out_w; ++xx) {
      int xmin = c.bounds[xx * 2], xmax = c.bounds[xx * 2 + 1];
      const int32_t* k = &c.k[size_t(xx) * c.ksize];
      for (int ch = 0; ch < C; ++ch) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < xmax; ++x) ss += int32_t(src[(x + xmin) * C + ch]) * k[x];
        dst[xx * C + ch] = clip8(ss);
      }
    }
  }
  return o;
}

// Vertical pass; bounds are relative to `in` row 0 after shifting by `shift`.
Image resample_v(const Image& in, int out_h, const Coeffs& c, int shift) {
  Image o;
  o.width = in.width, o.height = out_h, o.channels = in.channels, o.bits = 8;
  o.pixels.resize(o.size());
  const int C = in.channels;
  const size_t stride = size_t(in.width) * C;
  std::vector<int32_t> acc(stride);
  for (int yy = 0; yy < out_h; ++yy) {
    int ymin = c.bounds[yy * 2] - shift, ymax = c.bounds[yy * 2 + 1];
    const int32_t* k = &c.k[size_t(yy) * c.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    // Row-wise accumulation (contiguous); the same integer sums as Pillow's per-pixel loop.
    for (int y = 0; y < ymax; ++y) {
      const uint8_t* src = &in.pixels[size_t(y + ymin) * stride];
      const int32_t ky = k[y];
      for (size_t xc = 0; xc < stride; ++xc) acc[xc] += int32_t(src[xc]) * ky;
    }
    uint8_t* dst = &o.pixels[size_t(yy) * stride];
    for (size_t xc = 0; xc < stride; ++xc) dst[xc] = clip8(acc[xc]);
  }
  return o;
}

}  // namespace

Image resize_bicubic_pillow(const Image& img, int out_w, int out_h) {
  CB_CHECK_INPUT(img.bits == 8, "resize_bicubic_pillow: 8-bit images only (got {}-bit)", img.bits);
  CB_CHECK_INPUT(out_w > 0 && out_h > 0 && img.width > 0 && img.height > 0,
                 "resize_bicubic_pillow: bad sizes {}x{} → {}x{}", img.width, img.height, out_w, out_h);
  const bool need_h = out_w != img.width, need_v = out_h != img.height;
  Coeffs ch = precompute(img.width, out_w);
  Coeffs cv = precompute(img.height, out_h);
  int ybox_first = cv.bounds[0];
  int ybox_last = cv.bounds[out_h * 2 - 2] + cv.bounds[out_h * 2 - 1];
  Image cur = img;
  int shift = 0;
  if (need_h) {
    cur = resample_h(img, out_w, ybox_first, ybox_last - ybox_first, ch);
    shift = ybox_first;
  }
  if (need_v) return resample_v(cur, out_h, cv, shift);
  return cur;
}

at::Tensor resize_bicubic_pillow_float(const at::Tensor& hw_in, int out_w, int out_h) {
  CB_CHECK_INPUT(hw_in.dim() == 2 && hw_in.numel() > 0 && out_w > 0 && out_h > 0,
                 "resize_bicubic_pillow_float: expected a non-empty (H, W) tensor and positive sizes");
  at::Tensor src = hw_in.to(at::kFloat).contiguous();
  const int H = int(src.size(0)), W = int(src.size(1));
  Coeffs ch = precompute(W, out_w), cv = precompute(H, out_h);
  const bool need_h = out_w != W, need_v = out_h != H;
  int y0 = 0, rows = H;
  if (need_h) y0 = cv.bounds[0], rows = cv.bounds[out_h * 2 - 2] + cv.bounds[out_h * 2 - 1] - y0;
  at::Tensor tmp = src;
  if (need_h) {
    tmp = at::empty({rows, out_w}, at::kFloat);  // (rows, out_w)
    const float* s = src.data_ptr<float>();
    float* d = tmp.data_ptr<float>();
    for (int y = 0; y < rows; ++y)
      for (int xx = 0; xx < out_w; ++xx) {
        const double* k = &ch.kd[size_t(xx) * ch.ksize];
        double ss = 0.0;
        for (int x = 0; x < ch.bounds[xx * 2 + 1]; ++x) ss += s[size_t(y + y0) * W + x + ch.bounds[xx * 2]] * k[x];
        d[size_t(y) * out_w + xx] = float(ss);
      }
  } else {
    y0 = 0;
  }
  if (!need_v) return tmp;
  const int w2 = int(tmp.size(1));
  at::Tensor out = at::empty({out_h, w2}, at::kFloat);  // (out_h, out_w)
  const float* s = tmp.data_ptr<float>();
  float* d = out.data_ptr<float>();
  for (int yy = 0; yy < out_h; ++yy) {
    const double* k = &cv.kd[size_t(yy) * cv.ksize];
    int ymin = cv.bounds[yy * 2] - (need_h ? y0 : 0), ymax = cv.bounds[yy * 2 + 1];
    for (int x = 0; x < w2; ++x) {
      double ss = 0.0;
      for (int y = 0; y < ymax; ++y) ss += s[size_t(y + ymin) * w2 + x] * k[y];
      d[size_t(yy) * w2 + x] = float(ss);
    }
  }
  return out;
}

std::array<int, 2> short_side_resize_size(int w, int h, int size) {
  CB_CHECK_INPUT(w > 0 && h > 0 && size > 0, "resize: bad size {}x{} → {}", w, h, size);
  int shortest = std::min(w, h), longest = std::max(w, h);
  // Python: int(size * long / short) with float division.
  int new_long = int(double(int64_t(size) * longest) / double(shortest));
  return w <= h ? std::array<int, 2>{size, new_long} : std::array<int, 2>{new_long, size};
}

std::array<int, 2> center_crop_offsets(int h, int w, int size) {
  return {int(std::nearbyint((h - size) / 2.0)), int(std::nearbyint((w - size) / 2.0))};
}

at::Tensor clip_image_transform(const Image& img_in, int size) {
  Image rgb = (img_in.channels == 3 && img_in.bits == 8) ? img_in : to_rgb8(img_in);
  auto [rw, rh] = short_side_resize_size(rgb.width, rgb.height, size);
  Image r = resize_bicubic_pillow(rgb, rw, rh);
  // CenterCrop (zero padding when a side is smaller, unreachable after the resize).
  auto [top, left] = center_crop_offsets(r.height, r.width, size);
  at::Tensor hwc = at::zeros({size, size, 3}, at::kByte);  // (size, size, 3)
  uint8_t* dst = hwc.data_ptr<uint8_t>();
  for (int y = 0; y < size; ++y) {
    int sy = y + top;
    if (sy < 0 || sy >= r.height) continue;
    for (int x = 0; x < size; ++x) {
      int sx = x + left;
      if (sx < 0 || sx >= r.width) continue;
      for (int c = 0; c < 3; ++c) dst[(size_t(y) * size + x) * 3 + c] = r.pixels[(size_t(sy) * r.width + sx) * 3 + c];
    }
  }
  at::Tensor x = hwc.permute({2, 0, 1}).contiguous().to(at::kFloat).div(255);  // (3, size, size)
  at::Tensor mean = at::tensor(std::vector<float>(kClipMean.begin(), kClipMean.end())).view({3, 1, 1});
  at::Tensor std = at::tensor(std::vector<float>(kClipStd.begin(), kClipStd.end())).view({3, 1, 1});
  return x.sub_(mean).div_(std);
}

at::Tensor load_and_transform_vision(const std::string& path, int size) {
  return clip_image_transform(decode_image(path), size);
}

}  // namespace cb
