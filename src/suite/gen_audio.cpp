// gen_audio.cpp — sensor-suite audio: the digit word spoken by libespeak-ng in-process across
// English accents (espeak language voices) and voice variants, with pitch and rate drawn from
// ranges, placed at a random onset inside a fixed-length clip, plus white noise at a drawn
// SNR; resampled to 16 kHz mono 16-bit WAV.
// attrs: voice (variant), accent, pitch, rate, snr (dB), onset (s).
//
// Determinism: espeak-ng keeps global state that carries from one utterance to the next
// (pitch-period phase, libc rand() noise), and it cannot be re-initialised in a process. So
// prepare() forks a child that initialises espeak afresh and synthesises every planned item in
// plan order, streaming the PCM back through a pipe; a reader thread fills the cache while the
// other modalities render, and make() (resampling, noise, WAV) waits for its item. The same
// plan therefore gives the same bytes for any thread count and on repeated runs in a process.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "data/media_local.h"
#include "suite/suite_gen.h"

#ifdef CODEBIND_HAVE_ESPEAK
#include <espeak-ng/speak_lib.h>
#endif

namespace cb::suite {

namespace {

constexpr int kEspeakRate = 22050;  // espeak-ng's output rate
std::vector<short>* g_sink = nullptr;  // child process only

#ifdef CODEBIND_HAVE_ESPEAK
int synth_callback(short* wav, int n, espeak_EVENT*) {
  if (wav && n > 0 && g_sink) g_sink->insert(g_sink->end(), wav, wav + n);
  return 0;
}
#endif

bool write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w <= 0) return false;
    c += w, n -= static_cast<size_t>(w);
  }
  return true;
}
bool read_all(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t r = ::read(fd, c, n);
    if (r <= 0) return false;
    c += r, n -= static_cast<size_t>(r);
  }
  return true;
}

// Windowed-sinc resampling (Hann window, 16 zero crossings each side), deterministic.
std::vector<float> resample(const std::vector<float>& x, int from, int to) {
  if (from == to) return x;
  const double ratio = double(to) / from, cutoff = std::min(1.0, ratio) * 0.95;
  const double reach = 16 / cutoff;
  const size_t n_out = static_cast<size_t>(std::floor(x.size() * ratio));
  std::vector<float> y(n_out);
  for (size_t i = 0; i < n_out; ++i) {
    const double t = i / ratio;  // position in input samples
    const long c = static_cast<long>(std::floor(t));
    double acc = 0;
    for (long k = c - static_cast<long>(reach); k <= c + static_cast<long>(reach) + 1; ++k) {
      if (k < 0 || k >= static_cast<long>(x.size())) continue;
      const double d = t - k;
      if (std::fabs(d) > reach) continue;
      const double arg = M_PI * d * cutoff;
      const double sinc = std::fabs(arg) < 1e-9 ? 1.0 : std::sin(arg) / arg;
      acc += x[static_cast<size_t>(k)] * sinc * 0.5 * (1 + std::cos(M_PI * d / reach)) * cutoff;
    }
    y[i] = static_cast<float>(acc);
  }
  return y;
}

struct SynthParams {
  std::string accent, voice;
  int pitch, wpm;
  double snr;
  unsigned rand_seed;
};

class AudioGenerator : public ModalityGenerator {
 public:
  explicit AudioGenerator(const nlohmann::json& cfg) {
#ifndef CODEBIND_HAVE_ESPEAK
    fail_input("sensor-suite audio needs libespeak-ng (not found at build time); remove 'audio' from the config");
#endif
    rate_ = static_cast<int>(cfg_int(cfg, "audio", "sample_rate", 16000, 8000, 192000));
    duration_ = cfg.value("duration", 2.0);
    accents_ = cfg_strings(cfg, "accents");
    voices_ = cfg_strings(cfg, "voices");
    words_ = cfg_strings(cfg, "words");
    pitch_ = cfg.at("pitch");
    speed_ = cfg.at("rate");
    snr_ = cfg.at("snr_db");
    CB_CHECK_INPUT(!accents_.empty() && !voices_.empty(), "sensor-suite config: audio.accents/voices empty");
    CB_CHECK_INPUT(words_.size() == 10, "sensor-suite config: audio.words needs 10 entries");
  }
  ~AudioGenerator() override {
    if (reader_.joinable()) reader_.join();
  }
  const char* modality() const override { return "audio"; }
  const char* extension() const override { return "wav"; }
  double cost() const override { return 4.0; }

  void prepare(const std::vector<PlanItem>& plan) override {
    cache_.assign(plan.size(), {});
    have_.assign(plan.size(), 0);
    int fds[2];
    CB_CHECK(::pipe(fds) == 0, "sensor-suite audio: pipe() failed");
    const pid_t pid = ::fork();
    CB_CHECK(pid >= 0, "sensor-suite audio: fork() failed");
    if (pid == 0) {  // child: fresh espeak, synthesise everything in plan order
      ::close(fds[0]);
      child(plan, fds[1]);
      ::_exit(0);
    }
    ::close(fds[1]);
    reader_ = std::thread([this, fd = fds[0], pid, n = plan.size()]() {
      for (size_t i = 0; i < n; ++i) {
        int32_t len = 0;
        std::vector<short> pcm;
        std::string err;
        if (!read_all(fd, &len, 4)) err = "espeak-ng child process ended early";
        else if (len < 0) {
          std::vector<char> msg(static_cast<size_t>(-len));
          read_all(fd, msg.data(), msg.size());
          err.assign(msg.begin(), msg.end());
        } else {
          pcm.resize(static_cast<size_t>(len));
          if (!read_all(fd, pcm.data(), pcm.size() * sizeof(short))) err = "espeak-ng output truncated";
        }
        std::lock_guard<std::mutex> lock(mu_);
        if (!err.empty()) {
          error_ = err;
          break;
        }
        cache_[i] = std::move(pcm);
        have_[i] = 1;
        cv_.notify_all();
      }
      ::close(fd);
      int status = 0;
      ::waitpid(pid, &status, 0);
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      cv_.notify_all();
    });
  }

