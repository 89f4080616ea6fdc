// samples.h — renders sample pictures of a dataset for the docs (no plotting library):
// a grid of vision items, audio spectrograms, IMU traces and depth maps, as PNG files.
#pragma once
#include <string>
#include <vector>

#include "data/manifest.h"

namespace cb::data {

// Writes OUT/vision_grid.png, OUT/audio_spectrograms.png, OUT/imu_traces.png,
// OUT/depth_maps.png (those whose modality is present). Returns the files written.
std::vector<std::string> render_samples(const Manifest& m, const std::string& out_dir);

}  // namespace cb::data
