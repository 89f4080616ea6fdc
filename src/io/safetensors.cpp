// safetensors.cpp — see safetensors.h.
#include "io/safetensors.h"

#include <zlib.h>

#include <cstring>
#include <set>

#include "core/error.h"

namespace cb {

at::ScalarType to_torch_dtype(DType d) {
  switch (d) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::F64: return at::kDouble;
    case DType::I64: return at::kLong;
    case DType::I32: return at::kInt;
    case DType::I16: return at::kShort;
    case DType::I8: return at::kChar;
    case DType::U8: return at::kByte;
    case DType::BOOL: return at::kBool;
  }
  fail_internal("unhandled dtype");
}

DType from_torch_dtype(at::ScalarType t, const std::string& where) {
  switch (t) {
    case at::kFloat: return DType::F32;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kDouble: return DType::F64;
    case at::kLong: return DType::I64;
    case at::kInt: return DType::I32;
    case at::kShort: return DType::I16;
    case at::kChar: return DType::I8;
    case at::kByte: return DType::U8;
    case at::kBool: return DType::BOOL;
    default: fail_input("{}: dtype {} cannot be stored in safetensors", where, c10::toString(t));
  }
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(MappedFile::open(path)) {
  header_ = parse_safetensors_header(file_->data(), file_->size(), path);
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

std::vector<std::string> SafetensorsFile::keys() const {
  std::vector<std::string> k;
  for (const auto& t : header_.tensors) k.push_back(t.name);
  return k;
}

const TensorEntry& SafetensorsFile::entry(const std::string& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) fail_input("{}: missing tensor '{}'", path(), key);
  return header_.tensors[it->second];
}

std::string SafetensorsFile::meta(const std::string& key, const std::string& fallback) const {
  auto it = header_.metadata.find(key);
  return it == header_.metadata.end() ? fallback : it->second;
}

at::Tensor SafetensorsFile::get(const std::string& key) const {
  const TensorEntry& e = entry(key);
  auto dtype = to_torch_dtype(e.dtype);
  uint8_t* ptr = file_->mutable_data() + header_.data_start + e.begin;
  auto opts = at::TensorOptions().dtype(dtype);
  if (e.numel() == 0) return at::empty(e.shape, opts);
  size_t align = dtype_size(e.dtype);
  if (reinterpret_cast<uintptr_t>(ptr) % align == 0) {
    auto keep = new std::shared_ptr<MappedFile>(file_);
    return at::from_blob(ptr, e.shape, [keep](void*) { delete keep; }, opts);
  }
  at::Tensor t = at::empty(e.shape, opts);
  std::memcpy(t.data_ptr(), ptr, e.end - e.begin);
  return t;
}

at::Tensor SafetensorsFile::get(const std::string& key, at::IntArrayRef expected_shape) const {
  at::Tensor t = get(key);
  if (t.sizes() != expected_shape)
    fail_input("{}: tensor '{}' has shape {} but {} was expected", path(), key,
               c10::str(t.sizes()), c10::str(expected_shape));
  return t;
}

void SafetensorsFile::verify_checksum() const {
  const std::string want = meta(kChecksumKey);
  if (want.empty()) return;
  uint64_t end = header_.data_start;
  for (const TensorEntry& e : header_.tensors) end = std::max(end, header_.data_start + e.end);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32_z(crc, file_->data() + header_.data_start, end - header_.data_start);
  const std::string got = fmt::format("{:08x}", crc);
  CB_CHECK_INPUT(got == want, "{}: data checksum {} does not match the {} recorded when it was written: the file is "
                 "damaged (flipped bits or a partial copy)", path(), got, want);
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<TensorEntry> entries;
  std::vector<at::Tensor> cpu;
  std::set<std::string> seen;
  // Order data by element size (8, 4, 2, 1 bytes) so every offset is aligned.
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tensors[a].second.element_size() > tensors[b].second.element_size();
  });
  uint64_t off = 0;
  entries.resize(tensors.size());
  cpu.resize(tensors.size());
  for (size_t i : order) {
    const auto& [name, t] = tensors[i];
    if (!seen.insert(name).second) fail_input("{}: duplicate tensor name '{}'", path, name);
    cpu[i] = t.detach().to(at::kCPU).contiguous();
    TensorEntry e;
    e.name = name;
    e.dtype = from_torch_dtype(cpu[i].scalar_type(), path + ": tensor '" + name + "'");
    e.shape.assign(cpu[i].sizes().begin(), cpu[i].sizes().end());
    e.begin = off;
    e.end = off + cpu[i].numel() * cpu[i].element_size();
    off = e.end;
    entries[i] = std::move(e);
  }
  // CRC-32 of the data section, tensors in offset order.
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t i : order)
    if (entries[i].end > entries[i].begin)
      crc = crc32_z(crc, static_cast<const Bytef*>(cpu[i].data_ptr()), entries[i].end - entries[i].begin);
  std::map<std::string, std::string> meta = metadata;
  meta[kChecksumKey] = fmt::format("{:08x}", crc);
  // Streamed: header, then each tensor's bytes in offset order (never the whole file in memory).
  const std::string prefix = build_safetensors_prefix(entries, meta);
  AtomicFileWriter w(path);
  w.write(prefix.data(), prefix.size());
  for (size_t i : order)
    if (entries[i].end > entries[i].begin) w.write(cpu[i].data_ptr(), entries[i].end - entries[i].begin);
  w.commit();
}

std::map<std::string, at::Tensor> load_safetensors(const std::string& path) {
  SafetensorsFile f(path);
  std::map<std::string, at::Tensor> out;
  for (const auto& k : f.keys()) out[k] = f.get(k);
  return out;
}

}  // namespace cb
