// fuzz_video.cpp — libFuzzer target for the FFmpeg-backed video reader (io/video_parse.cpp),
// fed from memory: any input must probe/decode or throw cb::InputError; crashes, leaks and
// sanitizer reports (in our wrapper or in FFmpeg as we drive it) are failures.
// Seeds (fuzz/seeds/video): 3-frame FFV1/.mkv, MPEG-4/.mp4 with a 90° display matrix, MJPEG/.avi.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "media/video_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const cb::VideoInfo info = cb::probe_video_memory(data, size, "fuzz");
    // Decode the first and last frame, as the clip sampler would for a short video.
    auto frames = cb::decode_video_frames_memory(data, size, "fuzz", {0, info.frame_count - 1});
    volatile uint8_t sink = frames.empty() || frames.begin()->second.rgb.empty() ? 0 : frames.begin()->second.rgb[0];
    (void)sink;
  } catch (const cb::InputError&) {
  }
  return 0;
}
