// pth.cpp — see pth.h.
#include "io/pth.h"

#include <cstring>

#include "core/error.h"
#include "io/safetensors.h"  // to_torch_dtype

namespace cb {

bool is_legacy_torch_save(const uint8_t* data, size_t size) {
  // PROTO 2, LONG1 of 10 bytes holding the magic number 0x1950a86a20f9469cfc6c.
  static const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  return size >= sizeof(magic) && std::memcmp(data, magic, sizeof(magic)) == 0;
}

PthFile::PthFile(const std::string& path) : file_(MappedFile::open(path)) {
  const uint8_t* data = file_->data();
  size_t size = file_->size();
  CB_CHECK_INPUT(!is_legacy_torch_save(data, size),
                 "{}: legacy (non-zip) torch.save format is not supported; re-save it with torch >= 1.6", path);
  ZipIndex zip = parse_zip(data, size, path);
  // The archive folder is whatever precedes "/data.pkl" (torch uses the file's stem).
  std::string prefix;
  const ZipEntry* pkl = nullptr;
  for (const auto& e : zip.entries) {
    size_t slash = e.name.find('/');
    if (slash != std::string::npos && e.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      CB_CHECK_INPUT(pkl == nullptr, "{}: more than one data.pkl in the archive", path);
      pkl = &e;
      prefix = e.name.substr(0, slash + 1);
    }
  }
  CB_CHECK_INPUT(pkl != nullptr, "{}: no <archive>/data.pkl entry; not a torch.save checkpoint", path);
  if (const ZipEntry* bo = zip.find(prefix + "byteorder")) {
    std::string order(reinterpret_cast<const char*>(data + bo->data_offset), bo->size);
    CB_CHECK_INPUT(order == "little", "{}: byte order '{}' is not supported (only little-endian)", path, order);
  }
  pickle_ = parse_state_dict_pickle(data + pkl->data_offset, pkl->size, path);
  for (const auto& [key, st] : pickle_.storages) {
    std::string name = prefix + "data/" + key;
    const ZipEntry* e = zip.find(name);
    CB_CHECK_INPUT(e != nullptr, "{}: storage entry '{}' is missing from the archive", path, name);
    uint64_t need = st.numel * dtype_size(st.dtype);  // bounded by pickle_parse (< 2^60)
    CB_CHECK_INPUT(e->size >= need, "{}: storage entry '{}' has {} bytes, {} needed for {} {} elements", path, name,
                   e->size, need, st.numel, dtype_name(st.dtype));
    storage_offset_[key] = e->data_offset;
  }
  for (size_t i = 0; i < pickle_.tensors.size(); ++i) index_[pickle_.tensors[i].first] = i;
}

std::vector<std::string> PthFile::keys() const {
  std::vector<std::string> k;
  k.reserve(pickle_.tensors.size());
  for (const auto& t : pickle_.tensors) k.push_back(t.first);
  return k;
}

const PickleTensorRef& PthFile::ref(const std::string& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) fail_input("{}: missing tensor '{}'", path(), key);
  return pickle_.tensors[it->second].second;
}

at::Tensor PthFile::get(const std::string& key) const {
  const PickleTensorRef& r = ref(key);
  auto opts = at::TensorOptions().dtype(to_torch_dtype(r.dtype));
  size_t esize = dtype_size(r.dtype);
  uint8_t* base = file_->mutable_data() + storage_offset_.at(r.storage_key);
  uint8_t* ptr = base + r.storage_offset * esize;
  int64_t numel = 1;
  for (int64_t s : r.sizes) numel *= s;
  if (numel == 0) return at::empty(r.sizes, opts);
  if (reinterpret_cast<uintptr_t>(ptr) % esize == 0) {
    auto keep = new std::shared_ptr<MappedFile>(file_);
    return at::from_blob(ptr, r.sizes, r.strides, [keep](void*) { delete keep; }, opts);
  }
  // Unaligned storage (never written by torch, which aligns records to 64 bytes): copy the
  // view's extent into aligned memory, then take the same strided view of it.
  int64_t extent = 1;
  for (size_t k = 0; k < r.sizes.size(); ++k) extent += (r.sizes[k] - 1) * r.strides[k];
  at::Tensor buf = at::empty({extent}, opts);
  std::memcpy(buf.data_ptr(), ptr, size_t(extent) * esize);
  return buf.as_strided(r.sizes, r.strides);
}

}  // namespace cb
