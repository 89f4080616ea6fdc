// suite_gen.h — internal interface between the sensor-suite orchestrator (sensor_suite.cpp)
// and the per-modality generators (gen_*.cpp). Each generator is set up once from its config
// section, then `make` is called from worker threads with a per-item generator; it writes the
// item's file (if any) and returns the item's attrs (and inline text for text items).
#pragma once
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/suite_rng.h"

namespace cb::suite {

// One planned item of a modality, in plan order (index = position).
struct PlanItem {
  int label;
  uint64_t seed;  // the item's generator seed
};

// The shared scene of an instance pair (sensor_suite.h: `instance_pairs`): the glyph geometry
// that the paired items of several modalities render, as unit draws each generator maps into
// its own configured range (so every modality keeps its own marginal distribution).
struct Scene {
  bool on = false;            // false: the item draws its own geometry from its rng
  double font = 0;            // [0, 1) → index into the vision font pool
  double scale = 0, rotation = 0;  // [0, 1) → the generator's scale / rotation range
  static Scene draw(uint64_t seed) {
    data::SuiteRng r(seed);
    Scene sc;
    sc.on = true;
    sc.font = r.uniform();
    sc.scale = r.uniform();
    sc.rotation = r.uniform();
    return sc;
  }
};

struct GenResult {
  nlohmann::json attrs = nlohmann::json::object();
  std::string text;  // text items only
};

class ModalityGenerator {
 public:
  virtual ~ModalityGenerator() = default;
  virtual const char* modality() const = 0;
  virtual const char* extension() const = 0;  // "png", "wav", "npy", "" (inline text)
  // Called once with the whole plan of this modality before any make() (e.g. to start
  // serial work such as speech synthesis in the background).
  virtual void prepare(const std::vector<PlanItem>& plan) { (void)plan; }
  // Renders class `label` (0–9) of plan item `index` to `path` (absolute; "" for text), with
  // `rng` seeded from the item's seed; a paired item renders `scene`'s geometry (generators
  // without glyph geometry ignore it). Thread-safe.
  virtual GenResult make(int label, int64_t index, data::SuiteRng& rng, const std::string& path,
                         const Scene& scene) const = 0;
  // Relative cost, used only to order work so the progress bar is smooth.
  virtual double cost() const { return 1.0; }
};

// cfg = the modality's section of the suite config; `classes` = the class names.
std::unique_ptr<ModalityGenerator> make_vision_generator(const nlohmann::json& cfg);
std::unique_ptr<ModalityGenerator> make_audio_generator(const nlohmann::json& cfg);
std::unique_ptr<ModalityGenerator> make_text_generator(const nlohmann::json& cfg);
std::unique_ptr<ModalityGenerator> make_imu_generator(const nlohmann::json& cfg);
std::unique_ptr<ModalityGenerator> make_depth_generator(const nlohmann::json& cfg);

// Helpers shared by the generators.
double cfg_lo(const nlohmann::json& range);  // [lo, hi] → lo
double cfg_hi(const nlohmann::json& range);
// The point at fraction u ∈ [0, 1) of a [lo, hi] range (a Scene's unit draw in a generator's range).
inline double cfg_at(const nlohmann::json& range, double u) { return cfg_lo(range) + u * (cfg_hi(range) - cfg_lo(range)); }
// The element at fraction u ∈ [0, 1) of a non-empty pool.
template <class T>
const T& pool_at(const std::vector<T>& pool, double u) {
  return pool[std::min(pool.size() - 1, static_cast<size_t>(u * double(pool.size())))];
}
std::vector<std::string> cfg_strings(const nlohmann::json& cfg, const char* key);
// cfg[key] (default `def` when absent) as an integer in [lo, hi], checked at full width;
// InputError "sensor-suite config: key 'SECTION.KEY': …" otherwise.
int64_t cfg_int(const nlohmann::json& cfg, const char* section, const char* key, int64_t def, int64_t lo, int64_t hi);
double round_to(double v, int digits);  // attrs keep a few decimals so JSON is stable

}  // namespace cb::suite
