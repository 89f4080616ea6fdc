// test_preprocess_robust.cpp — parsers reject truncated, corrupt, oversized and unsupported
// inputs with an InputError naming the file (images, WAV, BPE vocabulary).
#include <ATen/ATen.h>

#include <fstream>
#include <zlib.h>
#include <cstdio>
#include <jpeglib.h>

#include "core/error.h"
#include "media/image_io.h"
#include "media/wav.h"
#include "preprocess/audio.h"
#include "preprocess/tokenizer.h"
#include "test_util.h"

namespace {

std::string read_bytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void write_bytes(const std::string& p, const std::string& b) {
  std::ofstream f(p, std::ios::binary);
  f << b;
}

// Expects an InputError whose message names `file` and contains `what`.
template <typename F>
void expect_input_error(F&& f, const std::string& file, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error for " << file;
  } catch (const cb::InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(file), std::string::npos) << m;
    EXPECT_NE(m.find(what), std::string::npos) << m;
  }
}

cb::Image gradient(int w, int h, int c) {
  cb::Image img;
  img.width = w, img.height = h, img.channels = c;
  img.pixels.resize(img.size());
  for (size_t i = 0; i < img.size(); ++i) img.pixels[i] = uint8_t((i * 37) % 251);
  return img;
}

}  // namespace

TEST(PreprocessRobust, PngRoundTrip8And16Bit) {
  cb::test::TempDir d;
  for (int c = 1; c <= 4; ++c) {
    cb::Image img = gradient(7, 5, c);
    cb::write_png(d.file("a.png"), img);
    cb::Image back = cb::decode_image(d.file("a.png"));
    EXPECT_EQ(back.channels, c);
    EXPECT_EQ(back.pixels, img.pixels);
  }
  cb::Image i16;
  i16.width = 3, i16.height = 2, i16.channels = 1, i16.bits = 16;
  i16.pixels16 = {0, 1, 255, 256, 40000, 65535};
  cb::write_png(d.file("d.png"), i16);
  cb::Image back = cb::decode_image(d.file("d.png"), /*keep16=*/true);
  EXPECT_EQ(back.bits, 16);
  EXPECT_EQ(back.pixels16, i16.pixels16);
}

TEST(PreprocessRobust, TruncatedAndCorruptPng) {
  cb::test::TempDir d;
  cb::write_png(d.file("ok.png"), gradient(64, 64, 3));
  std::string b = read_bytes(d.file("ok.png"));
  write_bytes(d.file("trunc.png"), b.substr(0, b.size() / 2));
  expect_input_error([&] { cb::decode_image(d.file("trunc.png")); }, d.file("trunc.png"), "PNG");
  std::string c = b;
  for (size_t i = 40; i < c.size(); i += 7) c[i] = char(c[i] ^ 0x5a);
  write_bytes(d.file("corrupt.png"), c);
  expect_input_error([&] { cb::decode_image(d.file("corrupt.png")); }, d.file("corrupt.png"), "PNG");
}

TEST(PreprocessRobust, OversizedPngHeaderRefusedBeforeAllocating) {
  cb::test::TempDir d;
  cb::write_png(d.file("ok.png"), gradient(4, 4, 3));
  std::string b = read_bytes(d.file("ok.png"));
  // IHDR width/height at bytes 16..23 (big-endian); fix the CRC so libpng accepts the header.
  auto put32 = [&](size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b[at + k] = char((v >> (24 - 8 * k)) & 0xFF);
  };
  put32(16, 100000);
  put32(20, 100000);
  uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(b.data() + 12), 17);
  put32(29, crc);
  write_bytes(d.file("huge.png"), b);
  expect_input_error([&] { cb::decode_image(d.file("huge.png")); }, d.file("huge.png"), "100000x100000");
  // Within the pixel limit but far more than a 100-byte file can hold.
  put32(16, 12000);
  put32(20, 12000);
  put32(29, crc32(0, reinterpret_cast<const Bytef*>(b.data() + 12), 17));
  write_bytes(d.file("liar.png"), b);
  expect_input_error([&] { cb::decode_image(d.file("liar.png")); }, d.file("liar.png"), "header claims");
}

