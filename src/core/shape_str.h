// shape_str.h — "(3,4)" rendering of a tensor shape for error messages.
#pragma once
#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <string>

namespace cb {

inline std::string shape_str(c10::IntArrayRef s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + ")";
}

}  // namespace cb
