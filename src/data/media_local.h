// media_local.h — TEMPORARY small PNG/WAV writers and readers for the data module, used only
// until io/image_io.h and io/wav.h (branch `pre`) are merged; then these forward to them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cb::data {

// 8-bit RGB (channels=3) or gray (1) PNG, rows top to bottom. Deterministic bytes.
void write_png_u8(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& px);
// Mono 16-bit PCM WAV.
void write_wav_pcm16(const std::string& path, int sample_rate, const std::vector<float>& samples);

struct DecodedImage {
  int width = 0, height = 0, channels = 0, bits = 8;
  std::vector<float> data;  // (height, width, channels), values in [0,1]
};
DecodedImage read_image_any(const std::string& path);  // PNG (8/16-bit) or JPEG

struct DecodedAudio {
  int sample_rate = 0, channels = 0;
  std::vector<float> data;  // (frames, channels) interleaved
};
DecodedAudio read_audio_any(const std::string& path);

}  // namespace cb::data