TEST(PreprocessRobust, TruncatedCorruptAndHugeJpeg) {
  CB_REQUIRE_FIXTURES();
  cb::test::TempDir d;
  std::string b = read_bytes(cb::test::fixtures_dir() + "/preprocess/images/text_tall.jpg");
  ASSERT_FALSE(b.empty());
  write_bytes(d.file("trunc.jpg"), b.substr(0, b.size() / 2));
  expect_input_error([&] { cb::decode_image(d.file("trunc.jpg")); }, d.file("trunc.jpg"), "JPEG");
  write_bytes(d.file("hdr.jpg"), b.substr(0, 20));
  expect_input_error([&] { cb::decode_image(d.file("hdr.jpg")); }, d.file("hdr.jpg"), "JPEG");
  // SOF0 marker: height and width follow FF C0 len(2) precision(1).
  std::string h = b;
  size_t sof = h.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  h[sof + 5] = char(0xEA), h[sof + 6] = char(0x60), h[sof + 7] = char(0xEA), h[sof + 8] = char(0x60);
  write_bytes(d.file("huge.jpg"), h);
  expect_input_error([&] { cb::decode_image(d.file("huge.jpg")); }, d.file("huge.jpg"), "60000x60000");
}

TEST(PreprocessRobust, UnsupportedAndMissingImage) {
  cb::test::TempDir d;
  write_bytes(d.file("x.gif"), "GIF89a\x01\x00\x01\x00");
  expect_input_error([&] { cb::decode_image(d.file("x.gif")); }, d.file("x.gif"), "unsupported");
  write_bytes(d.file("empty.png"), "");
  expect_input_error([&] { cb::decode_image(d.file("empty.png")); }, d.file("empty.png"), "empty");
  expect_input_error([&] { cb::decode_image(d.file("none.png")); }, d.file("none.png"), "cannot open");
}

TEST(PreprocessRobust, WavRoundTripAndScaling) {
  cb::test::TempDir d;
  at::Tensor x = at::tensor({-1.0f, -0.5f, 0.0f, 0.25f, 32767.0f / 32768.0f}).view({1, 5});
  for (int bits : {8, 16, 24, 32}) {
    cb::write_wav(d.file("a.wav"), {x, 8000}, bits);
    cb::Waveform w = cb::read_wav(d.file("a.wav"));
    EXPECT_EQ(w.sample_rate, 8000);
    double q = std::ldexp(1.0, -(bits - 1));
    EXPECT_LE((w.samples - x).abs().max().item<double>(), q) << bits;
    EXPECT_EQ(w.samples[0][0].item<float>(), -1.0f) << bits;  // exact scaling: -2^(b-1) → -1
  }
}

TEST(PreprocessRobust, TruncatedCorruptAndUnsupportedWav) {
  cb::test::TempDir d;
  cb::write_wav(d.file("ok.wav"), {at::zeros({2, 4000}), 16000}, 16);
  std::string b = read_bytes(d.file("ok.wav"));
  write_bytes(d.file("trunc.wav"), b.substr(0, b.size() / 2));
  expect_input_error([&] { cb::read_wav(d.file("trunc.wav")); }, d.file("trunc.wav"), "truncated");
  write_bytes(d.file("hdr.wav"), b.substr(0, 30));
  expect_input_error([&] { cb::read_wav(d.file("hdr.wav")); }, d.file("hdr.wav"), "audio");
  // Damaged headers claiming absurd sample rates (999983 Hz once made embed allocate 64 GB).
  for (int rate : {999983, 1}) {
    const std::string p = d.file("rate" + std::to_string(rate) + ".wav");
    cb::write_wav(p, {at::zeros({1, 400}), rate}, 16);
    expect_input_error([&] { cb::read_wav(p); }, p, "sample rate " + std::to_string(rate) + " Hz is outside");
  }
  write_bytes(d.file("junk.wav"), std::string(1000, 'x'));
  expect_input_error([&] { cb::read_wav(d.file("junk.wav")); }, d.file("junk.wav"), "audio");
  expect_input_error([&] { cb::read_wav(d.file("none.wav")); }, d.file("none.wav"), "not found");
  // Too short for one fbank frame.
  cb::write_wav(d.file("short.wav"), {at::zeros({1, 100}), 16000}, 16);
  expect_input_error([&] { cb::load_and_transform_audio(d.file("short.wav")); }, d.file("short.wav"), "frame");
}

