// media_local.cpp — see media_local.h (TEMPORARY until branch `pre` lands its readers).
#include "data/media_local.h"

#include <sndfile.h>

#include "core/error.h"
#include "io/mapped_file.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#include <stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace cb::data {

namespace {
void append(void* ctx, void* data, int size) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}
}  // namespace

void write_png_u8(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& px) {
  std::string bytes;
  if (!stbi_write_png_to_func(append, &bytes, width, height, channels, px.data(), width * channels))
    fail_internal("{}: PNG encoding failed", path);
  write_file_atomic(path, bytes);
}

void write_wav_pcm16(const std::string& path, int sample_rate, const std::vector<float>& samples) {
  std::string bytes;
  auto le16 = [&](uint32_t v) { bytes += char(v & 255), bytes += char((v >> 8) & 255); };
  auto le32 = [&](uint32_t v) { le16(v & 0xffff), le16(v >> 16); };
  const uint32_t n = static_cast<uint32_t>(samples.size());
  bytes += "RIFF";
  le32(36 + 2 * n);
  bytes += "WAVEfmt ";
  le32(16), le16(1), le16(1), le32(sample_rate), le32(sample_rate * 2), le16(2), le16(16);
  bytes += "data";
  le32(2 * n);
  for (float s : samples) {
    const float c = std::max(-1.f, std::min(1.f, s));
    le16(static_cast<uint16_t>(static_cast<int16_t>(std::lround(c * 32767.f))));
  }
  write_file_atomic(path, bytes);
}

DecodedImage read_image_any(const std::string& path) {
  auto f = MappedFile::open(path);
  CB_CHECK_INPUT(f->size() < (1u << 30), "{}: image file too large", path);
  const int n = static_cast<int>(f->size());
  int w = 0, h = 0, c = 0;
  DecodedImage img;
  if (stbi_is_16_bit_from_memory(f->data(), n)) {
    stbi_us* p = stbi_load_16_from_memory(f->data(), n, &w, &h, &c, 0);
    CB_CHECK_INPUT(p, "{}: cannot decode image: {}", path, stbi_failure_reason());
    img.bits = 16;
    img.data.resize(size_t(w) * h * c);
    for (size_t i = 0; i < img.data.size(); ++i) img.data[i] = p[i] / 65535.f;
    stbi_image_free(p);
  } else {
    stbi_uc* p = stbi_load_from_memory(f->data(), n, &w, &h, &c, 0);
    CB_CHECK_INPUT(p, "{}: cannot decode image: {}", path, stbi_failure_reason());
    img.data.resize(size_t(w) * h * c);
    for (size_t i = 0; i < img.data.size(); ++i) img.data[i] = p[i] / 255.f;
    stbi_image_free(p);
  }
  img.width = w, img.height = h, img.channels = c;
  return img;
}

DecodedAudio read_audio_any(const std::string& path) {
  SF_INFO info{};
  SNDFILE* sf = sf_open(path.c_str(), SFM_READ, &info);
  CB_CHECK_INPUT(sf, "{}: cannot read audio: {}", path, sf_strerror(nullptr));
  DecodedAudio a;
  a.sample_rate = info.samplerate;
  a.channels = info.channels;
  if (info.frames <= 0 || info.channels <= 0 || info.frames > (int64_t(1) << 31) / info.channels) {
    sf_close(sf);
    fail_input("{}: audio has {} frames x {} channels", path, info.frames, info.channels);
  }
  a.data.resize(size_t(info.frames) * info.channels);
  const sf_count_t got = sf_readf_float(sf, a.data.data(), info.frames);
  sf_close(sf);
  CB_CHECK_INPUT(got == info.frames, "{}: truncated audio: {} of {} frames", path, got, info.frames);
  return a;
}

}  // namespace cb::data
