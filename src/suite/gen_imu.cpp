// gen_imu.cpp — sensor-suite imu (the low-resource modality): the digit written with a pen
// that carries a 6-axis IMU. The pen path is a Hershey single-stroke glyph (pen-up travel
// included), traversed at a drawn speed and smoothed like a hand; the accelerometer reads
// acceleration plus gravity, the gyro the pen's turning, both rotated into the device frame
// (a named orientation + jitter), plus white noise and a per-channel bias. 200 Hz,
// `.npy` float32 [6, T]: rows ax, ay, az (m/s²), gx, gy, gz (rad/s).
// attrs: style (Hershey font), speed (m/s), orientation (name), noise (accel sd, m/s²).
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "suite/hershey.h"
#include "suite/suite_gen.h"
#include "io/mapped_file.h"
#include "io/npy_parse.h"

namespace fs = std::filesystem;

namespace cb::suite {

namespace {

struct Vec2 {
  double x, y;
};

class ImuGenerator : public ModalityGenerator {
 public:
  explicit ImuGenerator(const nlohmann::json& cfg) {
    rate_ = static_cast<int>(cfg_int(cfg, "imu", "rate_hz", 200, 1, 10000));
    length_ = static_cast<int>(cfg_int(cfg, "imu", "length", 512, 16, 1000000));
    glyph_height_ = cfg.value("glyph_height_m", 0.04);
    speed_ = cfg.at("speed");
    noise_ = cfg.at("noise");
    bias_sd_ = cfg.value("bias_sd", 0.05);
    jitter_ = cfg.value("orientation_jitter_deg", 5.0);
    smooth_ = cfg.value("smooth_samples", 3.0);
    const std::string dir = cfg.value("hershey_dir", "/usr/share/hershey-fonts");
    for (const auto& s : cfg_strings(cfg, "styles")) {
      auto glyphs = read_hershey((fs::path(dir) / (s + ".jhf")).string());
      CB_CHECK_INPUT(glyphs.size() >= 26, "{}/{}.jhf: not an ASCII-ordered Hershey font ({} glyphs)", dir, s,
                     glyphs.size());
      std::vector<HersheyGlyph> digits(glyphs.begin() + 16, glyphs.begin() + 26);
      for (const auto& g : digits) CB_CHECK_INPUT(!g.strokes.empty(), "{}/{}.jhf: empty digit glyph", dir, s);
      styles_.push_back({s, std::move(digits)});
    }
    CB_CHECK_INPUT(!styles_.empty(), "sensor-suite config: imu.styles is empty");
    for (auto it = cfg.at("orientations").begin(); it != cfg.at("orientations").end(); ++it)
      orientations_.push_back({it.key(), it.value().get<std::vector<double>>()});
    CB_CHECK_INPUT(!orientations_.empty(), "sensor-suite config: imu.orientations is empty");
  }
  const char* modality() const override { return "imu"; }
  const char* extension() const override { return "npy"; }
  double cost() const override { return 0.3; }

