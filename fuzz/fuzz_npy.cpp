// fuzz_npy.cpp — libFuzzer target for the .npy parser: any input must parse or throw
// cb::InputError; crashes, leaks and sanitizer reports are failures.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "io/npy_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cb::NpyHeader h = cb::parse_npy(data, size, "fuzz");
    // The data range must lie inside the input.
    volatile uint8_t sink = 0;
    if (h.nbytes() > 0) sink ^= data[h.data_offset + h.nbytes() - 1];
    (void)sink;
  } catch (const cb::InputError&) {
  }
  return 0;
}
