// sensor_suite.h — the built-in offline multimodal benchmark: the digits 0–9 as one concept
// seen by vision (FreeType glyphs on GIMP textures), audio (espeak-ng speech), text (ICU
// spell-out), imu (Hershey pen strokes → accelerometer + gyro) and depth (extruded glyphs).
// Each modality carries private factors (attrs) drawn independently of the class and of the
// other modalities. Pools and ranges come from a JSON config (configs/sensor-suite.json).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace cb::suite {

struct SuiteOptions {
  std::string out_dir;
  uint64_t seed = 0;
  std::string config_path;  // "" = built-in defaults (same as configs/sensor-suite.json)
  std::string size = "small";  // "small" | "full"
  int threads = 0;             // 0 = hardware concurrency
  bool progress = true;
};

// The default configuration (identical to configs/sensor-suite.json).
nlohmann::json default_suite_config();
// Defaults overlaid with the file's keys (objects merged recursively).
nlohmann::json load_suite_config(const std::string& path);

struct SuiteStats {
  int64_t items = 0;
  double seconds = 0;
  std::string summary;  // one line per modality
};

// Generates DIR/dataset.json, DIR/items.jsonl and DIR/<modality>/<split>/<id>.<ext>.
// Deterministic for (seed, config, size): the same bytes for any number of threads.
SuiteStats generate_sensor_suite(const SuiteOptions& opt);

}  // namespace cb::suite
