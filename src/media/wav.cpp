// wav.cpp — PCM WAV (and other libsndfile PCM/float containers) ↔ Waveform.
// Integers are read left-justified to 32 bits and scaled by 2^-31, which reproduces
// torchaudio's int16/32768, int24/2^23, int32/2^31 and (u8-128)/128 exactly.
#include "media/wav.h"

#include <sndfile.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace cb {
namespace {

uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }

// RIFF/WAVE files: the data chunk must be complete (libsndfile silently shortens it).
void check_riff_complete(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char h[12];
  if (!f.read(reinterpret_cast<char*>(h), 12)) return;  // libsndfile reports it
  if (std::memcmp(h, "RIFF", 4) != 0 || std::memcmp(h + 8, "WAVE", 4) != 0) return;
  const uint64_t size = std::filesystem::file_size(path);
  uint64_t pos = 12;
  while (pos + 8 <= size) {
    unsigned char c[8];
    f.seekg(static_cast<std::streamoff>(pos));
    if (!f.read(reinterpret_cast<char*>(c), 8)) return;
    uint64_t len = le32(c + 4);
    if (std::memcmp(c, "data", 4) == 0) {
      if (len == 0 || len == 0xFFFFFFFFu) return;  // streaming writers
      CB_CHECK_INPUT(pos + 8 + len <= size,
                     "{}: truncated WAV: data chunk declares {} bytes, file holds {}", path, len,
                     size - pos - 8);
      return;
    }
    pos += 8 + len + (len & 1);
  }
}

}  // namespace

Waveform read_wav(const std::string& path) {
  CB_CHECK_INPUT(std::filesystem::is_regular_file(path), "{}: audio file not found", path);
  SF_INFO info{};
  SNDFILE* sf = sf_open(path.c_str(), SFM_READ, &info);
  CB_CHECK_INPUT(sf != nullptr, "{}: cannot decode audio ({})", path, sf_strerror(nullptr));
  struct Closer { SNDFILE* s; ~Closer() { sf_close(s); } } closer{sf};
  CB_CHECK_INPUT(info.channels > 0 && info.channels <= 256, "{}: bad channel count {}", path, info.channels);
  // Real recordings lie in 1 kHz … 384 kHz; outside it a header is damaged, and resampling
  // from it would allocate gigabytes (999983 Hz) or crawl (1 Hz).
  CB_CHECK_INPUT(info.samplerate >= kMinSampleRate && info.samplerate <= kMaxSampleRate,
                 "{}: sample rate {} Hz is outside {} to {} Hz: the header is damaged", path, info.samplerate,
                 kMinSampleRate, kMaxSampleRate);
  CB_CHECK_INPUT(info.frames > 0, "{}: audio file holds no samples", path);
  CB_CHECK_INPUT(uint64_t(info.frames) * info.channels <= (uint64_t(1) << 31),
                 "{}: {} frames x {} channels is too long", path, int64_t(info.frames), info.channels);
  const int sub = info.format & SF_FORMAT_SUBMASK;
  const bool pcm = sub == SF_FORMAT_PCM_S8 || sub == SF_FORMAT_PCM_U8 || sub == SF_FORMAT_PCM_16 ||
                   sub == SF_FORMAT_PCM_24 || sub == SF_FORMAT_PCM_32;
  const bool flt = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
  CB_CHECK_INPUT(pcm || flt, "{}: unsupported sample encoding 0x{:x} (PCM or float only)", path, sub);
  check_riff_complete(path);
  const int64_t n = info.frames, C = info.channels;
  at::Tensor out = at::empty({C, n}, at::kFloat);  // (C, n)
  float* o = out.data_ptr<float>();
  if (pcm) {
    std::vector<int> buf(size_t(n) * C);
    sf_count_t got = sf_readf_int(sf, buf.data(), n);
    CB_CHECK_INPUT(got == n, "{}: truncated audio: read {} of {} frames", path, int64_t(got), n);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < C; ++c)
        o[c * n + t] = static_cast<float>(std::ldexp(double(buf[t * C + c]), -31));
  } else {
    sf_command(sf, SFC_SET_NORM_FLOAT, nullptr, SF_FALSE);
    std::vector<float> buf(size_t(n) * C);
    sf_count_t got = sf_readf_float(sf, buf.data(), n);
    CB_CHECK_INPUT(got == n, "{}: truncated audio: read {} of {} frames", path, int64_t(got), n);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < C; ++c) o[c * n + t] = buf[t * C + c];
  }
  return {out, info.samplerate};
}

void write_wav(const std::string& path, const Waveform& w, int bits) {
  CB_CHECK_INPUT(w.samples.defined() && w.samples.dim() == 2 && w.samples.size(0) > 0,
                 "{}: write_wav expects (C, n) samples", path);
  CB_CHECK_INPUT(w.sample_rate > 0, "{}: bad sample rate {}", path, w.sample_rate);
  int sub = bits == 8 ? SF_FORMAT_PCM_U8 : bits == 16 ? SF_FORMAT_PCM_16 : bits == 24 ? SF_FORMAT_PCM_24
          : bits == 32 ? SF_FORMAT_PCM_32 : bits == -32 ? SF_FORMAT_FLOAT : 0;
  CB_CHECK_INPUT(sub != 0, "{}: unsupported WAV bit depth {}", path, bits);
  at::Tensor x = w.samples.to(at::kFloat).contiguous().cpu();
  const int64_t C = x.size(0), n = x.size(1);
  SF_INFO info{};
  info.channels = int(C);
  info.samplerate = w.sample_rate;
  info.format = SF_FORMAT_WAV | sub;
  const std::string tmp = path + ".tmp";
  SNDFILE* sf = sf_open(tmp.c_str(), SFM_WRITE, &info);
  CB_CHECK_INPUT(sf != nullptr, "{}: cannot write WAV ({})", path, sf_strerror(nullptr));
  const float* p = x.data_ptr<float>();
  sf_count_t put = 0;
  if (bits == -32) {
    std::vector<float> buf(size_t(n) * C);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < C; ++c) buf[t * C + c] = p[c * n + t];
    put = sf_writef_float(sf, buf.data(), n);
  } else {
    // Quantise to `bits`, then left-justify to 32 bits (exact inverse of read_wav).
    const double full = std::ldexp(1.0, bits - 1);
    std::vector<int> buf(size_t(n) * C);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < C; ++c) {
        double q = std::nearbyint(double(p[c * n + t]) * full);
        q = std::min(std::max(q, -full), full - 1);
        buf[t * C + c] = static_cast<int>(static_cast<int64_t>(q) * (int64_t(1) << (32 - bits)));
      }
    put = sf_writef_int(sf, buf.data(), n);
  }
  sf_close(sf);
  if (put != n) {
    std::remove(tmp.c_str());
    fail_input("{}: short write ({} of {} frames)", path, int64_t(put), n);
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace cb
