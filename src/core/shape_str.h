// shape_str.h — "(3, 4)" rendering of a shape or a tensor's shape for error messages.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace cb {

inline std::string shape_str(c10::IntArrayRef s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

inline std::string shape_str(const at::Tensor& t) { return t.defined() ? shape_str(t.sizes()) : "(undefined)"; }

}  // namespace cb
