// wav.h — PCM WAV reading/writing via libsndfile with torchaudio's scaling conventions
// (docs/imagebind.md §2.4): int16/32768, int24/2^23, int32/2^31,
// (u8-128)/128, float32 as is.
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace cb {

struct Waveform {
  at::Tensor samples;  // (C, n) float32
  int sample_rate = 0;
};

// Sample rates read_wav accepts (anything else is a damaged header).
constexpr int kMinSampleRate = 1000, kMaxSampleRate = 384000;

// InputError naming the file for a missing, truncated, corrupt or non-PCM file, or one whose
// sample rate lies outside kMinSampleRate … kMaxSampleRate.
Waveform read_wav(const std::string& path);

// bits: 8 (unsigned), 16, 24, 32 (signed PCM) or -32 (float32). Values are clamped.
void write_wav(const std::string& path, const Waveform& w, int bits = 16);

}  // namespace cb