  GenResult make(int label, int64_t, data::SuiteRng& rng, const std::string& path, const Scene&) const override {
    const auto& style = rng.pick(styles_);
    const auto& orient = rng.pick(orientations_);
    double speed = rng.uniform(cfg_lo(speed_), cfg_hi(speed_));
    const double noise = rng.uniform(cfg_lo(noise_), cfg_hi(noise_));
    double ang[3];
    for (int i = 0; i < 3; ++i) ang[i] = (orient.second.at(i) + rng.uniform(-jitter_, jitter_)) * M_PI / 180.0;
    // Pen path in metres (x right, y up), strokes joined by straight pen-up moves.
    const HersheyGlyph& g = style.second[static_cast<size_t>(label)];
    const double unit = glyph_height_ / 21.0;
    std::vector<Vec2> poly;
    for (const auto& s : g.strokes)
      for (const auto& p : s) poly.push_back({p.x * unit, -p.y * unit});
    double len = 0;
    for (size_t i = 1; i < poly.size(); ++i) len += std::hypot(poly[i].x - poly[i - 1].x, poly[i].y - poly[i - 1].y);
    const double dt = 1.0 / rate_;
    const int margin = static_cast<int>(4 * smooth_) + 4;
    const int max_n = length_ - 2 * margin;
    if (len / (speed * dt) > max_n) speed = len / (max_n * dt);  // too long for the window: write faster
    // Arc-length resampling at constant speed.
    std::vector<Vec2> pos{poly.front()};
    double want = speed * dt, acc = 0;
    for (size_t i = 1; i < poly.size(); ++i) {
      const double sx = poly[i].x - poly[i - 1].x, sy = poly[i].y - poly[i - 1].y, sl = std::hypot(sx, sy);
      double t = 0;
      while (sl > 0 && acc + (sl - t) >= want) {
        t += want - acc;
        acc = 0;
        pos.push_back({poly[i - 1].x + sx * t / sl, poly[i - 1].y + sy * t / sl});
      }
      acc += sl - t;
    }
    const int n = static_cast<int>(pos.size());
    const int onset = margin + static_cast<int>(rng.index(std::max(1, max_n - n + 1)));
    // Full-length trajectory: rest at the start point, write, rest at the end point.
    std::vector<Vec2> traj(static_cast<size_t>(length_));
    for (int t = 0; t < length_; ++t) traj[t] = pos[std::clamp(t - onset, 0, n - 1)];
    traj = gaussian_smooth(traj, smooth_);
    // Rotation world→device: R = Rz(yaw) Ry(pitch) Rx(roll); sensor reads R^T v.
    const double cr = std::cos(ang[0]), sr = std::sin(ang[0]), cp = std::cos(ang[1]), sp = std::sin(ang[1]),
                 cy = std::cos(ang[2]), sy = std::sin(ang[2]);
    const double R[3][3] = {{cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr},
                            {sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr},
                            {-sp, cp * sr, cp * cr}};
    double bias[6];
    for (double& b : bias) b = bias_sd_ * rng.normal();
    std::vector<float> out(static_cast<size_t>(6) * length_);
    double prev_heading = 0;
    for (int t = 0; t < length_; ++t) {
      const int a = std::max(0, t - 1), b = std::min(length_ - 1, t + 1);
      const double ax = (traj[b].x - 2 * traj[t].x + traj[a].x) / (dt * dt);
      const double ay = (traj[b].y - 2 * traj[t].y + traj[a].y) / (dt * dt);
      const double vx = (traj[b].x - traj[a].x) / (2 * dt), vy = (traj[b].y - traj[a].y) / (2 * dt);
      // Turning rate of the pen (heading change) while it moves; wrist tilt follows acceleration.
      const double v = std::hypot(vx, vy);
      double heading = v > 1e-4 ? std::atan2(vy, vx) : prev_heading;
      double dh = heading - prev_heading;
      while (dh > M_PI) dh -= 2 * M_PI;
      while (dh < -M_PI) dh += 2 * M_PI;
      prev_heading = heading;
      const double f[3] = {ax, ay, 9.81};  // specific force: acceleration minus gravity (0,0,-g)
      const double w[3] = {-0.05 * ay, 0.05 * ax, (v > 1e-4 ? dh / dt : 0.0) * std::min(1.0, v / 0.02) * 0.2};
      for (int r = 0; r < 3; ++r) {
        double fs_ = 0, ws = 0;
        for (int c = 0; c < 3; ++c) fs_ += R[c][r] * f[c], ws += R[c][r] * w[c];
        out[static_cast<size_t>(r) * length_ + t] = static_cast<float>(fs_ + bias[r] + noise * rng.normal());
        out[static_cast<size_t>(r + 3) * length_ + t] =
            static_cast<float>(ws + 0.1 * bias[r + 3] + 0.1 * noise * rng.normal());
      }
    }
    write_file_atomic(path, build_npy(NpyType::F32, {6, length_}, out.data(), out.size() * sizeof(float)));
    GenResult r;
    r.attrs = {{"style", style.first},
               {"speed", round_to(speed, 4)},
               {"orientation", orient.first},
               {"noise", round_to(noise, 4)}};
    return r;
  }

 private:
  static std::vector<Vec2> gaussian_smooth(const std::vector<Vec2>& x, double sigma) {
    if (sigma <= 0) return x;
    const int h = static_cast<int>(std::ceil(3 * sigma)), n = static_cast<int>(x.size());
    std::vector<double> k(static_cast<size_t>(2 * h + 1));
    double z = 0;
    for (int i = -h; i <= h; ++i) z += k[i + h] = std::exp(-0.5 * i * i / (sigma * sigma));
    std::vector<Vec2> y(x.size());
    for (int t = 0; t < n; ++t) {
      double sx = 0, sy = 0;
      for (int i = -h; i <= h; ++i) {
        const Vec2& p = x[std::clamp(t + i, 0, n - 1)];
        sx += k[i + h] * p.x, sy += k[i + h] * p.y;
      }
      y[t] = {sx / z, sy / z};
    }
    return y;
  }

  int rate_, length_;
  double glyph_height_, bias_sd_, jitter_, smooth_;
  nlohmann::json speed_, noise_;
  std::vector<std::pair<std::string, std::vector<HersheyGlyph>>> styles_;
  std::vector<std::pair<std::string, std::vector<double>>> orientations_;
};

}  // namespace

std::unique_ptr<ModalityGenerator> make_imu_generator(const nlohmann::json& cfg) {
  return std::make_unique<ImuGenerator>(cfg);
}

}  // namespace cb::suite
