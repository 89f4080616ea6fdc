// raster.h — a minimal RGB canvas for the evaluation plots: pixels, clipped lines, filled
// rectangles and discs, text in an embedded 5×7 bitmap font (font5x7.h), and PNG
// encoding/decoding through libpng. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cb::report {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  int width() const { return w_; }
  int height() const { return h_; }
  // Pixels outside the canvas are ignored (clipping) by every drawing call.
  void set(int x, int y, Rgb c);
  Rgb get(int x, int y) const;
  void line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1);  // Bresenham
  void rect(int x0, int y0, int x1, int y1, Rgb c);                     // filled, inclusive
  void rect_outline(int x0, int y0, int x1, int y1, Rgb c);
  void disc(int cx, int cy, int radius, Rgb c);
  // Text with the 5×7 font, top-left at (x, y); `scale` ≥ 1 magnifies each font pixel.
  // Characters outside printable ASCII are drawn as '?'. vertical = rotated 90° ccw.
  void text(int x, int y, const std::string& s, Rgb c, int scale = 1, bool vertical = false);
  static int text_width(const std::string& s, int scale = 1);   // pixels (6 per char × scale)
  static int text_height(int scale = 1) { return 7 * scale; }
  const std::vector<uint8_t>& rgb() const { return px_; }  // row-major RGB, 3 bytes/pixel

  // Encodes as an 8-bit RGB PNG (deterministic: no timestamps) and writes atomically.
  void write_png(const std::string& path) const;
  std::string encode_png() const;

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

// Header of a PNG file read back with libpng (tests / sanity checks).
struct PngInfo {
  int width = 0, height = 0, channels = 0, bit_depth = 0;
  std::vector<uint8_t> pixels;  // decoded rows, width·channels bytes each
};
// Throws InputError naming the file when it is not a readable PNG.
PngInfo read_png(const std::string& path);

// A fixed qualitative palette (colour i of a repeating 12-colour cycle).
Rgb palette_color(int i);

}  // namespace cb::report
