// shape_str.h — "(3, 4)" rendering of a tensor's shape for error messages (src/eval internal).
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace cb::eval::detail {

inline std::string shape_str(const at::Tensor& t) {
  if (!t.defined()) return "(undefined)";
  std::string s = "(";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + ")";
}

}  // namespace cb::eval::detail
