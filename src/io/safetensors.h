// safetensors.h — memory-mapped safetensors reading (zero copy where the dtype maps to a
// torch dtype and the offset is aligned) and atomic writing. Weights, checkpoints, codes and
// embeddings all travel in this format; the model config rides in `__metadata__`.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/mapped_file.h"
#include "io/safetensors_parse.h"

namespace cb {

at::ScalarType to_torch_dtype(DType d);
DType from_torch_dtype(at::ScalarType t, const std::string& where);

class SafetensorsFile {
 public:
  // Maps and validates `path`; throws InputError naming the file on any problem.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return file_->path(); }
  std::vector<std::string> keys() const;  // header order
  bool has(const std::string& key) const { return index_.count(key) > 0; }
  const TensorEntry& entry(const std::string& key) const;
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  // Metadata value or `fallback` when absent.
  std::string meta(const std::string& key, const std::string& fallback = "") const;

  // The tensor for `key`. Zero copy (it keeps the mapping alive; writes are copy-on-write
  // private) when the data is aligned for its dtype, else a copy. Throws InputError naming
  // the file and key when absent.
  at::Tensor get(const std::string& key) const;
  // get(key) with a check of the shape; the error names key, expected and found shapes.
  at::Tensor get(const std::string& key, at::IntArrayRef expected_shape) const;

  // Files written by save_safetensors carry a CRC-32 of their data section in the metadata
  // (kChecksumKey). Throws InputError naming the file when it does not match (flipped bits,
  // a partial copy); a file without one (another tool's) passes. Costs one pass over the data.
  void verify_checksum() const;

 private:
  std::shared_ptr<MappedFile> file_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;
};

// Metadata key of the data-section CRC-32 (8 lowercase hex digits) that save_safetensors writes.
inline constexpr const char* kChecksumKey = "codebind.data_crc32";

// Ordered list of named tensors (order is preserved in the file).
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Writes tensors (any device/dtype among the supported ones; made contiguous on CPU) and
// metadata atomically (temp file + rename), plus the data checksum (kChecksumKey). Throws
// InputError on duplicate names.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Loads every tensor of a file into a map (zero copy views).
std::map<std::string, at::Tensor> load_safetensors(const std::string& path);

}  // namespace cb
