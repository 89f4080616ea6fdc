// gen_depth.cpp — sensor-suite depth: an extruded digit (FreeType glyph from the vision font
// pool, blurred edges) standing `relief` metres out of a plane at `distance` metres, the plane
// tilted by `tilt` degrees about the horizontal axis; stored as a disparity map (1/z in 1/m)
// with small sensor noise. `.npy` float32 [H, W]. A paired item (suite_gen.h Scene) extrudes
// the glyph its vision partner shows: the same font, relative scale and rotation.
// attrs: distance (m), tilt (deg), relief (m), font.
#include <cmath>

#include "core/error.h"
#include "suite/glyph_raster.h"
#include "suite/suite_gen.h"
#include "io/mapped_file.h"
#include "io/npy_parse.h"

namespace cb::suite {

namespace {

class DepthGenerator : public ModalityGenerator {
 public:
  DepthGenerator(const nlohmann::json& cfg, const nlohmann::json& vision_cfg) {
    size_ = static_cast<int>(cfg_int(cfg, "depth", "size", 64, 8, 1024));
    fonts_ = discover_fonts(cfg_strings(vision_cfg, "font_dirs"), cfg_strings(vision_cfg, "font_include"),
                            cfg_strings(vision_cfg, "font_exclude"), static_cast<int>(cfg_int(cfg, "depth", "max_fonts", 60, 1, 10000)));
    // A paired item renders the vision item's font: the vision pool, discovered the same way.
    scene_fonts_ = discover_fonts(cfg_strings(vision_cfg, "font_dirs"), cfg_strings(vision_cfg, "font_include"),
                                  cfg_strings(vision_cfg, "font_exclude"),
                                  static_cast<int>(cfg_int(vision_cfg, "vision", "max_fonts", 300, 1, 10000)));
    distance_ = cfg.at("distance");
    tilt_ = cfg.at("tilt");
    relief_ = cfg.at("relief");
    scale_ = cfg.value("scale", nlohmann::json::array({0.6, 0.85}));
    rotation_ = cfg.value("rotation", nlohmann::json::array({-10, 10}));
    noise_ = cfg.value("noise", 0.002);
    fov_ = cfg.value("fov_deg", 50.0);
  }
  const char* modality() const override { return "depth"; }
  const char* extension() const override { return "npy"; }

  GenResult make(int label, int64_t, data::SuiteRng& rng, const std::string& path, const Scene& scene) const override {
    const FontEntry* font = &rng.pick(fonts_);
    const double dist = rng.uniform(cfg_lo(distance_), cfg_hi(distance_));
    const double tilt = rng.uniform(cfg_lo(tilt_), cfg_hi(tilt_));
    const double relief = rng.uniform(cfg_lo(relief_), cfg_hi(relief_));
    double scale = rng.uniform(cfg_lo(scale_), cfg_hi(scale_));
    double rot = rng.uniform(cfg_lo(rotation_), cfg_hi(rotation_));
    if (scene.on) {  // the pair's glyph: the vision item's font, the same relative scale and rotation
      font = &pool_at(scene_fonts_, scene.font);
      scale = cfg_at(scale_, scene.scale);
      rot = cfg_at(rotation_, scene.rotation);
    }
    std::vector<float> cov = render_glyph(*font, static_cast<char>('0' + label), size_, scale, rot);
    // Soften the extrusion edge (3x3 box blur) so the relief has slopes, not only steps.
    std::vector<float> soft(cov.size(), 0.f);
    for (int y = 0; y < size_; ++y)
      for (int x = 0; x < size_; ++x) {
        float s = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx)
            s += cov[static_cast<size_t>(std::clamp(y + dy, 0, size_ - 1)) * size_ + std::clamp(x + dx, 0, size_ - 1)];
        soft[static_cast<size_t>(y) * size_ + x] = s / 9.f;
      }
    const double half = std::tan(fov_ * M_PI / 360.0), t = std::tan(tilt * M_PI / 180.0);
    std::vector<float> disp(cov.size());
    for (int y = 0; y < size_; ++y) {
      // Ray direction (vertical component) through pixel row y; plane z = dist + t * Y.
      const double ry = (0.5 - (y + 0.5) / size_) * 2 * half;
      const double zp = dist / (1 - t * ry);  // intersection of the ray with the tilted plane
      for (int x = 0; x < size_; ++x) {
        const double z = std::max(0.05, zp - relief * soft[static_cast<size_t>(y) * size_ + x]);
        disp[static_cast<size_t>(y) * size_ + x] = static_cast<float>(1.0 / z + noise_ * rng.normal());
      }
    }
    write_file_atomic(path, build_npy(NpyType::F32, {size_, size_}, disp.data(), disp.size() * sizeof(float)));
    GenResult r;
    r.attrs = {{"distance", round_to(dist, 3)}, {"tilt", round_to(tilt, 2)}, {"relief", round_to(relief, 4)},
               {"font", font->name}};
    return r;
  }

 private:
  int size_;
  std::vector<FontEntry> fonts_, scene_fonts_;
  nlohmann::json distance_, tilt_, relief_, scale_, rotation_;
  double noise_, fov_;
};

}  // namespace

std::unique_ptr<ModalityGenerator> make_depth_generator(const nlohmann::json& cfg) {
  return std::make_unique<DepthGenerator>(cfg, cfg.at("_vision"));
}

}  // namespace cb::suite
