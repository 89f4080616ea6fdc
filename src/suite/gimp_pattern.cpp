// gimp_pattern.cpp — see gimp_pattern.h.
#include "suite/gimp_pattern.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"

namespace cb::suite {

namespace {
uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
}  // namespace

Pattern parse_gimp_pattern(const uint8_t* data, size_t size, const std::string& file) {
  CB_CHECK_INPUT(size >= 24, "{}: truncated GIMP pattern ({} bytes)", file, size);
  const uint32_t hsize = be32(data), version = be32(data + 4), w = be32(data + 8), h = be32(data + 12),
                 bpp = be32(data + 16);
  CB_CHECK_INPUT(std::memcmp(data + 20, "GPAT", 4) == 0, "{}: not a GIMP pattern (bad magic)", file);
  CB_CHECK_INPUT(version == 1, "{}: unsupported GIMP pattern version {}", file, version);
  CB_CHECK_INPUT(bpp >= 1 && bpp <= 4, "{}: bad bytes per pixel {}", file, bpp);
  CB_CHECK_INPUT(w >= 1 && h >= 1 && w <= 8192 && h <= 8192, "{}: absurd pattern size {}x{}", file, w, h);
  CB_CHECK_INPUT(hsize >= 24 && hsize <= size, "{}: bad header size {}", file, hsize);
  const uint64_t need = uint64_t(w) * h * bpp;
  CB_CHECK_INPUT(size - hsize >= need, "{}: truncated pixel data: need {} bytes, have {}", file, need, size - hsize);
  Pattern p;
  p.name = std::filesystem::path(file).stem().string();
  p.width = static_cast<int>(w);
  p.height = static_cast<int>(h);
  p.rgb.resize(size_t(w) * h * 3);
  const uint8_t* px = data + hsize;
  for (size_t i = 0; i < size_t(w) * h; ++i) {
    const uint8_t* s = px + i * bpp;
    uint8_t r = s[0], g = bpp >= 3 ? s[1] : s[0], b = bpp >= 3 ? s[2] : s[0];
    if (bpp == 2 || bpp == 4) {  // blend alpha onto mid grey
      const int a = s[bpp - 1];
      r = static_cast<uint8_t>((r * a + 128 * (255 - a)) / 255);
      g = static_cast<uint8_t>((g * a + 128 * (255 - a)) / 255);
      b = static_cast<uint8_t>((b * a + 128 * (255 - a)) / 255);
    }
    p.rgb[i * 3] = r;
    p.rgb[i * 3 + 1] = g;
    p.rgb[i * 3 + 2] = b;
  }
  return p;
}

Pattern read_gimp_pattern(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  CB_CHECK_INPUT(f.good(), "{}: cannot open GIMP pattern", path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_gimp_pattern(bytes.data(), bytes.size(), path);
}

}  // namespace cb::suite
