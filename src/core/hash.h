// hash.h — FNV-1a 64, the one non-cryptographic fingerprint codebind uses (codebook
// fingerprints of the code index, the frozen-bridge cache's keys). Chain calls with `h`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cb {

inline constexpr uint64_t kFnvOffset = 1469598103934665603ull;

inline uint64_t fnv1a64(const uint8_t* data, size_t n, uint64_t h = kFnvOffset) {
  for (size_t i = 0; i < n; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  return h;
}

inline uint64_t fnv1a64(std::string_view s, uint64_t h = kFnvOffset) {
  return fnv1a64(reinterpret_cast<const uint8_t*>(s.data()), s.size(), h);
}

}  // namespace cb
