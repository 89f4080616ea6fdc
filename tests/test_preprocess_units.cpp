// test_preprocess_units.cpp — hand-computed checks of the preprocessing building blocks:
// fbank of a pure tone, resample round trip, Pillow bicubic invariances, clip sampler and
// crop arithmetic, tokenizer examples from the spec.
#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"
#include "preprocess/audio.h"
#include "preprocess/image_transform.h"
#include "preprocess/tokenizer.h"
#include "test_util.h"

namespace {
double mel(double f) { return 1127.0 * std::log(1.0 + f / 700.0); }
at::Tensor sine(double f, int sr, int64_t n) {
  return at::sin(at::arange(n, at::kDouble) * (2 * M_PI * f / sr)).to(at::kFloat);
}
}  // namespace

TEST(PreprocessUnits, FbankPureTonePeaksAtItsMelBin) {
  for (double f : {500.0, 1000.0, 3000.0}) {
    at::Tensor fb = cb::kaldi_fbank(sine(f, 16000, 16000) * 0.5, 16000);  // (98, 128)
    ASSERT_EQ(fb.size(0), 1 + (16000 - 400) / 160);
    ASSERT_EQ(fb.size(1), 128);
    int64_t got = fb.mean(0).argmax().item<int64_t>();
    double delta = (mel(8000) - mel(20)) / 129;
    int64_t want = std::lround((mel(f) - mel(20)) / delta - 1);  // bin whose centre is nearest
    EXPECT_LE(std::abs(got - want), 1) << f;
    // The peak is far above bins an octave away.
    int64_t far = want > 64 ? want - 40 : want + 40;
    EXPECT_GT(fb.mean(0)[got].item<float>() - fb.mean(0)[far].item<float>(), 5.0f) << f;
  }
}

TEST(PreprocessUnits, FbankFrameCountAndSilenceFloor) {
  at::Tensor fb = cb::kaldi_fbank(at::zeros({32000}), 16000);
  EXPECT_EQ(fb.size(0), 198);  // spec: 2 s → 198 frames
  EXPECT_NEAR(fb.max().item<float>(), std::log(1.1920929e-07f), 1e-5);
  EXPECT_THROW(cb::kaldi_fbank(at::zeros({399}), 16000), cb::InputError);
}

TEST(PreprocessUnits, ResampleRoundTripLowFrequencySine) {
  at::Tensor x = sine(220.0, 44100, 44100).view({1, -1});
  at::Tensor y = cb::resample(x, 44100, 16000);
  EXPECT_EQ(y.size(1), 16000);  // ceil(160 * 44100 / 441)
  at::Tensor ref = sine(220.0, 16000, 16000).view({1, -1});
  // Away from the zero-padded edges the resampled sine equals the directly sampled one.
  EXPECT_LT((y - ref).narrow(1, 100, 15800).abs().max().item<double>(), 2e-3);
  at::Tensor z = cb::resample(y, 16000, 44100);
  EXPECT_EQ(z.size(1), 44100);
  EXPECT_LT((z - x).narrow(1, 300, 43500).abs().max().item<double>(), 5e-3);
}

TEST(PreprocessUnits, BicubicConstantImageStaysConstant) {
  for (auto [w, h, ow, oh] : std::vector<std::array<int, 4>>{{100, 60, 37, 224}, {13, 17, 300, 5}, {5, 5, 5, 9}}) {
    cb::Image img;
    img.width = w, img.height = h, img.channels = 3;
    img.pixels.assign(img.size(), 173);
    cb::Image r = cb::resize_bicubic_pillow(img, ow, oh);
    ASSERT_EQ(r.width, ow);
    ASSERT_EQ(r.height, oh);
    for (uint8_t v : r.pixels) ASSERT_EQ(v, 173);
  }
}

TEST(PreprocessUnits, ResizeSizesAndCropOffsetsFromSpec) {
  auto s = cb::short_side_resize_size(640, 855, 224);
  EXPECT_EQ(s[0], 224);
  EXPECT_EQ(s[1], 299);
  s = cb::short_side_resize_size(640, 360, 224);
  EXPECT_EQ(s[0], 398);
  EXPECT_EQ(s[1], 224);
  // round half to even: (299-224)/2 = 37.5 → 38; (297-224)/2 = 36.5 → 36.
  EXPECT_EQ(cb::center_crop_offsets(299, 224, 224)[0], 38);
  EXPECT_EQ(cb::center_crop_offsets(297, 224, 224)[0], 36);
  at::Tensor t = cb::clip_image_transform([] {
    cb::Image i; i.width = 300; i.height = 224; i.channels = 1; i.pixels.assign(300 * 224, 255); return i;
  }());
  ASSERT_EQ(t.sizes(), (at::IntArrayRef{3, 224, 224}));
  EXPECT_NEAR(t[0][5][5].item<float>(), (1.0f - 0.48145466f) / 0.26862954f, 1e-6);
}

TEST(PreprocessUnits, ClipBoundsFromSpec) {
  cb::AudioClipConfig cfg;
  auto b = cb::clip_bounds(5 * 16000, cfg);  // starts 0, 1.5, 3.0
  EXPECT_EQ(b[1][0], 24000);
  EXPECT_EQ(b[1][1], 56000);
  EXPECT_EQ(b[2][0], 48000);
  b = cb::clip_bounds(41764, cfg);  // 2.61025 s: starts 0, 0.305125, 0.61025
  EXPECT_EQ(b[1][0], 4882);
  EXPECT_EQ(b[2][0], 9764);
  b = cb::clip_bounds(1000, cfg);  // shorter than a clip: all start at 0
  for (auto& c : b) {
    EXPECT_EQ(c[0], 0);
    EXPECT_EQ(c[1], 32000);
  }
}

TEST(PreprocessUnits, TokenizerSpecExamples) {
  cb::BpeTokenizer tok(cb::default_vocab_path());
  EXPECT_EQ(tok.encode("A dog."), (std::vector<int64_t>{320, 1929, 269}));
  EXPECT_EQ(tok.encode("A car"), (std::vector<int64_t>{320, 1615}));
  EXPECT_EQ(tok.encode("12345"), (std::vector<int64_t>{272, 273, 274, 275, 276}));
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "dog ";
  at::Tensor ids = tok.tokenize({"A bird", long_text});
  EXPECT_EQ(ids.sizes(), (at::IntArrayRef{2, 77}));
  EXPECT_EQ(ids[0][2].item<int64_t>(), 3329);  // [SOT, a, bird, EOT, 0, ...]
  EXPECT_EQ(ids[0][3].item<int64_t>(), cb::kClipEotId);
  EXPECT_EQ(ids[0][4].item<int64_t>(), 0);
  EXPECT_EQ(ids[1][75].item<int64_t>(), 1929);
  EXPECT_EQ(ids[1][76].item<int64_t>(), cb::kClipEotId);  // EOT forced on long texts
  EXPECT_EQ(cb::BpeTokenizer::eot_index(ids[1]), 76);
  EXPECT_EQ(cb::clip_clean_text("  Tom &amp;amp;  JERRY\t\n"), "tom & jerry");
}
