// font5x7.h — an embedded 5×7 bitmap font for printable ASCII (32..126), drawn by Canvas::text.
// Each glyph is 7 rows; bit 4 of a row byte is the leftmost column.
#pragma once
#include <cstdint>

namespace cb::report {

// 7 row bytes of glyph `c`; unprintable characters map to '?'.
const uint8_t* font5x7_glyph(char c);

}  // namespace cb::report
