// modality.h — the modality enum shared by configs, manifests, checkpoints and the CLI
// (docs/cli/data.md, "Manifest format"). String names are the canonical spelling everywhere.
#pragma once
#include <array>
#include <string>

namespace cb {

enum class Modality { Vision, Text, Audio, Depth, Thermal, Imu, Tactile, Eeg, Point };

constexpr std::array<Modality, 9> kAllModalities = {Modality::Vision, Modality::Text,    Modality::Audio,
                                                    Modality::Depth,  Modality::Thermal, Modality::Imu,
                                                    Modality::Tactile, Modality::Eeg,    Modality::Point};

// "vision", "text", "audio", "depth", "thermal", "imu", "tactile", "eeg", "point".
const char* modality_name(Modality m);
// Inverse of modality_name; throws cb::InputError naming `where` for an unknown name.
Modality parse_modality(const std::string& name, const std::string& where = "modality");
// True for the bridge (anchor) modalities vision and text.
inline bool is_bridge(Modality m) { return m == Modality::Vision || m == Modality::Text; }

}  // namespace cb
