// json_read.h — reading numbers out of JSON without silent wrap-around. nlohmann::json's
// get<int>() truncates a 64-bit (or unsigned) value to 32 bits, so a label of 2^32 + 1 reads
// as 1; every integer read from a config, manifest or metadata goes through json_integer(),
// which checks the value at full width against the range the field allows and names the file
// and key when it does not fit.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace cb {

// v as an integer in [lo, hi]; otherwise InputError "WHERE: key 'KEY': expected an integer in
// [lo, hi], found V" (V as written in the file, so 4294967297 is reported as such).
int64_t json_integer(const nlohmann::json& v, const std::string& where, const std::string& key, int64_t lo,
                     int64_t hi);

// Same for an unsigned field (seeds): [0, 2^64 − 1].
uint64_t json_unsigned(const nlohmann::json& v, const std::string& where, const std::string& key);

// The full range of an integer type T, as the [lo, hi] for json_integer.
template <typename T>
constexpr int64_t range_lo() {
  return int64_t(std::numeric_limits<T>::min());
}
template <typename T>
constexpr int64_t range_hi() {
  return std::numeric_limits<T>::max() > uint64_t(std::numeric_limits<int64_t>::max())
             ? std::numeric_limits<int64_t>::max()
             : int64_t(std::numeric_limits<T>::max());
}

}  // namespace cb
