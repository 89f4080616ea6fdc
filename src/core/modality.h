// modality.h — the modality enum shared by configs, manifests, checkpoints and the CLI
// (docs/cli/data.md, "Manifest format"). String names are the canonical spelling everywhere.
#pragma once
#include <array>
#include <cstdint>
#include <string>

namespace cb {

enum class Modality { Vision, Text, Audio, Depth, Thermal, Imu, Tactile, Eeg, Point };

constexpr std::array<Modality, 9> kAllModalities = {Modality::Vision, Modality::Text,    Modality::Audio,
                                                    Modality::Depth,  Modality::Thermal, Modality::Imu,
                                                    Modality::Tactile, Modality::Eeg,    Modality::Point};
constexpr uint32_t kModalityCount = static_cast<uint32_t>(kAllModalities.size());  // stored values are < this

// How a modality's items are stored, checked and read (data/readers.cpp, data/inputs.cpp
// switch on this, not on the modality): a new modality with an existing layout is one row in
// modality.cpp's table (docs/howto-add-modality.md).
enum class ItemLayout {
  Image,   // PNG/JPEG → (3, H, W): vision, tactile
  Audio,   // WAV → (C, T)
  Map,     // .npy [H, W] or single-channel 16-bit PNG: depth, thermal
  Imu,     // .npy [6, T]
  Signal,  // .npy [C, T]: eeg
  Cloud,   // .npy [N, 3|6]: point
  Text,    // inline text
};
ItemLayout item_layout(Modality m);

// "vision", "text", "audio", "depth", "thermal", "imu", "tactile", "eeg", "point".
const char* modality_name(Modality m);
// Inverse of modality_name; throws cb::InputError naming `where` for an unknown name.
Modality parse_modality(const std::string& name, const std::string& where = "modality");
// True for the bridge (anchor) modalities vision and text.
inline bool is_bridge(Modality m) { return m == Modality::Vision || m == Modality::Text; }

}  // namespace cb
