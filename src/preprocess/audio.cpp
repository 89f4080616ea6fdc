// audio.cpp — torchaudio-compatible resampling and Kaldi fbank, and ImageBind's audio clip
// pipeline (docs/imagebind.md §2.4–§2.6). The tensor operations follow the reference's
// order and dtypes (float32 throughout) so the same libtorch build reproduces it closely.
#include "preprocess/audio.h"

#include <cmath>
#include <numeric>

#include "core/error.h"

namespace cb {

// ---------------------------------------------------------------- resample (§2.5)
at::Tensor resample(const at::Tensor& wave_in, int from, int to) {
  CB_CHECK_INPUT(from > 0 && to > 0, "resample: bad rates {} → {}", from, to);
  CB_CHECK_INPUT(wave_in.dim() >= 1, "resample: expected (..., n) waveform");
  if (from == to) return wave_in.clone();
  const int g = std::gcd(from, to);
  const int64_t o = from / g, n = to / g;
  const double width_f = 6.0;
  double base = double(std::min(o, n)) * 0.99;
  const int64_t width = int64_t(std::ceil(width_f * double(o) / base));
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  // (n, 1, 2*width + o) kernels, float32 as torchaudio builds them for a float32 waveform.
  at::Tensor idx = at::arange(-width, width + o, f32).view({1, 1, -1}) / double(o);
  at::Tensor t = at::arange(0, -n, -1, f32).view({-1, 1, 1}) / double(n) + idx;
  t = t * base;
  t = t.clamp(-width_f, width_f);
  at::Tensor window = at::cos(t * M_PI / width_f / 2).pow(2);
  t = t * M_PI;
  double scale = base / double(o);
  at::Tensor kernels = at::where(t == 0, at::ones({}, f32), t.sin() / t);
  kernels = kernels * (window * scale);

  at::Tensor w = wave_in.to(at::kFloat).contiguous();
  auto shape = w.sizes().vec();
  const int64_t len = shape.back();
  w = w.reshape({-1, len});
  w = at::constant_pad_nd(w, {width, width + o}, 0);
  at::Tensor y = at::conv1d(w.unsqueeze(1), kernels, {}, {o});  // (B, n, frames)
  y = y.transpose(1, 2).reshape({w.size(0), -1});
  const int64_t target = (n * len + o - 1) / o;  // ceil(n * len / o)
  y = y.narrow(1, 0, std::min<int64_t>(target, y.size(1))).contiguous();
  shape.back() = y.size(1);
  return y.reshape(shape);
}

// ---------------------------------------------------------------- fbank (§2.6)
at::Tensor kaldi_mel_banks(int num_bins, int padded_window, double sample_freq, double low_freq,
                           double high_freq) {
  const double nyquist = 0.5 * sample_freq;
  if (high_freq <= 0.0) high_freq += nyquist;
  CB_CHECK_INPUT(low_freq >= 0 && low_freq < high_freq && high_freq <= nyquist,
                 "fbank: bad mel range [{}, {}] for sample rate {}", low_freq, high_freq, sample_freq);
  const double fft_bin_width = sample_freq / padded_window;
  auto mel_scalar = [](double f) { return 1127.0 * std::log(1.0 + f / 700.0); };
  const double mel_low = mel_scalar(low_freq), mel_high = mel_scalar(high_freq);
  const double delta = (mel_high - mel_low) / (num_bins + 1);
  at::Tensor bin = at::arange(num_bins, at::kLong).unsqueeze(1);  // (bins, 1)
  at::Tensor left = mel_low + bin * delta;
  at::Tensor center = mel_low + (bin + 1.0) * delta;
  at::Tensor right = mel_low + (bin + 2.0) * delta;
  at::Tensor freq = fft_bin_width * at::arange(padded_window / 2, at::kFloat);
  at::Tensor mel = (1127.0 * (1.0 + freq / 700.0).log()).unsqueeze(0);  // (1, padded/2)
  at::Tensor up = (mel - left) / (center - left);
  at::Tensor down = (right - mel) / (right - center);
  at::Tensor bins = at::max(at::zeros({1}), at::min(up, down));  // (bins, padded/2)
  return bins;
}

at::Tensor kaldi_fbank(const at::Tensor& wave1d, int sample_rate, const FbankOptions& opt) {
  CB_CHECK_INPUT(wave1d.dim() == 1, "fbank: expected a 1-D waveform");
  CB_CHECK_INPUT(sample_rate > 0, "fbank: bad sample rate {}", sample_rate);
  at::Tensor wave = wave1d.to(at::kFloat).contiguous();
  const int64_t shift = int64_t(sample_rate * opt.frame_shift_ms * 0.001);
  const int64_t size = int64_t(sample_rate * opt.frame_length_ms * 0.001);
  int64_t padded = 1;
  while (padded < size) padded <<= 1;
  const int64_t N = wave.size(0);
  CB_CHECK_INPUT(size >= 2 && N >= size, "fbank: {} samples are fewer than one {}-sample frame", N, size);
  const int64_t m = 1 + (N - size) / shift;
  at::Tensor frames = wave.as_strided({m, size}, {shift, 1});  // (m, size)
  if (opt.remove_dc_offset) frames = frames - at::mean(frames, 1).unsqueeze(1);
  if (opt.preemphasis != 0.0) {
    at::Tensor prev = at::cat({frames.narrow(1, 0, 1), frames.narrow(1, 0, size - 1)}, 1);
    frames = frames - opt.preemphasis * prev;
  }
  at::Tensor window = at::hann_window(size, /*periodic=*/false, at::TensorOptions().dtype(at::kFloat));
  frames = frames * window.unsqueeze(0);
  if (padded != size) frames = at::constant_pad_nd(frames, {0, padded - size}, 0);
  at::Tensor spectrum = at::fft_rfft(frames).abs().pow(2.0);  // (m, padded/2 + 1)
  at::Tensor bank = kaldi_mel_banks(opt.num_mel_bins, int(padded), sample_rate, opt.low_freq, opt.high_freq);
  bank = at::constant_pad_nd(bank, {0, 1}, 0);  // Nyquist column gets weight 0
  at::Tensor mel = at::mm(spectrum, bank.t());  // (m, bins)
  const float eps = std::numeric_limits<float>::epsilon();
  return at::max(mel, at::full({}, eps, at::kFloat)).log();
}

// ---------------------------------------------------------------- clips (§2.4)
namespace {

// x = mant * 2^exp with odd integer mant (x > 0), or mant = 0.
void split_double(double x, int64_t& mant, int& exp) {
  if (x == 0.0) { mant = 0; exp = 0; return; }
  int e = 0;
  double f = std::frexp(x, &e);                 // x = f * 2^e, f in [0.5, 1)
  mant = int64_t(std::ldexp(f, 53));
  exp = e - 53;
  while (mant != 0 && (mant & 1) == 0) mant >>= 1, ++exp;
}

using i128 = __int128;

// floor((k * md / div + add_cd * cd) * sr) with exact binary-rational arithmetic.
int64_t exact_floor(int64_t k, double md, int64_t div, bool add_cd, double cd, int64_t sr) {
  int64_t m1, m2;
  int e1, e2;
  split_double(md, m1, e1);
  split_double(add_cd ? cd : 0.0, m2, e2);
  int e = std::min({e1, e2, 0});
  if (std::max(e1, e2) - e > 60 || e < -62) {  // outside exact range: long double fallback
    long double v = ((long double)k * md / div + (add_cd ? (long double)cd : 0.0L)) * sr;
    return int64_t(std::floor(v));
  }
  i128 a = i128(m1) << (e1 - e);
  i128 b = i128(m2) << (e2 - e);
  i128 num = (i128(k) * a + i128(div) * b) * sr;
  i128 den = i128(div) << (-e);
  return int64_t(num / den);  // non-negative: truncation = floor
}

}  // namespace

std::vector<std::array<int64_t, 2>> clip_bounds(int64_t num_samples, const AudioClipConfig& cfg) {
  CB_CHECK_INPUT(cfg.clips_per_video >= 1 && cfg.clip_duration > 0 && cfg.sample_rate > 0,
                 "audio clips: bad configuration");
  const double duration = double(num_samples) / double(cfg.sample_rate);
  const double md = std::max(duration - cfg.clip_duration, 0.0);
  const int64_t div = std::max(cfg.clips_per_video - 1, 1);
  std::vector<std::array<int64_t, 2>> out;
  for (int k = 0; k < cfg.clips_per_video; ++k) {
    int64_t s = exact_floor(k, md, div, false, 0.0, cfg.sample_rate);
    int64_t e = exact_floor(k, md, div, true, cfg.clip_duration, cfg.sample_rate);
    out.push_back({s, e});
  }
  return out;
}

at::Tensor audio_clips(const Waveform& w, const AudioClipConfig& cfg, AudioClipTrace* trace) {
  CB_CHECK_INPUT(w.samples.defined() && w.samples.dim() == 2 && w.samples.size(0) >= 1,
                 "audio clips: expected a (C, n) waveform");
  at::Tensor wave = w.sample_rate == cfg.sample_rate ? w.samples.to(at::kFloat).clone()
                                                    : resample(w.samples, w.sample_rate, cfg.sample_rate);
  wave = wave.contiguous();  // (C, n), mutated in place below (the reference quirk)
  if (trace) trace->waveform = wave.clone();
  const int64_t n = wave.size(1);
  auto bounds = clip_bounds(n, cfg);
  if (trace) trace->bounds = bounds;
  FbankOptions fo;
  fo.num_mel_bins = cfg.num_mel_bins;
  std::vector<at::Tensor> clips;
  for (const auto& b : bounds) {
    int64_t s = std::min(b[0], n), e = std::min(b[1], n);
    at::Tensor view = wave.narrow(1, s, e - s);  // a view: changes reach overlapping clips
    at::Tensor mean = view.mean();
    view.sub_(mean);
    if (trace) trace->clip_mean.push_back(mean.item<float>());
    at::Tensor fb = kaldi_fbank(view[0], cfg.sample_rate, fo);  // (frames, bins), channel 0
    if (trace) trace->fbank.push_back(fb);
    at::Tensor spec = fb.t();  // (bins, frames)
    const int64_t p = cfg.target_len - spec.size(1);
    if (p > 0) spec = at::constant_pad_nd(spec, {0, p}, 0);
    else if (p < 0) spec = spec.narrow(1, 0, cfg.target_len);
    spec = spec.unsqueeze(0);  // (1, bins, target_len)
    at::Tensor mu = at::full({}, cfg.mean, at::kFloat), sd = at::full({}, cfg.std, at::kFloat);
    clips.push_back(spec.sub(mu).div(sd));
  }
  return at::stack(clips, 0);  // (S, 1, bins, target_len)
}

at::Tensor load_and_transform_audio(const std::string& path, const AudioClipConfig& cfg) {
  Waveform w = read_wav(path);
  try {
    return audio_clips(w, cfg);
  } catch (const InputError& e) {
    fail_input("{}: {}", path, e.what());
  }
}

}  // namespace cb
