// glyph_raster.cpp — see glyph_raster.h. FreeType only; no torch.
#include "suite/glyph_raster.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"

namespace fs = std::filesystem;

namespace cb::suite {

namespace {

struct FtLib {
  FT_Library lib = nullptr;
  FtLib() {
    if (FT_Init_FreeType(&lib)) fail_internal("FreeType initialisation failed");
  }
  ~FtLib() { FT_Done_FreeType(lib); }
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Renders a digit into a small bitmap signature used to reject fonts whose digits coincide.
std::vector<uint8_t> signature(FT_Face face, char ch) {
  if (FT_Load_Char(face, static_cast<FT_ULong>(ch), FT_LOAD_RENDER)) return {};
  const FT_Bitmap& b = face->glyph->bitmap;
  std::vector<uint8_t> sig{static_cast<uint8_t>(b.width), static_cast<uint8_t>(b.rows)};
  for (unsigned r = 0; r < b.rows; ++r)
    for (unsigned c = 0; c < b.width; ++c) sig.push_back(b.buffer[r * b.pitch + c] > 127);
  return sig;
}

}  // namespace

std::vector<FontEntry> discover_fonts(const std::vector<std::string>& dirs, const std::vector<std::string>& include,
                                      const std::vector<std::string>& exclude, int max_fonts) {
  std::vector<std::string> files;
  for (const auto& d : dirs) {
    if (!fs::is_directory(d)) continue;
    for (const auto& e : fs::recursive_directory_iterator(d, fs::directory_options::follow_directory_symlink)) {
      if (!e.is_regular_file()) continue;
      const std::string ext = lower(e.path().extension().string());
      if (ext == ".ttf" || ext == ".otf" || ext == ".ttc" || ext == ".t1" || ext == ".pfb")
        files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  FtLib ft;
  std::vector<FontEntry> out;
  for (const auto& f : files) {
    FT_Face face;
    if (FT_New_Face(ft.lib, f.c_str(), 0, &face)) continue;
    std::string fam = face->family_name ? face->family_name : fs::path(f).stem().string();
    std::string sty = face->style_name ? face->style_name : "";
    const std::string name = sty.empty() || sty == "Regular" ? fam : fam + " " + sty;
    bool ok = FT_Select_Charmap(face, FT_ENCODING_UNICODE) == 0 && FT_IS_SCALABLE(face);
    const std::string ln = lower(name + " " + fs::path(f).filename().string());
    for (const auto& x : exclude)
      if (ln.find(lower(x)) != std::string::npos) ok = false;
    if (ok && !include.empty()) {
      ok = false;
      for (const auto& x : include)
        if (ln.find(lower(x)) != std::string::npos) ok = true;
    }
    if (ok) ok = FT_Set_Pixel_Sizes(face, 0, 24) == 0;
    std::vector<std::vector<uint8_t>> sigs;
    for (char c = '0'; ok && c <= '9'; ++c) {
      if (FT_Get_Char_Index(face, static_cast<FT_ULong>(c)) == 0) ok = false;
      auto s = ok ? signature(face, c) : std::vector<uint8_t>{};
      if (s.size() <= 2 + 20) ok = false;  // empty or tiny glyph
      for (const auto& p : sigs)
        if (p == s) ok = false;
      sigs.push_back(std::move(s));
    }
    if (ok) out.push_back({f, 0, name});
    FT_Done_Face(face);
  }
  CB_CHECK_INPUT(!out.empty(), "sensor-suite: no usable fonts found in the configured font_dirs");
  if (max_fonts > 0 && static_cast<int>(out.size()) > max_fonts) {
    std::vector<FontEntry> kept;
    for (int i = 0; i < max_fonts; ++i) kept.push_back(out[static_cast<size_t>(i) * out.size() / max_fonts]);
    out.swap(kept);
  }
  return out;
}

std::vector<float> render_glyph(const FontEntry& font, char ch, int size, double scale, double rotation_deg,
                                double dx, double dy) {
  FtLib ft;
  FT_Face face;
  if (FT_New_Face(ft.lib, font.path.c_str(), font.face_index, &face))
    fail_input("{}: FreeType cannot open font", font.path);
  FT_Select_Charmap(face, FT_ENCODING_UNICODE);
  // Size so that the digit's ink height is about scale*size: measure at a reference size.
  FT_Set_Pixel_Sizes(face, 0, 64);
  FT_Load_Char(face, static_cast<FT_ULong>(ch), FT_LOAD_DEFAULT);
  double ink_h = std::max<double>(1.0, face->glyph->metrics.height / 64.0);
  int px = std::max(4, static_cast<int>(std::lround(64.0 * scale * size / ink_h)));
  FT_Set_Pixel_Sizes(face, 0, static_cast<FT_UInt>(px));
  const double a = rotation_deg * M_PI / 180.0;
  FT_Matrix m;
  m.xx = static_cast<FT_Fixed>(std::cos(a) * 0x10000);
  m.xy = static_cast<FT_Fixed>(-std::sin(a) * 0x10000);
  m.yx = static_cast<FT_Fixed>(std::sin(a) * 0x10000);
  m.yy = static_cast<FT_Fixed>(std::cos(a) * 0x10000);
  FT_Set_Transform(face, &m, nullptr);
  std::vector<float> out(static_cast<size_t>(size) * size, 0.f);
  if (FT_Load_Char(face, static_cast<FT_ULong>(ch), FT_LOAD_RENDER | FT_LOAD_NO_HINTING)) {
    FT_Done_Face(face);
    fail_input("{}: cannot render '{}'", font.path, ch);
  }
  const FT_Bitmap& b = face->glyph->bitmap;
  // Centre the bitmap's box in the output.
  const int ox = static_cast<int>(std::lround((size - static_cast<int>(b.width)) / 2.0 + dx));
  const int oy = static_cast<int>(std::lround((size - static_cast<int>(b.rows)) / 2.0 + dy));
  for (unsigned r = 0; r < b.rows; ++r)
    for (unsigned c = 0; c < b.width; ++c) {
      const int y = oy + static_cast<int>(r), x = ox + static_cast<int>(c);
      if (y < 0 || y >= size || x < 0 || x >= size) continue;
      out[static_cast<size_t>(y) * size + x] = b.buffer[r * b.pitch + c] / 255.f;
    }
  FT_Done_Face(face);
  return out;
}

}  // namespace cb::suite