TEST(PreprocessRobust, MissingAndCorruptVocab) {
  cb::test::TempDir d;
  expect_input_error([&] { cb::BpeTokenizer t(d.file("none.txt.gz")); }, d.file("none.txt.gz"), "not found");
  write_bytes(d.file("bad.txt.gz"), std::string("\x1f\x8b\x08\x00garbage-garbage", 20));
  expect_input_error([&] { cb::BpeTokenizer t(d.file("bad.txt.gz")); }, d.file("bad.txt.gz"), "vocabulary");
  gzFile g = gzopen(d.file("short.txt.gz").c_str(), "wb");
  gzputs(g, "#version: 0.2\ni n\nt h\n");
  gzclose(g);
  expect_input_error([&] { cb::BpeTokenizer t(d.file("short.txt.gz")); }, d.file("short.txt.gz"), "merge lines");
}

TEST(PreprocessRobust, CmykJpegBecomesRgbLikePillow) {
  // A constant CMYK JPEG at quality 100 decodes to its exact raw values; Pillow's
  // inverted-CMYK → RGB gives nk = k, rgb = k - (255 - raw) * k / 255 (rounded).
  cb::test::TempDir d;
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long len = 0;
  jpeg_mem_dest(&c, &buf, &len);
  c.image_width = 16, c.image_height = 16, c.input_components = 4, c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 100, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<uint8_t> row(16 * 4);
  for (int x = 0; x < 16; ++x) row[x * 4] = 0, row[x * 4 + 1] = 128, row[x * 4 + 2] = 255, row[x * 4 + 3] = 200;
  while (c.next_scanline < c.image_height) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  write_bytes(d.file("cmyk.jpg"), std::string(reinterpret_cast<char*>(buf), len));
  jpeg_destroy_compress(&c);
  std::free(buf);
  cb::Image img = cb::decode_image(d.file("cmyk.jpg"));
  ASSERT_EQ(img.channels, 3);
  EXPECT_EQ(int(img.pixels[0]), 0);    // 200 - round(255*200/255)
  EXPECT_EQ(int(img.pixels[1]), 100);  // 200 - round(127*200/255)
  EXPECT_EQ(int(img.pixels[2]), 200);  // 200 - 0
}

TEST(PreprocessRobust, PalettePngAndSixteenBitColourLikePillow) {
  const std::string seeds = std::string(CODEBIND_SOURCE_DIR) + "/fuzz/seeds/image/";
  // 4x4, 2-bit palette: each row holds indices 0,1,2,3; tRNS gives alpha 0 and 128 to 0 and 1.
  cb::Image p = cb::decode_image(seeds + "palette2.png");
  ASSERT_EQ(p.channels, 4);
  EXPECT_EQ(int(p.pixels[3]), 0);
  EXPECT_EQ(int(p.pixels[7]), 128);
  cb::Image rgb = cb::to_rgb8(p);  // alpha dropped, no compositing
  const std::vector<uint8_t> row = {255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9};
  EXPECT_EQ(std::vector<uint8_t>(rgb.pixels.begin(), rgb.pixels.begin() + 12), row);
  // 16-bit RGB: samples are big-endian byte pairs 0,1 | 2,3 | ...; Pillow keeps the high byte.
  cb::Image c16 = cb::decode_image(seeds + "rgb16.png", /*keep16=*/true);
  ASSERT_EQ(c16.bits, 16);
  EXPECT_EQ(c16.pixels16[0], 0x0001);
  EXPECT_EQ(c16.pixels16[1], 0x0203);
  cb::Image c8 = cb::decode_image(seeds + "rgb16.png");
  ASSERT_EQ(c8.bits, 8);
  EXPECT_EQ(int(c8.pixels[1]), 2);
}
