// fuzz_image.cpp — libFuzzer target for the PNG/JPEG decoders (io/image_parse.cpp): any input
// must decode or throw cb::InputError; crashes, leaks and sanitizer reports are failures.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "media/image_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cb::Image img = cb::decode_image_memory(data, size, "fuzz", size % 2 == 0);
    cb::Image rgb = cb::to_rgb8(img);
    volatile uint8_t sink = rgb.pixels.empty() ? 0 : rgb.pixels.back();
    (void)sink;
  } catch (const cb::InputError&) {
  }
  return 0;
}
