// pickle_parse.h — torch-free interpreter of the pickle subset that `torch.save(state_dict)`
// writes (protocol 2): an OrderedDict or dict mapping names to tensors rebuilt by
// torch._utils._rebuild_tensor_v2 (optionally wrapped in _rebuild_parameter), whose storages
// are persistent ids ('storage', torch.<T>Storage, key, location, numel). The OrderedDict's
// `_metadata` (BUILD state) is accepted and ignored. Anything else — another opcode, another
// global — is an InputError naming the file and byte offset. Memory is bounded by the input
// size (values live in one arena; memo, stack depth and node count are capped), so hostile
// inputs cannot allocate without limit (fuzz/fuzz_pickle.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors_parse.h"  // DType

namespace cb {

struct PickleStorage {
  std::string key;       // entry name under <archive>/data/
  DType dtype = DType::F32;
  uint64_t numel = 0;    // elements in the storage
  std::string location;  // "cpu", "cuda:0", ... (always loaded to CPU)
};

// A strided view of one storage: element (i0, i1, ...) is at
// storage[storage_offset + Σ i_k * strides[k]]. The parser checks that it fits the storage.
struct PickleTensorRef {
  std::string storage_key;
  DType dtype = DType::F32;
  uint64_t storage_offset = 0;  // in elements
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

struct StateDictPickle {
  std::vector<std::pair<std::string, PickleTensorRef>> tensors;  // dict order
  std::map<std::string, PickleStorage> storages;                 // by key
};

// Interprets `data.pkl` bytes; `file` names the source in error messages.
StateDictPickle parse_state_dict_pickle(const uint8_t* data, size_t size, const std::string& file);

}  // namespace cb
