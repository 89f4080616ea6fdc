// bridge.cpp — the backbone-independent parts of encoders/bridge.h and input_spec.h.
#include "encoders/bridge.h"

#include <algorithm>

#include "core/error.h"

namespace cb {

const char* input_scaling_name(InputScaling s) {
  return s == InputScaling::ImageBind ? "imagebind" : "standardised";
}

InputScaling parse_input_scaling(const std::string& s, const std::string& where) {
  if (s == "imagebind") return InputScaling::ImageBind;
  if (s == "standardised") return InputScaling::Standardised;
  fail_input("{}: unknown input scaling '{}' (imagebind, standardised)", where, s);
}

bool Bridge::has(Modality m) const {
  const auto& ms = modalities();
  return std::find(ms.begin(), ms.end(), m) != ms.end();
}

int64_t Bridge::widest_tower() const {
  int64_t w = 0;
  for (Modality m : modalities()) w = std::max(w, width(m));
  return w;
}

}  // namespace cb
