// fuzz_zip.cpp — libFuzzer target for the zip central-directory reader: any input must parse
// or throw cb::InputError; crashes, leaks and sanitizer reports are failures.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "io/zip_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cb::ZipIndex z = cb::parse_zip(data, size, "fuzz");
    // Touch the last byte of every entry: it must lie inside the input.
    volatile uint8_t sink = 0;
    for (const auto& e : z.entries)
      if (e.size > 0) sink ^= data[e.data_offset + e.size - 1];
    (void)sink;
  } catch (const cb::InputError&) {
  }
  return 0;
}