  GenResult make(int label, int64_t index, data::SuiteRng& rng, const std::string& path, const Scene&) const override {
    const SynthParams p = draw(rng);
    std::vector<short> pcm;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return have_[static_cast<size_t>(index)] || !error_.empty() || done_; });
      if (!have_[static_cast<size_t>(index)])
        fail_input("sensor-suite audio: {}", error_.empty() ? "speech synthesis failed" : error_);
      pcm.swap(cache_[static_cast<size_t>(index)]);
    }
    (void)label;
    // Trim leading/trailing near-silence, normalise to peak 0.7.
    size_t b = 0, e = pcm.size();
    while (b < e && std::abs(pcm[b]) < 64) ++b;
    while (e > b && std::abs(pcm[e - 1]) < 64) --e;
    std::vector<float> speech;
    for (size_t i = b; i < e; ++i) speech.push_back(pcm[i] / 32768.f);
    speech = resample(speech, kEspeakRate, rate_);
    float peak = 1e-6f;
    for (float s : speech) peak = std::max(peak, std::fabs(s));
    for (float& s : speech) s *= 0.7f / peak;
    const size_t n = static_cast<size_t>(std::lround(duration_ * rate_));
    if (speech.size() > n) speech.resize(n);
    const size_t onset = static_cast<size_t>(rng.index(static_cast<int64_t>(n - speech.size() + 1)));
    double power = 0;
    for (float s : speech) power += double(s) * s;
    power /= std::max<size_t>(1, speech.size());
    const double noise_sd = std::sqrt(power / std::pow(10.0, p.snr / 10.0));
    std::vector<float> clip(n);
    for (size_t i = 0; i < n; ++i) {
      const float s = (i >= onset && i - onset < speech.size()) ? speech[i - onset] : 0.f;
      clip[i] = s + static_cast<float>(noise_sd * rng.normal());
    }
    data::write_wav_pcm16(path, rate_, clip);
    GenResult r;
    r.attrs = {{"voice", p.voice}, {"accent", p.accent},        {"pitch", p.pitch},
               {"rate", p.wpm},    {"snr", round_to(p.snr, 2)}, {"onset", round_to(double(onset) / rate_, 3)}};
    return r;
  }

 private:
  // The item's synthesis parameters: the first draws of its generator (child and make agree).
  SynthParams draw(data::SuiteRng& rng) const {
    SynthParams p;
    p.accent = rng.pick(accents_);
    p.voice = rng.pick(voices_);
    p.pitch = static_cast<int>(std::lround(rng.uniform(cfg_lo(pitch_), cfg_hi(pitch_))));
    p.wpm = static_cast<int>(std::lround(rng.uniform(cfg_lo(speed_), cfg_hi(speed_))));
    p.snr = rng.uniform(cfg_lo(snr_), cfg_hi(snr_));
    p.rand_seed = static_cast<unsigned>(rng.next() >> 33);
    return p;
  }

  void child(const std::vector<PlanItem>& plan, int fd) const {
    auto fail = [&](const std::string& msg) {
      const int32_t len = -static_cast<int32_t>(msg.size());
      write_all(fd, &len, 4);
      write_all(fd, msg.data(), msg.size());
    };
#ifdef CODEBIND_HAVE_ESPEAK
    if (espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0) <= 0)
      return fail("espeak-ng initialisation failed (espeak-ng-data installed?)");
    espeak_SetSynthCallback(synth_callback);
    for (const auto& a : accents_)
      for (const auto& v : voices_)
        if (espeak_SetVoiceByName((a + "+" + v).c_str()) != EE_OK)
          return fail("sensor-suite config: espeak-ng has no voice '" + a + "+" + v + "'");
    for (const auto& it : plan) {
      data::SuiteRng rng(it.seed);
      const SynthParams p = draw(rng);
      std::vector<short> pcm;
      g_sink = &pcm;
      std::srand(p.rand_seed);  // espeak-ng draws noise (klatt, whisper, breath) from libc rand()
      espeak_SetVoiceByName((p.accent + "+" + p.voice).c_str());
      espeak_SetParameter(espeakRATE, p.wpm, 0);
      espeak_SetParameter(espeakPITCH, p.pitch, 0);
      const std::string& w = words_[static_cast<size_t>(it.label)];
      espeak_Synth(w.c_str(), w.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, nullptr);
      espeak_Synchronize();
      const int32_t len = static_cast<int32_t>(pcm.size());
      if (!write_all(fd, &len, 4) || !write_all(fd, pcm.data(), pcm.size() * sizeof(short))) return;
    }
#else
    (void)plan;
    fail("built without espeak-ng");
#endif
  }

  int rate_ = 16000;
  double duration_ = 2.0;
  std::vector<std::string> accents_, voices_, words_;
  nlohmann::json pitch_, speed_, snr_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::vector<std::vector<short>> cache_;
  std::vector<char> have_;
  std::string error_;
  bool done_ = false;
  std::thread reader_;
};

}  // namespace

std::unique_ptr<ModalityGenerator> make_audio_generator(const nlohmann::json& cfg) {
  return std::make_unique<AudioGenerator>(cfg);
}

}  // namespace cb::suite
