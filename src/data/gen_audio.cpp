// gen_audio.cpp — sensor-suite audio: the digit word spoken by libespeak-ng in-process across
// English accents (espeak language voices) and voice variants, with pitch and rate drawn from
// ranges, placed at a random onset inside a fixed-length clip, plus white noise at a drawn
// SNR; resampled to 16 kHz mono 16-bit WAV.
// attrs: voice (variant), accent, pitch, rate, snr (dB), onset (s).
//
// espeak-ng keeps global state: synthesis is serialised by a process-wide mutex; resampling,
// noise and writing run in the calling worker thread.
#include <cmath>
#include <mutex>

#include "core/error.h"
#include "data/media_local.h"
#include "data/suite_gen.h"

#ifdef CODEBIND_HAVE_ESPEAK
#include <espeak-ng/speak_lib.h>
#endif

namespace cb::data {

namespace {

std::mutex g_espeak_mu;
int g_espeak_rate = 0;
std::vector<short>* g_sink = nullptr;

#ifdef CODEBIND_HAVE_ESPEAK
int synth_callback(short* wav, int n, espeak_EVENT*) {
  if (wav && n > 0 && g_sink) g_sink->insert(g_sink->end(), wav, wav + n);
  return 0;
}
#endif

// Windowed-sinc resampling (Hann window, 16 zero crossings each side), deterministic.
std::vector<float> resample(const std::vector<float>& x, int from, int to) {
  if (from == to) return x;
  const double ratio = double(to) / from, cutoff = std::min(1.0, ratio) * 0.95;
  const int half = 16;
  const size_t n_out = static_cast<size_t>(std::floor(x.size() * ratio));
  std::vector<float> y(n_out);
  for (size_t i = 0; i < n_out; ++i) {
    const double t = i / ratio;  // position in input samples
    const long c = static_cast<long>(std::floor(t));
    double acc = 0;
    const double reach = half / cutoff;
    for (long k = c - static_cast<long>(reach); k <= c + static_cast<long>(reach) + 1; ++k) {
      if (k < 0 || k >= static_cast<long>(x.size())) continue;
      const double d = t - k;
      if (std::fabs(d) > reach) continue;
      const double arg = M_PI * d * cutoff;
      const double sinc = std::fabs(arg) < 1e-9 ? 1.0 : std::sin(arg) / arg;
      const double w = 0.5 * (1 + std::cos(M_PI * d / reach));
      acc += x[static_cast<size_t>(k)] * sinc * w * cutoff;
    }
    y[i] = static_cast<float>(acc);
  }
  return y;
}

class AudioGenerator : public ModalityGenerator {
 public:
  explicit AudioGenerator(const nlohmann::json& cfg) {
#ifndef CODEBIND_HAVE_ESPEAK
    fail_input("sensor-suite audio needs libespeak-ng (not found at build time); remove 'audio' from the config");
#else
    rate_ = cfg.value("sample_rate", 16000);
    duration_ = cfg.value("duration", 2.0);
    accents_ = cfg_strings(cfg, "accents");
    voices_ = cfg_strings(cfg, "voices");
    words_ = cfg_strings(cfg, "words");
    pitch_ = cfg.at("pitch");
    speed_ = cfg.at("rate");
    snr_ = cfg.at("snr_db");
    CB_CHECK_INPUT(!accents_.empty() && !voices_.empty(), "sensor-suite config: audio.accents/voices empty");
    CB_CHECK_INPUT(words_.size() == 10, "sensor-suite config: audio.words needs 10 entries");
    std::lock_guard<std::mutex> lock(g_espeak_mu);
    if (g_espeak_rate == 0) {
      g_espeak_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
      CB_CHECK_INPUT(g_espeak_rate > 0, "espeak-ng initialisation failed (espeak-ng-data installed?)");
      espeak_SetSynthCallback(synth_callback);
    }
    for (const auto& a : accents_)
      for (const auto& v : voices_)
        CB_CHECK_INPUT(espeak_SetVoiceByName((a + "+" + v).c_str()) == EE_OK,
                       "sensor-suite config: espeak-ng has no voice '{}+{}'", a, v);
#endif
  }
  const char* modality() const override { return "audio"; }
  const char* extension() const override { return "wav"; }
  double cost() const override { return 4.0; }

  GenResult make(int label, SuiteRng& rng, const std::string& path) const override {
    const std::string accent = rng.pick(accents_), voice = rng.pick(voices_);
    const int pitch = static_cast<int>(std::lround(rng.uniform(cfg_lo(pitch_), cfg_hi(pitch_))));
    const int wpm = static_cast<int>(std::lround(rng.uniform(cfg_lo(speed_), cfg_hi(speed_))));
    const double snr = rng.uniform(cfg_lo(snr_), cfg_hi(snr_));
    std::vector<short> pcm;
#ifdef CODEBIND_HAVE_ESPEAK
    {
      std::lock_guard<std::mutex> lock(g_espeak_mu);
      espeak_SetVoiceByName((accent + "+" + voice).c_str());
      espeak_SetParameter(espeakRATE, wpm, 0);
      espeak_SetParameter(espeakPITCH, pitch, 0);
      g_sink = &pcm;
      const std::string& w = words_[static_cast<size_t>(label)];
      espeak_Synth(w.c_str(), w.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, nullptr);
      espeak_Synchronize();
      g_sink = nullptr;
    }
#endif
    // Trim leading/trailing near-silence, normalise to peak 0.7.
    size_t b = 0, e = pcm.size();
    while (b < e && std::abs(pcm[b]) < 64) ++b;
    while (e > b && std::abs(pcm[e - 1]) < 64) --e;
    std::vector<float> speech;
    for (size_t i = b; i < e; ++i) speech.push_back(pcm[i] / 32768.f);
    speech = resample(speech, g_espeak_rate, rate_);
    float peak = 1e-6f;
    for (float s : speech) peak = std::max(peak, std::fabs(s));
    for (float& s : speech) s *= 0.7f / peak;
    const size_t n = static_cast<size_t>(std::lround(duration_ * rate_));
    if (speech.size() > n) speech.resize(n);
    const size_t onset = static_cast<size_t>(rng.index(static_cast<int64_t>(n - speech.size() + 1)));
    double power = 0;
    for (float s : speech) power += double(s) * s;
    power /= std::max<size_t>(1, speech.size());
    const double noise_sd = std::sqrt(power / std::pow(10.0, snr / 10.0));
    std::vector<float> clip(n);
    for (size_t i = 0; i < n; ++i) {
      float s = (i >= onset && i - onset < speech.size()) ? speech[i - onset] : 0.f;
      clip[i] = s + static_cast<float>(noise_sd * rng.normal());
    }
    write_wav_pcm16(path, rate_, clip);
    GenResult r;
    r.attrs = {{"voice", voice}, {"accent", accent},        {"pitch", pitch},
               {"rate", wpm},    {"snr", round_to(snr, 2)}, {"onset", round_to(double(onset) / rate_, 3)}};
    return r;
  }

 private:
  int rate_ = 16000;
  double duration_ = 2.0;
  std::vector<std::string> accents_, voices_, words_;
  nlohmann::json pitch_, speed_, snr_;
};

}  // namespace

std::unique_ptr<ModalityGenerator> make_audio_generator(const nlohmann::json& cfg) {
  return std::make_unique<AudioGenerator>(cfg);
}

}  // namespace cb::data
