// glyph_raster.h — the font pool of the sensor-suite (vision and depth): discovers installed
// fonts, keeps those that have all ten digit glyphs and are not pictogram/symbol fonts, and
// renders one digit as a coverage map with FreeType.
#pragma once
#include <string>
#include <vector>

namespace cb::suite {

struct FontEntry {
  std::string path;
  int face_index = 0;
  std::string name;  // "Family Style", the `font` attribute
};

// Scans `dirs` recursively (sorted, deterministic) for .ttf/.otf/.ttc/.t1/.pfb; keeps faces
// with a Unicode charmap and glyphs for '0'–'9' whose ten renderings are pairwise distinct,
// whose family does not match any of `exclude` (case-insensitive substrings, e.g. "symbol",
// "dingbat"), and (when `include` is non-empty) matches one of `include`. At most `max_fonts`
// are kept, spread evenly over the sorted list. Throws InputError when none are found.
std::vector<FontEntry> discover_fonts(const std::vector<std::string>& dirs, const std::vector<std::string>& include,
                                      const std::vector<std::string>& exclude, int max_fonts);

// Renders `ch` from `font` into a (size × size) coverage map in [0,1], glyph height about
// scale*size, rotated by `rotation_deg` (counter-clockwise), centred on the glyph's ink box
// plus (dx, dy) pixels. Thread-safe (one FT_Library per call).
std::vector<float> render_glyph(const FontEntry& font, char ch, int size, double scale, double rotation_deg,
                                double dx = 0, double dy = 0);

}  // namespace cb::suite
