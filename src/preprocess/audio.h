// audio.h — ImageBind's audio pipeline (docs/imagebind.md §2.4–§2.6): torchaudio-style
// resampling, Kaldi fbank, the constant-clips sampler with its in-place mean-subtraction quirk,
// padding/cropping to 204 frames and AudioSet normalisation.
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <string>
#include <vector>

#include "media/wav.h"

namespace cb {

// torchaudio.functional.resample defaults (sinc_interp_hann, lowpass_filter_width 6,
// rolloff 0.99). (C, n) float32 → (C, ceil(n*to/from)).
at::Tensor resample(const at::Tensor& wave, int from, int to);

struct FbankOptions {
  int num_mel_bins = 128;
  double frame_length_ms = 25.0;
  double frame_shift_ms = 10.0;
  double low_freq = 20.0;
  double high_freq = 0.0;  // <= 0: Nyquist + high_freq
  double preemphasis = 0.97;
  bool remove_dc_offset = true;
};

// Kaldi fbank as torchaudio.compliance.kaldi.fbank with ImageBind's settings (hanning window,
// no dither, power spectrum, snip_edges, no energy). (n,) float32 → (frames, num_mel_bins).
at::Tensor kaldi_fbank(const at::Tensor& wave1d, int sample_rate, const FbankOptions& opt = {});
// The (257, num_mel_bins)-style Kaldi mel bank, float32 (padded_fft/2 + 1, bins).
at::Tensor kaldi_mel_banks(int num_mel_bins, int padded_window, double sample_rate,
                           double low_freq, double high_freq);

struct AudioClipConfig {
  int sample_rate = 16000;
  double clip_duration = 2;
  int clips_per_video = 3;
  int num_mel_bins = 128;
  int target_len = 204;
  float mean = -4.268f;
  float std = 9.138f;
};

// [int(start*sr), int(end*sr)] per clip from ConstantClipsPerVideoSampler with exact
// rational arithmetic (end not clamped). duration = num_samples / sr.
std::vector<std::array<int64_t, 2>> clip_bounds(int64_t num_samples, const AudioClipConfig& cfg);

// Intermediates for parity checks (optional outputs of audio_clips).
struct AudioClipTrace {
  at::Tensor waveform;                 // (C, n) at cfg.sample_rate, before in-place changes
  std::vector<std::array<int64_t, 2>> bounds;
  std::vector<float> clip_mean;        // subtracted in place, in clip order
  std::vector<at::Tensor> fbank;       // per clip (frames, bins)
};

// (S, 1, num_mel_bins, target_len) float32 from a waveform at any rate.
at::Tensor audio_clips(const Waveform& w, const AudioClipConfig& cfg = {},
                       AudioClipTrace* trace = nullptr);

// read_wav + audio_clips.
at::Tensor load_and_transform_audio(const std::string& path, const AudioClipConfig& cfg = {});

}  // namespace cb
