// test_eval_plot.cpp — the rasteriser, PNG round trip through libpng, plot determinism,
// tick generation and 2-D PCA.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "core/error.h"
#include "report/font5x7.h"
#include "report/plot.h"
#include "eval/projection.h"
#include "report/raster.h"
#include "test_util.h"

namespace cb::eval {
namespace {
using test::slurp;
using namespace cb::report;  // the plots and the PNG writer under test

TEST(EvalRaster, PngRoundTripKeepsPixels) {
  test::TempDir dir;
  Canvas c(37, 21, {10, 20, 30});
  c.set(3, 4, {255, 0, 0});
  c.line(0, 20, 36, 0, {0, 255, 0});
  c.set(-1, 5, {1, 1, 1});  // clipped, no crash
  c.write_png(dir.file("a.png"));
  const std::string bytes = slurp(dir.file("a.png"));
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  PngInfo p = read_png(dir.file("a.png"));
  EXPECT_EQ(p.width, 37);
  EXPECT_EQ(p.height, 21);
  EXPECT_EQ(p.channels, 3);
  EXPECT_EQ(p.bit_depth, 8);
  EXPECT_EQ(p.pixels, c.rgb());
  EXPECT_EQ(c.get(3, 4), (Rgb{255, 0, 0}));
  EXPECT_EQ(c.get(0, 20), (Rgb{0, 255, 0}));
  EXPECT_EQ(c.get(36, 0), (Rgb{0, 255, 0}));
  // Truncated and non-PNG files are rejected with InputError.
  { std::ofstream f(dir.file("t.png"), std::ios::binary); f << bytes.substr(0, bytes.size() / 2); }
  EXPECT_THROW(read_png(dir.file("t.png")), InputError);
  { std::ofstream f(dir.file("n.png")); f << "not a png at all"; }
  EXPECT_THROW(read_png(dir.file("n.png")), InputError);
  EXPECT_THROW(Canvas(0, 5), InputError);
}

TEST(EvalRaster, FontDrawsGlyphBits) {
  // 'T' = top row full, then a centre column.
  const uint8_t* t = font5x7_glyph('T');
  EXPECT_EQ(t[0], 0x1F);
  EXPECT_EQ(t[3], 0x04);
  EXPECT_EQ(font5x7_glyph('\x01'), font5x7_glyph('?'));
  Canvas c(20, 10);
  c.text(1, 1, "T", {0, 0, 0});
  int ink = 0;
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 20; ++x) ink += c.get(x, y) == Rgb{0, 0, 0};
  EXPECT_EQ(ink, 5 + 6);  // 5 pixels on the top row + 6 below
  EXPECT_EQ(c.get(1, 1), (Rgb{0, 0, 0}));
  EXPECT_EQ(c.get(3, 7), (Rgb{0, 0, 0}));
  EXPECT_EQ(Canvas::text_width("abc", 2), 34);
}

TEST(EvalPlot, TicksAndLabels) {
  EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  auto t = nice_ticks(-3.2, 17.5, 6);
  ASSERT_FALSE(t.empty());
  EXPECT_LE(t.front(), -3.2);
  EXPECT_GE(t.back(), 17.5);
  EXPECT_DOUBLE_EQ(t[1] - t[0], 5.0);
  EXPECT_TRUE(nice_ticks(1, 1, 5).empty());
  EXPECT_EQ(tick_label(0.25), "0.25");
  EXPECT_EQ(tick_label(1200), "1200");
  EXPECT_EQ(tick_label(1e-17), "0");
  EXPECT_EQ(tick_label(250000), "2e+05");
}

TEST(EvalPlot, PlotsAreDeterministicPngs) {
  test::TempDir dir;
  Series a{"loss", {0, 1, 2, 3, 4}, {2.0, 1.5, 1.1, 0.9, 0.85}};
  Series b{"val", {0, 2, 4}, {2.1, 1.3, std::nan("")}};
  PlotOptions o;
  o.title = "Training curves";
  o.xlabel = "step";
  o.ylabel = "loss";
  plot_lines(dir.file("l1.png"), {a, b}, o);
  plot_lines(dir.file("l2.png"), {a, b}, o);
  EXPECT_EQ(slurp(dir.file("l1.png")), slurp(dir.file("l2.png")));
  PngInfo p = read_png(dir.file("l1.png"));
  EXPECT_EQ(p.width, 800);
  EXPECT_EQ(p.height, 500);
  o.log_y = true;
  plot_lines(dir.file("log.png"), {a}, o);
  EXPECT_NE(slurp(dir.file("log.png")), slurp(dir.file("l1.png")));

  PlotOptions ob;
  ob.width = 640;
  ob.height = 300;
  std::vector<double> counts(1024);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = double((i * 37) % 101);
  plot_bars(dir.file("bars.png"), counts, {}, ob);
  plot_bars(dir.file("bars_small.png"), {3, 1, 2}, {"a", "b", "c"}, ob);
  EXPECT_EQ(read_png(dir.file("bars.png")).width, 640);
  EXPECT_EQ(read_png(dir.file("bars_small.png")).height, 300);

  std::vector<double> x = {0, 1, 2, 3}, y = {1, 0, 1, 0};
  plot_scatter(dir.file("s.png"), x, y, {0, 1, 1, -1}, {"cat", "dog"}, o);
  EXPECT_EQ(read_png(dir.file("s.png")).width, 800);

  EXPECT_THROW(plot_lines(dir.file("e.png"), {Series{"x", {1, 2}, {1}}}, o), InputError);
  EXPECT_THROW(plot_lines(dir.file("e.png"), {Series{"x", {}, {}}}, o), InputError);
  EXPECT_THROW(plot_bars(dir.file("e.png"), {}, {}, o), InputError);
}

TEST(EvalProjection, Pca2dFindsTheSpreadDirections) {
  // Points spread along e0 (σ 5) and e1 (σ 2), tiny noise elsewhere; D = 6.
  auto gen = at::detail::createCPUGenerator(11);
  at::Tensor z = at::randn({200, 6}, gen) * torch::tensor({5.0f, 2.0f, 0.01f, 0.01f, 0.01f, 0.01f});
  at::Tensor p = pca_2d(z);
  ASSERT_EQ(p.size(0), 200);
  ASSERT_EQ(p.size(1), 2);
  at::Tensor zc = z - z.mean(0, true);
  // First component ≈ ±x0 and second ≈ ±x1 (sign fixed by convention → exact match up to sign).
  const double c0 = torch::cosine_similarity(p.select(1, 0), zc.select(1, 0), 0).item<double>();
  const double c1 = torch::cosine_similarity(p.select(1, 1), zc.select(1, 1), 0).item<double>();
  EXPECT_GT(std::abs(c0), 0.99);
  EXPECT_GT(std::abs(c1), 0.99);
  // PCA properties, checked against an eigen-decomposition of the covariance: the projected
  // columns are uncorrelated and their variances are the two largest eigenvalues.
  at::Tensor zd = zc.to(at::kDouble), pd = p.to(at::kDouble);
  at::Tensor eig = at::linalg_eigvalsh(at::matmul(zd.t(), zd));  // ascending
  EXPECT_NEAR((pd.select(1, 0) * pd.select(1, 0)).sum().item<double>() / eig[5].item<double>(), 1.0, 1e-4);
  EXPECT_NEAR((pd.select(1, 1) * pd.select(1, 1)).sum().item<double>() / eig[4].item<double>(), 1.0, 1e-4);
  EXPECT_NEAR((pd.select(1, 0) * pd.select(1, 1)).sum().item<double>() / eig[5].item<double>(), 0.0, 1e-5);
  EXPECT_TRUE(torch::equal(p, pca_2d(z)));
  // The randomised path (min(N, D) > 512) agrees with the exact one on the top-2 subspace.
  at::Tensor big = at::randn({600, 520}, gen) * 0.01;
  big.select(1, 0).mul_(500.0);
  big.select(1, 1).mul_(200.0);
  at::Tensor pb = pca_2d(big, 3);
  at::Tensor bc = big - big.mean(0, true);
  at::Tensor bd = bc.to(at::kDouble), pbd = pb.to(at::kDouble);
  at::Tensor beig = at::linalg_eigvalsh(at::matmul(bd.t(), bd));
  EXPECT_NEAR((pbd.select(1, 0) * pbd.select(1, 0)).sum().item<double>() / beig[519].item<double>(), 1.0, 1e-4);
  EXPECT_NEAR((pbd.select(1, 1) * pbd.select(1, 1)).sum().item<double>() / beig[518].item<double>(), 1.0, 1e-4);
  EXPECT_THROW(pca_2d(torch::ones({3})), InputError);
}

}  // namespace
}  // namespace cb::eval
