// npy.cpp — see npy.h.
#include "io/npy.h"

#include <cstring>

#include "core/error.h"
#include "io/mapped_file.h"

namespace cb {

at::Tensor parse_npy_tensor(const uint8_t* data, size_t size, const std::string& file) {
  NpyHeader h = parse_npy(data, size, file);
  at::ScalarType st;
  switch (h.type) {
    case NpyType::F32: st = at::kFloat; break;
    case NpyType::F64: st = at::kDouble; break;
    case NpyType::I64: st = at::kLong; break;
    case NpyType::I32: st = at::kInt; break;
    case NpyType::I16: st = at::kShort; break;
    case NpyType::U16: st = at::kShort; break;  // read raw, widened below
    case NpyType::U8: st = at::kByte; break;
    default: fail_input("{}: unsupported .npy dtype", file);
  }
  at::Tensor t = at::empty(h.shape, at::TensorOptions().dtype(st));
  if (h.nbytes() > 0) std::memcpy(t.data_ptr(), data + h.data_offset, h.nbytes());
  if (h.type == NpyType::U16) t = t.to(at::kInt).bitwise_and(0xffff);
  return t;
}

at::Tensor read_npy(const std::string& path) {
  auto f = MappedFile::open(path);
  return parse_npy_tensor(f->data(), f->size(), path);
}

std::string npy_bytes(const at::Tensor& t_in) {
  at::Tensor t = t_in.contiguous().cpu();
  NpyType type;
  switch (t.scalar_type()) {
    case at::kFloat: type = NpyType::F32; break;
    case at::kDouble: type = NpyType::F64; break;
    case at::kLong: type = NpyType::I64; break;
    case at::kInt: type = NpyType::I32; break;
    case at::kShort: type = NpyType::I16; break;
    case at::kByte: type = NpyType::U8; break;
    default: fail_input("write_npy: unsupported tensor dtype {}", c10::toString(t.scalar_type()));
  }
  std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
  return build_npy(type, shape, t.data_ptr(), t.numel() * t.element_size());
}

void write_npy(const std::string& path, const at::Tensor& t) { write_file_atomic(path, npy_bytes(t)); }

}  // namespace cb
