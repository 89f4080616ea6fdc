// media_local.cpp — see media_local.h: thin adapters over the shared readers/writers
// (io/image_parse.h, io/wav.h) so the generator, `data check` and the trainer use one decoder.
#include "data/media_local.h"

#include "core/error.h"
#include "media/image_parse.h"
#include "media/wav.h"

namespace cb::data {

void write_png_u8(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& px) {
  Image img;
  img.width = width, img.height = height, img.channels = channels, img.bits = 8;
  img.pixels = px;
  write_png(path, img);
}

void write_wav_pcm16(const std::string& path, int sample_rate, const std::vector<float>& samples) {
  Waveform w;
  w.samples = at::from_blob(const_cast<float*>(samples.data()), {1, static_cast<int64_t>(samples.size())},
                            at::kFloat)
                  .clamp(-1.0, 1.0)
                  .clone();
  w.sample_rate = sample_rate;
  write_wav(path, w, 16);
}

DecodedImage read_image_any(const std::string& path) {
  const Image img = decode_image(path, /*keep16=*/true);
  DecodedImage out;
  out.width = img.width, out.height = img.height, out.channels = img.channels, out.bits = img.bits;
  out.data.resize(img.size());
  if (img.bits == 16)
    for (size_t i = 0; i < out.data.size(); ++i) out.data[i] = img.pixels16[i] / 65535.f;
  else
    for (size_t i = 0; i < out.data.size(); ++i) out.data[i] = img.pixels[i] / 255.f;
  return out;
}

DecodedAudio read_audio_any(const std::string& path) {
  const Waveform w = read_wav(path);
  DecodedAudio a;
  a.sample_rate = w.sample_rate;
  a.channels = static_cast<int>(w.samples.size(0));
  at::Tensor inter = w.samples.t().contiguous().to(at::kFloat);  // (n, C) interleaved
  a.data.assign(inter.data_ptr<float>(), inter.data_ptr<float>() + inter.numel());
  return a;
}

}  // namespace cb::data
