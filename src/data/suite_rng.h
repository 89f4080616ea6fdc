// suite_rng.h — the sensor-suite generator's per-item random generator (SplitMix64 seeding,
// xoshiro256** stream). Every distribution is written out here (not std::*_distribution)
// so the bytes of a generated dataset do not depend on the standard library.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cb::data {

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A 64-bit mix of (seed, a, b) for per-item / per-epoch generators.
inline uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b = 0) {
  uint64_t x = seed;
  uint64_t h = splitmix64(x);
  x = h ^ (a * 0xD1B54A32D192ED03ull);
  h = splitmix64(x);
  x = h ^ (b * 0x8CB92BA72F3D8DD7ull);
  return splitmix64(x);
}

class SuiteRng {
 public:
  explicit SuiteRng(uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  double uniform() { return (next() >> 11) * 0x1.0p-53; }                 // [0, 1)
  double uniform(double a, double b) { return a + (b - a) * uniform(); }  // [a, b)
  int64_t index(int64_t n) { return static_cast<int64_t>(uniform() * n); }
  double normal() {  // Box–Muller
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(index(static_cast<int64_t>(v.size())))];
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace cb::data
