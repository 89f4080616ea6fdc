// hershey.h — reads Hershey single-stroke fonts (`.jhf`, hershey-fonts-data): per glyph a
// 5-digit id, a 3-digit vertex count, then count pairs of characters (value = char - 'R');
// the first pair is the left/right extent, " R" lifts the pen. A glyph may wrap over lines.
// In the ASCII-ordered fonts glyph i is character 32+i, so digit d is glyph 16+d.
#pragma once
#include <string>
#include <vector>

namespace cb::suite {

struct HersheyPoint {
  int x, y;  // font units, y grows downward
};
using HersheyStroke = std::vector<HersheyPoint>;
struct HersheyGlyph {
  int left = 0, right = 0;
  std::vector<HersheyStroke> strokes;
};

// Throws InputError naming file:line for malformed glyph records.
std::vector<HersheyGlyph> parse_hershey(const std::string& text, const std::string& file);
std::vector<HersheyGlyph> read_hershey(const std::string& path);

}  // namespace cb::suite
