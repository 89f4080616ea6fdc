// small_bridge.h — a small ImageBind-architecture configuration for bridges trained from
// scratch (`codebind pretrain`, the sensor-suite default). It starts from ImageBind-Huge's
// config (so every state-dict key name is the real one) and shrinks widths, depths, input
// sizes and patch kernels, so CodeBind trains on top of it exactly as on ImageBind-Huge.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "encoders/imagebind/imagebind_config.h"

namespace cb {

struct BridgeSizes {
  int64_t out_dim = 128;   // every head's output (= CodeBind's shared width d_c)
  int64_t width = 128;     // trunk width of every tower
  int64_t blocks = 4;
  int64_t heads = 4;
  int64_t image_size = 64, image_patch = 8;           // vision: 3×64×64, (2,8,8) Conv3d
  int64_t depth_size = 64, depth_patch = 8;           // depth and thermal: 1×64×64
  int64_t audio_mel_bins = 128, audio_frames = 204;   // audio: 1×128×204 log-mel
  int64_t audio_kernel = 16, audio_stride = 16;
  int64_t imu_window = 400, imu_patch = 16;           // imu: 6×400 (2 s at 200 Hz)

  nlohmann::json to_json() const;
  static BridgeSizes from_json(const nlohmann::json& j, const std::string& where);
};

// The ImageBindConfig of a small bridge with the given sizes, for vision, text, audio,
// depth, thermal (depth's sizes) and imu.
ImageBindConfig small_bridge_config(const BridgeSizes& s);

}  // namespace cb
