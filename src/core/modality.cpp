// modality.cpp — see modality.h.
#include "core/modality.h"

#include "core/error.h"

namespace cb {

const char* modality_name(Modality m) {
  switch (m) {
    case Modality::Vision: return "vision";
    case Modality::Text: return "text";
    case Modality::Audio: return "audio";
    case Modality::Depth: return "depth";
    case Modality::Thermal: return "thermal";
    case Modality::Imu: return "imu";
    case Modality::Tactile: return "tactile";
    case Modality::Eeg: return "eeg";
    case Modality::Point: return "point";
  }
  return "?";
}

Modality parse_modality(const std::string& name, const std::string& where) {
  for (Modality m : kAllModalities)
    if (name == modality_name(m)) return m;
  fail_input("{}: unknown modality '{}' (expected vision, text, audio, depth, thermal, imu, tactile, eeg or point)",
             where, name);
}

}  // namespace cb
