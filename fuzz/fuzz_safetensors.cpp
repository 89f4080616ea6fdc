// fuzz_safetensors.cpp — libFuzzer target for the safetensors header parser: any input must
// parse or throw cb::InputError; crashes, leaks and sanitizer reports are failures.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "io/safetensors_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cb::SafetensorsHeader h = cb::parse_safetensors_header(data, size, "fuzz");
    // Touch every tensor range: it must lie inside the input.
    volatile uint8_t sink = 0;
    for (const auto& t : h.tensors)
      if (t.end > t.begin) sink ^= data[h.data_start + t.end - 1];
    (void)sink;
  } catch (const cb::InputError&) {
  }
  return 0;
}
