// gimp_pattern.h — reads GIMP `.pat` texture tiles (gimp-data) used as vision backgrounds.
// Format: big-endian u32 header_size, version (1), width, height, bytes per pixel (1–4),
// magic "GPAT", then a NUL-terminated UTF-8 name up to header_size, then width*height*bpp bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cb::suite {

struct Pattern {
  std::string name;  // file stem, e.g. "burlap"
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // (height, width, 3)
};

// Throws InputError naming the file for a truncated or malformed pattern.
Pattern read_gimp_pattern(const std::string& path);
Pattern parse_gimp_pattern(const uint8_t* data, size_t size, const std::string& file);

}  // namespace cb::suite
