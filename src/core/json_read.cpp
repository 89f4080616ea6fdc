// json_read.cpp — see json_read.h.
#include "core/json_read.h"

#include <cmath>
#include <fstream>
#include <sstream>

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

nlohmann::json load_json_file(const std::string& path) {
  std::ifstream f(path);
  CB_CHECK_INPUT(f.good(), "{}: cannot open config file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_json_text(ss.str(), path);
}

nlohmann::json parse_json_text(const std::string& text, const std::string& where) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail_input("{}: malformed JSON: {}", where, e.what());
  }
}

JsonReader::JsonReader(const nlohmann::json& j, std::string where, std::string prefix)
    : j_(j), where_(std::move(where)), prefix_(std::move(prefix)) {
  CB_CHECK_INPUT(j.is_object(), "{}: {}expected a JSON object, found {}", where_,
                 prefix_.empty() ? "" : "key '" + prefix_.substr(0, prefix_.size() - 1) + "': ", j.dump());
}

bool JsonReader::has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

namespace {

// The value under `key` of `j` converted to T when `is_kind` holds; InputError naming the key
// and `kind` otherwise; `out` untouched when the key is absent.
template <class T>
void read_as(const nlohmann::json& j, const char* key, T& out, bool (nlohmann::json::*is_kind)() const noexcept,
             const char* kind, const std::string& where, const std::string& prefix) {
  auto it = j.find(key);
  if (it == j.end()) return;
  CB_CHECK_INPUT(((*it).*is_kind)(), "{}: key '{}{}': expected {} (found {})", where, prefix, key, kind, it->dump());
  out = it->template get<T>();
}

}  // namespace

void JsonReader::get(const char* key, bool& out) {
  seen_.insert(key);
  read_as(j_, key, out, &nlohmann::json::is_boolean, "true/false", where_, prefix_);
}

void JsonReader::get(const char* key, double& out) {
  seen_.insert(key);
  read_as(j_, key, out, &nlohmann::json::is_number, "a number", where_, prefix_);
}

void JsonReader::get(const char* key, std::string& out) {
  seen_.insert(key);
  read_as(j_, key, out, &nlohmann::json::is_string, "a string", where_, prefix_);
}

void JsonReader::positive(const char* key, double& out) {
  get(key, out);
  CB_CHECK_INPUT(std::isfinite(out) && out > 0, "{}: key '{}{}': expected a positive number, found {}", where_,
                 prefix_, key, out);
}

void JsonReader::integers(const char* key, std::vector<int>& out, int64_t lo, int64_t hi) {
  seen_.insert(key);
  auto it = j_.find(key);
  if (it == j_.end()) return;
  CB_CHECK_INPUT(it->is_array(), "{}: key '{}{}': expected an array of integers, found {}", where_, prefix_, key,
                 it->dump());
  out.clear();
  for (const auto& v : *it) out.push_back(static_cast<int>(json_integer(v, where_, prefix_ + key, lo, hi)));
}

void JsonReader::seed(const char* key, uint64_t& out) {
  seen_.insert(key);
  if (auto it = j_.find(key); it != j_.end()) out = json_unsigned(*it, where_, prefix_ + key);
}

void JsonReader::modalities(const char* key, std::vector<Modality>& out) {
  seen_.insert(key);
  auto it = j_.find(key);
  if (it == j_.end()) return;
  CB_CHECK_INPUT(it->is_array(), "{}: key '{}{}': expected an array of modality names", where_, prefix_, key);
  out.clear();
  for (const auto& v : *it) {
    CB_CHECK_INPUT(v.is_string(), "{}: key '{}{}': expected modality names, found {}", where_, prefix_, key, v.dump());
    out.push_back(parse_modality(v.get<std::string>(), where_ + ": key '" + prefix_ + key + "'"));
  }
}

void JsonReader::choice(const char* key, std::string& out, const std::vector<std::string>& choices) {
  get(key, out);
  std::string all;
  for (const auto& c : choices) {
    if (c == out) return;
    all += (all.empty() ? "" : "|") + c;
  }
  fail_input("{}: key '{}{}': expected {}, found '{}'", where_, prefix_, key, all, out);
}

const nlohmann::json* JsonReader::object(const char* key) {
  seen_.insert(key);
  auto it = j_.find(key);
  if (it == j_.end()) return nullptr;
  CB_CHECK_INPUT(it->is_object(), "{}: key '{}{}': expected an object", where_, prefix_, key);
  return &*it;
}

const nlohmann::json& JsonReader::require(const char* key) const {
  CB_CHECK_INPUT(j_.contains(key), "{}: missing field '{}{}'", where_, prefix_, key);
  return j_.at(key);
}

int64_t JsonReader::required_integer(const char* key, int64_t lo, int64_t hi) const {
  return json_integer(require(key), where_, prefix_ + key, lo, hi);
}

std::vector<int64_t> JsonReader::required_integers(const char* key, int64_t lo, int64_t hi) const {
  const auto& v = require(key);
  if (!v.is_array()) return {json_integer(v, where_, prefix_ + key, lo, hi)};
  std::vector<int64_t> out;
  for (const auto& e : v) out.push_back(json_integer(e, where_, prefix_ + key, lo, hi));
  return out;
}

double JsonReader::required_number(const char* key) const {
  const auto& v = require(key);
  CB_CHECK_INPUT(v.is_number(), "{}: field '{}{}' must be a number", where_, prefix_, key);
  return v.get<double>();
}

std::string JsonReader::required_string(const char* key) const {
  const auto& v = require(key);
  CB_CHECK_INPUT(v.is_string(), "{}: field '{}{}' must be a string", where_, prefix_, key);
  return v.get<std::string>();
}

bool JsonReader::flag(const char* key, bool def) const {
  if (!has(key)) return def;
  CB_CHECK_INPUT(j_.at(key).is_boolean(), "{}: field '{}{}' must be true/false", where_, prefix_, key);
  return j_.at(key).get<bool>();
}

JsonReader JsonReader::sub(const char* key) const {
  const auto& v = require(key);
  CB_CHECK_INPUT(v.is_object(), "{}: field '{}{}' must be an object", where_, prefix_, key);
  return JsonReader(v, where_ + "." + key);
}

void JsonReader::reject_unknown() const {
  for (auto it = j_.begin(); it != j_.end(); ++it)
    CB_CHECK_INPUT(seen_.count(it.key()), "{}: unknown key '{}{}'", where_, prefix_, it.key());
}

}  // namespace cb
