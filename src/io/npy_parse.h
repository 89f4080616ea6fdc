// npy_parse.h — torch-free parsing and writing of NumPy `.npy` files (format v1 / v2).
//
// Layout: "\x93NUMPY", major, minor, header length (u16 for v1, u32 for v2/v3), a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (a, b), } padded with spaces
// and '\n', then the raw C-order data. Supported descr: '<f4' '<f8' '<i8' '<i4' '<u1' '|u1'
// ('<i2' '<u2' too). fortran_order True is rejected. Every malformed input ends in
// cb::InputError naming the file; this is what fuzz/fuzz_npy.cpp exercises.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cb {

enum class NpyType { F32, F64, I64, I32, I16, U16, U8 };

const char* npy_descr(NpyType t);  // "<f4" etc.
size_t npy_type_size(NpyType t);

struct NpyHeader {
  NpyType type = NpyType::F32;
  std::vector<int64_t> shape;  // () for a scalar
  uint64_t data_offset = 0;    // byte offset of the data in the file
  uint64_t numel() const;
  uint64_t nbytes() const { return numel() * npy_type_size(type); }
};

// Parses and validates a whole .npy file held in memory: magic, version, header length,
// dict syntax (descr / fortran_order / shape, nothing else), shape sanity (each dim < 2^31,
// total bytes < 2^40), and that the data size equals the bytes after the header.
NpyHeader parse_npy(const uint8_t* data, size_t size, const std::string& file);

// The full header (magic … padding '\n') for writing; v1 unless the dict needs v2.
std::string build_npy_header(NpyType type, const std::vector<int64_t>& shape);

// Convenience: header + raw little-endian data.
std::string build_npy(NpyType type, const std::vector<int64_t>& shape, const void* data, size_t nbytes);

}  // namespace cb
