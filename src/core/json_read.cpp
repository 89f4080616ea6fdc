// json_read.cpp — see json_read.h.
#include "core/json_read.h"

#include "core/error.h"

namespace cb {

int64_t json_integer(const nlohmann::json& v, const std::string& where, const std::string& key, int64_t lo,
                     int64_t hi) {
  bool ok = v.is_number_integer();
  int64_t x = 0;
  if (ok && v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    ok = u <= uint64_t(std::numeric_limits<int64_t>::max());
    x = ok ? int64_t(u) : 0;
  } else if (ok) {
    x = v.get<int64_t>();
  }
  if (!ok || x < lo || x > hi) fail_input("{}: key '{}': expected an integer in [{}, {}], found {}", where, key, lo, hi, v.dump());
  return x;
}

uint64_t json_unsigned(const nlohmann::json& v, const std::string& where, const std::string& key) {
  // Parsed text stores non-negative integers as unsigned; a json built in code may hold a
  // signed one.
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return uint64_t(v.get<int64_t>());
  fail_input("{}: key '{}': expected an integer in [0, 18446744073709551615], found {}", where, key, v.dump());
}

}  // namespace cb
