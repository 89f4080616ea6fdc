// raster.cpp — Canvas drawing primitives and PNG encode/decode with libpng (raster.h).
#include "report/raster.h"

#include <png.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/error.h"
#include "report/font5x7.h"
#include "io/mapped_file.h"

namespace cb::report {

Canvas::Canvas(int width, int height, Rgb bg) : w_(width), h_(height) {
  CB_CHECK_INPUT(width > 0 && height > 0 && width <= 16384 && height <= 16384,
                 "canvas: size {}×{} out of range (1..16384)", width, height);
  px_.resize(size_t(w_) * size_t(h_) * 3);
  for (size_t i = 0; i < px_.size(); i += 3) px_[i] = bg.r, px_[i + 1] = bg.g, px_[i + 2] = bg.b;
}

void Canvas::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  uint8_t* p = &px_[(size_t(y) * size_t(w_) + size_t(x)) * 3];
  p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

Rgb Canvas::get(int x, int y) const {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return {};
  const uint8_t* p = &px_[(size_t(y) * size_t(w_) + size_t(x)) * 3];
  return {p[0], p[1], p[2]};
}

void Canvas::line(int x0, int y0, int x1, int y1, Rgb c, int thickness) {
  // Bresenham; thickness draws a small square brush at each step.
  const int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
  const int dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  const int r0 = -(thickness - 1) / 2, r1 = thickness / 2;
  // Lines far outside the canvas are clipped point by point; cap the walk for safety.
  for (int64_t steps = 0; steps < 4 * int64_t(w_ + h_) + std::max(dx, -dy) + 1; ++steps) {
    for (int a = r0; a <= r1; ++a)
      for (int b = r0; b <= r1; ++b) set(x0 + a, y0 + b, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}

void Canvas::rect(int x0, int y0, int x1, int y1, Rgb c) {
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  x0 = std::max(x0, 0), y0 = std::max(y0, 0), x1 = std::min(x1, w_ - 1), y1 = std::min(y1, h_ - 1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) set(x, y, c);
}

void Canvas::rect_outline(int x0, int y0, int x1, int y1, Rgb c) {
  line(x0, y0, x1, y0, c);
  line(x1, y0, x1, y1, c);
  line(x1, y1, x0, y1, c);
  line(x0, y1, x0, y0, c);
}

void Canvas::disc(int cx, int cy, int radius, Rgb c) {
  for (int y = -radius; y <= radius; ++y)
    for (int x = -radius; x <= radius; ++x)
      if (x * x + y * y <= radius * radius + radius / 2) set(cx + x, cy + y, c);
}

int Canvas::text_width(const std::string& s, int scale) {
  return s.empty() ? 0 : int(s.size()) * 6 * scale - scale;
}

void Canvas::text(int x, int y, const std::string& s, Rgb c, int scale, bool vertical) {
  scale = std::max(scale, 1);
  for (size_t i = 0; i < s.size(); ++i) {
    const uint8_t* g = font5x7_glyph(s[i]);
    const int off = int(i) * 6 * scale;
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col) {
        if (!(g[row] & (0x10 >> col))) continue;
        for (int a = 0; a < scale; ++a)
          for (int b = 0; b < scale; ++b) {
            if (!vertical) {
              set(x + off + col * scale + a, y + row * scale + b, c);
            } else {  // rotated 90° counter-clockwise: text runs bottom → top from (x, y)
              set(x + row * scale + b, y - off - col * scale - a, c);
            }
          }
      }
  }
}

namespace {

void png_write_to_string(png_structp png, png_bytep data, png_size_t len) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), len);
}
void png_flush_noop(png_structp) {}

// libpng reports errors through callbacks; keep the message for our one-line error instead
// of letting libpng print to stderr.
thread_local std::string g_png_message;
void png_error_quiet(png_structp png, png_const_charp msg) {
  g_png_message = msg ? msg : "unknown error";
  png_longjmp(png, 1);
}
void png_warning_quiet(png_structp, png_const_charp) {}

}  // namespace

std::string Canvas::encode_png() const {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  CB_CHECK(png != nullptr, "png: cannot create write struct");
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, info ? &info : nullptr);
    fail_internal("png: encoding failed");
  }
  png_set_write_fn(png, &out, png_write_to_string, png_flush_noop);
  png_set_IHDR(png, info, png_uint_32(w_), png_uint_32(h_), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  for (int y = 0; y < h_; ++y) png_write_row(png, const_cast<png_bytep>(&px_[size_t(y) * size_t(w_) * 3]));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

void Canvas::write_png(const std::string& path) const { write_file_atomic(path, encode_png()); }

PngInfo read_png(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  CB_CHECK_INPUT(f != nullptr, "{}: cannot open PNG file", path);
  uint8_t sig[8] = {0};
  CB_CHECK_INPUT(std::fread(sig, 1, 8, f.get()) == 8 && png_sig_cmp(sig, 0, 8) == 0,
                 "{}: not a PNG file (bad signature)", path);
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, png_error_quiet, png_warning_quiet);
  CB_CHECK(png != nullptr, "png: cannot create read struct");
  png_infop info = png_create_info_struct(png);
  PngInfo out;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    fail_input("{}: corrupt or truncated PNG ({})", path, g_png_message);
  }
  png_init_io(png, f.get());
  png_set_sig_bytes(png, 8);
  png_read_info(png, info);
  out.width = int(png_get_image_width(png, info));
  out.height = int(png_get_image_height(png, info));
  out.bit_depth = png_get_bit_depth(png, info);
  out.channels = png_get_channels(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  out.pixels.resize(rowbytes * size_t(out.height));
  std::vector<png_bytep> rows(size_t(out.height));
  for (int y = 0; y < out.height; ++y) rows[size_t(y)] = &out.pixels[size_t(y) * rowbytes];
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return out;
}

Rgb palette_color(int i) {
  // 12 well-separated qualitative colours (the common "category10" set plus navy and maroon).
  static const Rgb kPalette[12] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                   {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                   {188, 189, 34},  {23, 190, 207}, {0, 0, 128},    {128, 0, 0}};
  if (i < 0) return {170, 170, 170};
  return kPalette[i % 12];
}

}  // namespace cb::report
