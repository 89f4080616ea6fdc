// test_preprocess_units.cpp — hand-computed checks of the preprocessing building blocks:
// fbank of a pure tone, resample round trip, Pillow bicubic invariances, clip sampler and
// crop arithmetic, tokenizer examples from the spec.
#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"
#include "media/image_io.h"
#include "preprocess/audio.h"
#include "preprocess/depth_imu.h"
#include "preprocess/image_transform.h"
#include "preprocess/tokenizer.h"
#include "preprocess/video.h"
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
  // ftfy's mojibake repair, common case: UTF-8 read as Windows-1252 (whole text or one run).
  EXPECT_EQ(cb::clip_clean_text("caf\u00c3\u00a9 au lait"), "caf\u00e9 au lait");
  EXPECT_EQ(cb::clip_clean_text("\u00e2\u20ac\u0153hi\u00e2\u20ac\u009d"), "\"hi\"");  // then uncurled
  EXPECT_EQ(cb::clip_clean_text("na\u00efve caf\u00c3\u00a9"), "na\u00efve caf\u00e9");  // mixed: per run
  // Legitimate Latin-1 text and non-Latin text are left alone.
  EXPECT_EQ(cb::clip_clean_text("na\u00efve caf\u00e9 \u00c0 la carte"), "na\u00efve caf\u00e9 \u00e0 la carte");
  EXPECT_EQ(cb::clip_clean_text("\u65e5\u672c \u00c3\u00a9"), "\u65e5\u672c \u00e9");
  // One huge pseudo-random "word": bounded work, and the result starts like its prefix's BPE
  // would for the first ids that are far from the cut.
  std::string word;
  uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    word.push_back(char('a' + (state >> 24) % 26));
  }
  at::Tensor big = tok.tokenize({word});
  EXPECT_EQ(big[0][76].item<int64_t>(), cb::kClipEotId);
  EXPECT_THROW(tok.encode(std::string((1 << 20) + 1, 'a')), cb::InputError);
}

TEST(PreprocessUnits, FloatBicubicMatchesEightBitWithinOneLevel) {
  cb::Image img;
  img.width = 50, img.height = 31, img.channels = 1;
  img.pixels.resize(img.size());
  for (size_t i = 0; i < img.size(); ++i) img.pixels[i] = uint8_t((i * 13 + (i / 50) * 7) % 256);
  cb::Image r8 = cb::resize_bicubic_pillow(img, 23, 40);
  at::Tensor f = cb::resize_bicubic_pillow_float(cb::image_to_tensor(img).squeeze(-1).to(at::kFloat), 23, 40);
  at::Tensor r = cb::image_to_tensor(r8).squeeze(-1).to(at::kFloat);
  // The 8-bit path rounds its intermediate and clips; away from clipping both agree to ~1 level.
  at::Tensor mask = (f > 2) & (f < 253);
  EXPECT_LE(((f - r).abs() * mask).max().item<float>(), 1.5f);
  at::Tensor c = cb::resize_bicubic_pillow_float(at::full({9, 13}, 0.3f), 30, 4);
  EXPECT_LT((c - 0.3f).abs().max().item<float>(), 1e-6);
}

TEST(PreprocessUnits, DepthDisparityAndNorm) {
  cb::DepthConfig cfg;
  at::Tensor d = at::tensor({0.0f, 0.001f, 2.0f, 100.0f}).view({2, 2});
  at::Tensor disp = cb::depth_to_disparity(d, cfg);
  EXPECT_EQ(disp[0][0].item<float>(), 0.0f);                               // invalid stays 0
  EXPECT_NEAR(disp[0][1].item<float>(), cfg.baseline_focal / 0.01, 1e-2);  // clipped at 0.01 m
  EXPECT_NEAR(disp[1][0].item<float>(), cfg.baseline_focal / 2.0, 1e-4);
  EXPECT_NEAR(disp[1][1].item<float>(), cfg.baseline_focal / 50.0, 1e-4);  // clipped at 50 m
  // A constant 16-bit PNG of 2 m → a constant normalised map.
  cb::test::TempDir tmp;
  cb::Image png;
  png.width = 40, png.height = 30, png.channels = 1, png.bits = 16;
  png.pixels16.assign(png.size(), uint16_t(2.0 * cfg.png_scale));
  cb::write_png(tmp.file("d.png"), png);
  cfg.size = 28;
  at::Tensor x = cb::load_and_transform_depth(tmp.file("d.png"), cfg);
  ASSERT_EQ(x.sizes(), (at::IntArrayRef{1, 28, 28}));
  double want = (std::min(cfg.baseline_focal / 2.0, 75.0) / 75.0 - cfg.mean) / cfg.std;
  EXPECT_NEAR(x.min().item<float>(), want, 1e-4);
  EXPECT_NEAR(x.max().item<float>(), want, 1e-4);
}

