// input_spec.h — what one sample of a bridge's network input looks like and how manifest
// items are scaled into it (data/inputs.h reads these; each bridge states its own, see
// encoders/bridge.h). The ImageBind-vs-trained-bridge difference is one field here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/modality.h"

namespace cb {

// How manifest items of one modality become one sample of network input. The two scalings
// are the only ways the bridges we support differ; everything else (sizes) is a number.
enum class InputScaling {
  // The reference ImageBind transforms (parity-tested): depth as disparity normalised with
  // ImageBind's mean/std, thermal to [0, 1] then normalised, IMU as raw values.
  ImageBind,
  // Bridges trained by `codebind pretrain`: depth/thermal maps and IMU windows standardised per
  // sample (depth/thermal: whole map; IMU: per channel), so any sensor's units work.
  Standardised,
};
const char* input_scaling_name(InputScaling s);
InputScaling parse_input_scaling(const std::string& s, const std::string& where);

struct InputSpec {
  Modality modality = Modality::Vision;
  std::vector<int64_t> shape;  // one sample: vision (3,S,S); audio (1,mel,frames); depth/thermal
                               // (1,S,S); imu (6,T); text (context_length)
  InputScaling scaling = InputScaling::ImageBind;
};

// How a run uses a tower, for memory estimates: forward only (frozen or cached; one block's
// activations at a time), frozen weights with a backward through them (LoRA / headtune: every
// block's activations kept, no weight gradients or optimiser state), or every weight trained
// (gradients and two Adam moments as well).
enum class TowerUse { Inference, Backward, FullTune };

// The patch tokens of a non-text tower: grid (t,h,w) / (h,w) / (p), the stem's patch stride
// of the same rank, and the channels of one input sample.
struct TokenGrid {
  std::vector<int64_t> grid;
  std::vector<int64_t> stride;
  int64_t channels = 0;
};

}  // namespace cb
