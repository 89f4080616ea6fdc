// gen_vision.cpp — sensor-suite vision: a FreeType digit in a colour (hue bin × lightness) on
// a GIMP texture tile, rotated and scaled; 64×64 RGB PNG. A paired item (suite_gen.h Scene)
// takes its font, scale and rotation from the pair's scene.
// attrs: font, hue (bin name), lightness, texture, rotation (deg), scale.
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "suite/gimp_pattern.h"
#include "suite/glyph_raster.h"
#include "data/media_local.h"
#include "suite/suite_gen.h"

namespace fs = std::filesystem;

namespace cb::suite {

namespace {

void hsl_to_rgb(double h, double s, double l, double rgb[3]) {
  const double c = (1 - std::fabs(2 * l - 1)) * s, hp = std::fmod(h, 360.0) / 60.0;
  const double x = c * (1 - std::fabs(std::fmod(hp, 2.0) - 1)), m = l - c / 2;
  double r = 0, g = 0, b = 0;
  if (hp < 1) r = c, g = x;
  else if (hp < 2) r = x, g = c;
  else if (hp < 3) g = c, b = x;
  else if (hp < 4) g = x, b = c;
  else if (hp < 5) r = x, b = c;
  else r = c, b = x;
  rgb[0] = r + m, rgb[1] = g + m, rgb[2] = b + m;
}

class VisionGenerator : public ModalityGenerator {
 public:
  explicit VisionGenerator(const nlohmann::json& cfg) {
    size_ = static_cast<int>(cfg_int(cfg, "vision", "size", 64, 8, 1024));
    fonts_ = discover_fonts(cfg_strings(cfg, "font_dirs"), cfg_strings(cfg, "font_include"),
                            cfg_strings(cfg, "font_exclude"), static_cast<int>(cfg_int(cfg, "vision", "max_fonts", 300, 1, 10000)));
    hue_names_ = cfg_strings(cfg, "hue_bins");
    CB_CHECK_INPUT(!hue_names_.empty(), "sensor-suite config: vision.hue_bins is empty");
    for (const auto& l : cfg.at("lightness")) lightness_.push_back(l.get<double>());
    saturation_ = cfg.value("saturation", 0.85);
    hue_jitter_ = cfg.value("hue_jitter", 0.25);
    rotation_ = cfg.at("rotation");
    scale_ = cfg.at("scale");
    shift_ = cfg.value("shift", 3.0);
    texture_opacity_ = cfg.value("texture_opacity", 0.8);
    // Textures: every .pat under texture_dir (sorted), or the listed stems.
    const auto names = cfg_strings(cfg, "textures");
    std::vector<std::string> files;
    const std::string dir = cfg.value("texture_dir", "/usr/share/gimp/2.0/patterns");
    if (fs::is_directory(dir))
      for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".pat") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const std::string stem = fs::path(f).stem().string();
      if (!names.empty() && std::find(names.begin(), names.end(), stem) == names.end()) continue;
      try {
        Pattern p = read_gimp_pattern(f);
        if (p.width >= 8 && p.height >= 8) textures_.push_back(std::move(p));
      } catch (const InputError&) {
      }
    }
    CB_CHECK_INPUT(!textures_.empty(), "sensor-suite: no GIMP textures found in {}", dir);
  }
  const char* modality() const override { return "vision"; }
  const char* extension() const override { return "png"; }
  const std::vector<FontEntry>& fonts() const { return fonts_; }

  GenResult make(int label, int64_t, data::SuiteRng& rng, const std::string& path, const Scene& scene) const override {
    const FontEntry* font = &rng.pick(fonts_);
    const int hb = static_cast<int>(rng.index(static_cast<int64_t>(hue_names_.size())));
    const double hue = (hb + 0.5 + rng.uniform(-hue_jitter_, hue_jitter_)) * 360.0 / hue_names_.size();
    const double light = rng.pick(lightness_);
    const Pattern& tex = rng.pick(textures_);
    double rot = rng.uniform(cfg_lo(rotation_), cfg_hi(rotation_));
    double scale = rng.uniform(cfg_lo(scale_), cfg_hi(scale_));
    if (scene.on) {  // the pair's geometry (the item's own draws above keep the rng sequence)
      font = &pool_at(fonts_, scene.font);
      rot = cfg_at(rotation_, scene.rotation);
      scale = cfg_at(scale_, scene.scale);
    }
    const double dx = rng.uniform(-shift_, shift_), dy = rng.uniform(-shift_, shift_);
    const int ox = static_cast<int>(rng.index(tex.width)), oy = static_cast<int>(rng.index(tex.height));
    const std::vector<float> cov = render_glyph(*font, static_cast<char>('0' + label), size_, scale, rot, dx, dy);
    double fg[3];
    hsl_to_rgb(hue, saturation_, light, fg);
    std::vector<uint8_t> px(static_cast<size_t>(size_) * size_ * 3);
    for (int y = 0; y < size_; ++y)
      for (int x = 0; x < size_; ++x) {
        const uint8_t* t = &tex.rgb[(static_cast<size_t>((y + oy) % tex.height) * tex.width + (x + ox) % tex.width) * 3];
        const float a = cov[static_cast<size_t>(y) * size_ + x];
        for (int c = 0; c < 3; ++c) {
          const double bg = texture_opacity_ * t[c] / 255.0 + (1 - texture_opacity_) * 0.5;
          const double v = a * fg[c] + (1 - a) * bg;
          px[(static_cast<size_t>(y) * size_ + x) * 3 + c] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255));
        }
      }
    data::write_png_u8(path, size_, size_, 3, px);
    GenResult r;
    r.attrs = {{"font", font->name},       {"hue", hue_names_[hb]},         {"lightness", light},
               {"texture", tex.name},     {"rotation", round_to(rot, 2)}, {"scale", round_to(scale, 3)}};
    return r;
  }

 private:
  int size_;
  std::vector<FontEntry> fonts_;
  std::vector<std::string> hue_names_;
  std::vector<double> lightness_;
  double saturation_, hue_jitter_, shift_, texture_opacity_;
  nlohmann::json rotation_, scale_;
  std::vector<Pattern> textures_;
};

}  // namespace

std::unique_ptr<ModalityGenerator> make_vision_generator(const nlohmann::json& cfg) {
  return std::make_unique<VisionGenerator>(cfg);
}

}  // namespace cb::suite