TEST(PreprocessUnits, ImuWindowAndPatchify) {
  at::Tensor x = at::arange(6 * 10, at::kFloat).view({6, 10});
  at::Tensor c = cb::imu_window(x, cb::ImuConfig{4, false});  // centre crop: columns 3..6
  EXPECT_EQ(c[2][0].item<float>(), 23.0f);
  at::Tensor p = cb::imu_window(x, cb::ImuConfig{12, false});
  EXPECT_EQ(p[5][9].item<float>(), 59.0f);
  EXPECT_EQ(p[5][11].item<float>(), 0.0f);
  at::Tensor s = cb::imu_window(x, cb::ImuConfig{10, true});
  EXPECT_LT(s.mean(1).abs().max().item<float>(), 1e-5);
  // (B, 6, 2000) → (B, 250, 48) with feature = channel * 8 + offset.
  at::Tensor t = (at::arange(6).view({1, 6, 1}) * 10000 + at::arange(2000).view({1, 1, 2000})).to(at::kFloat);
  at::Tensor q = cb::imu_patchify(t.expand({2, 6, 2000}).contiguous());
  ASSERT_EQ(q.sizes(), (at::IntArrayRef{2, 250, 48}));
  EXPECT_EQ(q[1][7][3 * 8 + 5].item<float>(), 3 * 10000 + 7 * 8 + 5);
}

TEST(PreprocessUnits, VideoClipRangesAndLayout) {
  // 5 s at 30 fps: max start 3 s, step 0.75 s; clip k reads ceil(22.5k) .. ceil(22.5k + 60) - 1.
  auto r = cb::video_clip_frame_ranges(150, 30.0);
  ASSERT_EQ(r.size(), 5u);
  const int64_t first[5] = {0, 23, 45, 68, 90}, last[5] = {59, 82, 104, 127, 149};
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(r[k][0], first[k]) << k;
    EXPECT_EQ(r[k][1], last[k]) << k;
  }
  EXPECT_EQ(cb::uniform_temporal_indices(60, 2), (std::vector<int64_t>{0, 59}));
  // Frame i is a constant image of value i: every output cell is (i/255 - mean) / std.
  auto frame = [](int64_t i) { return at::full({240, 320, 3}, i, at::kByte); };
  at::Tensor v = cb::video_transform(frame, 150, 30.0);
  ASSERT_EQ(v.sizes(), (at::IntArrayRef{15, 3, 2, 224, 224}));
  auto val = [](int64_t i, int c) { return (float(i) / 255.0f - cb::kClipMean[c]) / cb::kClipStd[c]; };
  EXPECT_NEAR(v[3][0][0][10][10].item<float>(), val(23, 0), 1e-5);  // clip 1, crop 0, first frame
  EXPECT_NEAR(v[5][2][1][100][200].item<float>(), val(82, 2), 1e-5);  // clip 1, crop 2, last frame
  // Short video (1 s): every clip covers all frames.
  auto s = cb::video_clip_frame_ranges(25, 25.0);
  for (auto& c : s) {
    EXPECT_EQ(c[0], 0);
    EXPECT_EQ(c[1], 24);
  }
}

TEST(PreprocessUnits, VideoCropsFollowTheLongSide) {
  // A horizontal ramp: crops 0/1/2 start at x = 0, ceil((w-224)/2), w-224 of the scaled frame.
  at::Tensor frames = at::arange(300, at::kLong).remainder(256).to(at::kByte).view({1, 300, 1})
                          .expand({4, 224, 300, 3}).contiguous();  // (4, 224, 300, 3), w = 300
  at::Tensor v = cb::video_transform(frames, 2.0);  // 2 s: all clips identical
  auto px = [&](int crop) { return v[crop][0][0][0][0].item<float>(); };
  auto val = [](int64_t i) { return (float(i) / 255.0f - cb::kClipMean[0]) / cb::kClipStd[0]; };
  EXPECT_NEAR(px(0), val(0), 1e-5);
  EXPECT_NEAR(px(1), val(38), 1e-5);   // ceil(76 / 2) = 38
  EXPECT_NEAR(px(2), val(76), 1e-5);
}
