// json_read.h — the one way codebind reads JSON configs, manifests and metadata.
//
// JsonReader reads the keys of one JSON object into typed fields, names the file and the key
// on every error, and rejects keys nobody asked for. Integers never wrap: nlohmann::json's
// get<int>() truncates a 64-bit (or unsigned) value to 32 bits, so a label of 2^32 + 1 reads
// as 1; every integer read from a config, manifest or metadata goes through json_integer(),
// which checks the value at full width against the range the field allows and names the file
// and key when it does not fit.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "core/modality.h"

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

// Parses a JSON file; InputError "PATH: cannot open …" / "PATH: malformed JSON: …".
nlohmann::json load_json_file(const std::string& path);
// Parses JSON text held in metadata; InputError "WHERE: malformed JSON: …".
nlohmann::json parse_json_text(const std::string& text, const std::string& where);

// Typed reader of one JSON object. Optional reads leave `out` unchanged when the key is absent;
// every read marks the key as known, and reject_unknown() fails on any other key.
// Error messages: "WHERE: key 'PREFIXKEY': …" (PREFIX names the enclosing object, "quantiser.").
class JsonReader {
 public:
  // InputError unless `j` is an object.
  JsonReader(const nlohmann::json& j, std::string where, std::string prefix = "");

  bool has(const char* key) const;
  // Booleans, floating-point numbers and strings (integers go through integer()).
  void get(const char* key, bool& out);
  void get(const char* key, double& out);
  void get(const char* key, std::string& out);
  // A finite number > lo (or >= lo when `inclusive`).
  void positive(const char* key, double& out);
  // An integer in [lo, hi], checked at full width.
  template <typename T>
  void integer(const char* key, T& out, int64_t lo, int64_t hi) {
    seen_.insert(key);
    if (auto it = j_.find(key); it != j_.end()) out = static_cast<T>(json_integer(*it, where_, prefix_ + key, lo, hi));
  }
  void integers(const char* key, std::vector<int>& out, int64_t lo, int64_t hi);
  void seed(const char* key, uint64_t& out);
  void modalities(const char* key, std::vector<Modality>& out);
  // One of `choices` (e.g. lora|headtune|fulltune).
  void choice(const char* key, std::string& out, const std::vector<std::string>& choices);
  // The object under `key` (marked known), or nullptr when absent; InputError if not an object.
  const nlohmann::json* object(const char* key);
  // Marks `key` known without reading it (read elsewhere).
  void skip(const char* key) { seen_.insert(key); }
  void reject_unknown() const;

  // ---- schema reading (external formats with required fields, e.g. the ImageBind
  // architecture schema): nothing is tracked, unknown (descriptive) keys are allowed ----
  // The value under `key`; InputError "missing field" when absent.
  const nlohmann::json& require(const char* key) const;
  int64_t required_integer(const char* key, int64_t lo, int64_t hi) const;
  // A scalar integer (one entry) or an array of integers, each in [lo, hi].
  std::vector<int64_t> required_integers(const char* key, int64_t lo, int64_t hi) const;
  double required_number(const char* key) const;
  std::string required_string(const char* key) const;
  bool flag(const char* key, bool def) const;  // a boolean, `def` when absent or null
  // The object under `key` as a reader whose `where` is where + "." + key.
  JsonReader sub(const char* key) const;
  const nlohmann::json& json() const { return j_; }

  const std::string& where() const { return where_; }
  std::string key_name(const char* key) const { return prefix_ + key; }

 private:
  const nlohmann::json& j_;
  std::string where_, prefix_;
  std::set<std::string> seen_;
};

}  // namespace cb
