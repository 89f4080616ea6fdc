// fuzz_pickle.cpp — libFuzzer target for the state_dict pickle interpreter: any input must
// parse or throw cb::InputError; crashes, leaks, huge allocations and sanitizer reports are
// failures. Every returned view must lie inside its storage (checked here again).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "io/pickle_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cb::StateDictPickle p = cb::parse_state_dict_pickle(data, size, "fuzz");
    for (const auto& [key, r] : p.tensors) {
      const cb::PickleStorage& st = p.storages.at(r.storage_key);
      if (r.sizes.size() != r.strides.size()) std::abort();
      unsigned __int128 last = r.storage_offset;
      bool empty = false;
      for (size_t k = 0; k < r.sizes.size(); ++k) {
        if (r.sizes[k] == 0) empty = true;
        else last += (unsigned __int128)(r.sizes[k] - 1) * (unsigned __int128)r.strides[k];
      }
      if (!empty && last >= st.numel) std::abort();
    }
  } catch (const cb::InputError&) {
  }
  return 0;
}
