// fuzz_index.cpp — libFuzzer target for the code index file parser (index/index_parse.cpp):
// any input must parse or throw cb::InputError; crashes, leaks and sanitizer reports are
// failures. After a successful parse every section and every packed code is touched.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "index/index_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cb::index::IndexLayout L = cb::index::parse_index_file(data, size, "fuzz");
    volatile uint32_t sink = 0;
    for (const auto& s : L.sections)
      if (s.size) sink ^= data[s.offset + s.size - 1];
    const auto* codes = L.find(cb::index::SectionKind::SharedCodes);
    const uint64_t rb = L.shared_code_bytes();
    for (uint64_t i = 0; i < L.header.count; ++i)
      for (uint32_t j = 0; j < L.header.chunks; ++j)
        sink ^= cb::index::read_code(data + codes->offset + i * rb, j, L.header.shared_bits);
    (void)sink;
  } catch (const cb::InputError&) {
  }
  return 0;
}
