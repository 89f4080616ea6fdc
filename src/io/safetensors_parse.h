// safetensors_parse.h — torch-free parsing and validation of a safetensors header.
//
// Layout: u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets:[b,e]}, "__metadata__": {str: str}}, then the data
// section (offsets relative to its start). This parser is what the fuzz target exercises:
// every malformed input must end in cb::InputError, never a crash or a huge allocation.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cb {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };

// "F32" → DType::F32 etc.; throws InputError naming `where` on an unknown name.
DType dtype_from_name(const std::string& name, const std::string& where);
const char* dtype_name(DType d);
size_t dtype_size(DType d);

struct TensorEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offsets relative to the data section
  uint64_t end = 0;
  uint64_t numel() const;
};

struct SafetensorsHeader {
  std::vector<TensorEntry> tensors;  // in header (sorted-key) order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute offset of the data section in the file
};

// Parses and validates the header of a safetensors file held in memory.
// Checks: header length within the file, valid JSON object, known dtypes, non-negative shapes
// whose byte size equals end-begin (no overflow), offsets inside the data section, no two
// tensors overlapping. `file` names the source in error messages.
SafetensorsHeader parse_safetensors_header(const uint8_t* data, size_t size, const std::string& file);

// Serialises a header (JSON, padded with spaces to a multiple of 8) + the u64 prefix.
std::string build_safetensors_prefix(const std::vector<TensorEntry>& tensors,
                                     const std::map<std::string, std::string>& metadata);

}  // namespace cb
