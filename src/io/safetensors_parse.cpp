// safetensors_parse.cpp — see safetensors_parse.h. No torch here (fuzzed on its own).
#include "io/safetensors_parse.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace cb {

namespace {
struct DTypeInfo {
  DType d;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::F64, "F64", 8}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2}, {DType::I8, "I8", 1},   {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1}};
constexpr uint64_t kMaxHeader = 100ull << 20;  // 100 MiB of JSON is already absurd
}  // namespace

DType dtype_from_name(const std::string& name, const std::string& where) {
  for (const auto& i : kDTypes)
    if (name == i.name) return i.d;
  fail_input("{}: unknown dtype '{}' (expected F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL)",
             where, name);
}

const char* dtype_name(DType d) {
  for (const auto& i : kDTypes)
    if (i.d == d) return i.name;
  return "?";
}

size_t dtype_size(DType d) {
  for (const auto& i : kDTypes)
    if (i.d == d) return i.size;
  return 0;
}

uint64_t TensorEntry::numel() const {
  uint64_t n = 1;
  for (int64_t s : shape) n *= static_cast<uint64_t>(s);
  return n;
}

SafetensorsHeader parse_safetensors_header(const uint8_t* data, size_t size, const std::string& file) {
  if (size < 8) fail_input("{}: truncated safetensors file: {} bytes, need at least 8", file, size);
  uint64_t hlen = 0;
  std::memcpy(&hlen, data, 8);  // little-endian host (x86-64 / aarch64)
  if (hlen > kMaxHeader)
    fail_input("{}: safetensors header length {} is absurd (limit {})", file, hlen, kMaxHeader);
  if (hlen > size - 8)
    fail_input("{}: safetensors header length {} runs past the end of the file ({} bytes)", file, hlen, size);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data + 8, data + 8 + hlen);
  } catch (const std::exception& e) {
    fail_input("{}: safetensors header is not valid JSON: {}", file, e.what());
  }
  if (!j.is_object()) fail_input("{}: safetensors header is not a JSON object", file);

  SafetensorsHeader h;
  h.data_start = 8 + hlen;
  const uint64_t data_size = size - h.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) fail_input("{}: __metadata__ is not an object", file);
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          fail_input("{}: __metadata__ entry '{}' is not a string", file, m.key());
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = file + ": tensor '" + key + "'";
    if (!v.is_object()) fail_input("{}: entry is not an object", where);
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail_input("{}: missing string 'dtype'", where);
    if (!v.contains("shape") || !v["shape"].is_array()) fail_input("{}: missing array 'shape'", where);
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      fail_input("{}: 'data_offsets' must be [begin, end]", where);
    TensorEntry t;
    t.name = key;
    t.dtype = dtype_from_name(v["dtype"].get<std::string>(), where);
    uint64_t bytes = dtype_size(t.dtype);
    for (const auto& s : v["shape"]) {
      if (!s.is_number_integer() || s.get<int64_t>() < 0)
        fail_input("{}: shape entries must be non-negative integers", where);
      int64_t d = s.get<int64_t>();
      t.shape.push_back(d);
      if (d != 0 && bytes > (uint64_t(1) << 62) / static_cast<uint64_t>(d))
        fail_input("{}: shape {} overflows", where, v["shape"].dump());
      bytes *= static_cast<uint64_t>(d);
    }
    for (const auto& o : v["data_offsets"])
      if (!o.is_number_unsigned()) fail_input("{}: data_offsets must be non-negative integers", where);
    t.begin = v["data_offsets"][0].get<uint64_t>();
    t.end = v["data_offsets"][1].get<uint64_t>();
    if (t.end < t.begin) fail_input("{}: data_offsets end {} < begin {}", where, t.end, t.begin);
    if (t.end > data_size)
      fail_input("{}: data_offsets [{}, {}] outside the data section ({} bytes; file truncated?)", where,
                 t.begin, t.end, data_size);
    if (t.end - t.begin != bytes)
      fail_input("{}: {} bytes for dtype {} shape {} but data_offsets span {} bytes", where, bytes,
                 dtype_name(t.dtype), v["shape"].dump(), t.end - t.begin);
    h.tensors.push_back(std::move(t));
  }
  // Overlap check on sorted offsets.
  std::vector<const TensorEntry*> by_off;
  for (const auto& t : h.tensors) by_off.push_back(&t);
  std::sort(by_off.begin(), by_off.end(),
            [](const TensorEntry* a, const TensorEntry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_off.size(); ++i) {
    if (by_off[i]->begin < by_off[i - 1]->end && by_off[i]->end > by_off[i]->begin)
      fail_input("{}: tensors '{}' and '{}' overlap in the data section", file, by_off[i - 1]->name,
                 by_off[i]->name);
  }
  return h;
}

std::string build_safetensors_prefix(const std::vector<TensorEntry>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    j["__metadata__"] = m;
  }
  for (const auto& t : tensors) {
    j[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
  }
  std::string h = j.dump();
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');
  uint64_t n = h.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + h;
}

}  // namespace cb
