// test_report_summary.cpp — the report people read: the summary tables on hand-made metrics
// (zero-shot Δ, retrieval mean / worst Δ, private-detail probes next to chance, codebook usage),
// the report's order (summary before the full table), `eval --summary`, the HTML report
// (base64, sortable tables, embedded plots) and its rendering in a real headless browser.
#include <cstdlib>
#include <fstream>

#include "media/image_parse.h"
#include "report/html.h"
#include "report/summary.h"
#include "test_tiny_run.h"

namespace cb {
namespace {

using nlohmann::json;

json base_metrics() {
  return {{"zero_shot", {{"imu", {{"top1", 0.25}}}, {"audio", {{"top1", 0.5}}}}},
          {"retrieval", {{"audio->imu", {{"class", {{"r1", 0.4}}}}}, {"imu->audio", {{"class", {{"r1", 0.3}}}}}}},
          {"probes", {{"audio", {{"voice", {{"type", "categorical"}, {"majority", 0.2}, {"shared", {{"linear_acc", 0.5}}}}}}}}}};
}

json codebind_metrics() {
  return {{"zero_shot", {{"imu", {{"top1", 0.375}}}, {"audio", {{"top1", 0.5}}}}},
          {"retrieval", {{"audio->imu", {{"class", {{"r1", 0.45}}}}}, {"imu->audio", {{"class", {{"r1", 0.2}}}}}}},
          {"probes",
           {{"audio",
             {{"voice",
               {{"type", "categorical"},
                {"majority", 0.2},
                {"shared", {{"linear_acc", 0.25}}},
                {"specific", {{"linear_acc", 0.6}}},
                {"specific_raw", {{"linear_acc", 0.7}}}}},
              {"pitch", {{"type", "continuous"}, {"specific", {{"linear_r2", 0.5}}}, {"shared", {{"linear_r2", 0.1}}}}}}}}},
          {"codebook",
           {{"shared", {{"all", {{"used", 300}, {"K", 1024}, {"perplexity", 120.5}}}}},
            {"specific", {{"audio", {{"used", 40}, {"K", 256}, {"perplexity", 20.25}}}}}}}};
}

TEST(ReportSummary, TablesCarryTheClaimsWithHandComputedValues) {
  const std::string md = report::summary_markdown(base_metrics(), codebind_metrics());
  EXPECT_NE(md.find("| imu | 25.0 | 37.5 | +12.5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| audio | 50.0 | 50.0 | +0.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| mean | 37.5 | 43.8 | +6.2 |"), std::string::npos) << md;  // (25+50)/2, (37.5+50)/2
  // Retrieval: mean 35.0 → 32.5, worst Δ −10.0 on imu->audio, one pair lower.
  EXPECT_NE(md.find("| 2 | 35.0 | 32.5 | -2.5 | -10.0 (imu->audio) | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| audio | voice | accuracy % | 20.0 | 50.0 | 25.0 | 60.0 | 70.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| audio | pitch | R² | 0 | — | 0.100 | 0.500 | — |"), std::string::npos) << md;
  EXPECT_NE(md.find("| shared (all modalities) | 300 | 1024 | 120.5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| specific audio | 40 | 256 | 20.2 |"), std::string::npos) << md;
  // Zero-shot first, codebook last.
  EXPECT_LT(md.find("Zero-shot"), md.find("retrieval"));
  EXPECT_LT(md.find("Private detail"), md.find("Codebook usage"));
  // A run alone: no baseline columns.
  const std::string alone = report::summary_markdown(json(), codebind_metrics());
  EXPECT_NE(alone.find("| imu | 37.5 |"), std::string::npos) << alone;
  EXPECT_EQ(alone.find("baseline"), std::string::npos) << alone;
}

TEST(ReportSummary, TheReportOpensWithTheSummaryAndOrdersTheFullTable) {
  report::ReportInputs in;
  in.codebind = codebind_metrics();
  in.baseline = base_metrics();
  const std::string md = report::render_report(in);
  const size_t summary = md.find("## Summary"), full = md.find("## Full results");
  ASSERT_NE(summary, std::string::npos);
  ASSERT_NE(full, std::string::npos);
  EXPECT_LT(summary, full);
  // In the full table zero-shot rows come before retrieval, probes and codebook rows.
  const size_t zs = md.find("| zero-shot |", full), rt = md.find("| retrieval |", full), pr = md.find("| probe |", full),
               cbk = md.find("| codebook |", full);
  ASSERT_NE(cbk, std::string::npos);
  EXPECT_LT(zs, rt);
  EXPECT_LT(rt, pr);
  EXPECT_LT(pr, cbk);
}

TEST(ReportHtml, Base64AndASelfContainedSortablePage) {
  EXPECT_EQ(report::base64("Man"), "TWFu");
  EXPECT_EQ(report::base64("Ma"), "TWE=");
  EXPECT_EQ(report::base64("M"), "TQ==");
  EXPECT_EQ(report::base64(""), "");
  test::TempDir dir;
  Image img;
  img.width = 4, img.height = 3, img.channels = 3;
  img.pixels.assign(4 * 3 * 3, 200);
  write_png(dir.file("plot_a.png"), img);
  std::ifstream f(dir.file("plot_a.png"), std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(f)), {});
  report::ReportInputs in;
  in.title = "A <test> report";
  in.codebind = codebind_metrics();
  in.baseline = base_metrics();
  in.plots = {"plot_a.png", "plot_missing.png"};
  const std::string html = report::render_html(in, dir.str());
  EXPECT_NE(html.find("<title>A &lt;test&gt; report</title>"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64," + report::base64(png)), std::string::npos);
  EXPECT_NE(html.find("(plot plot_missing.png missing)"), std::string::npos);
  EXPECT_NE(html.find("<table class=\"sortable\">"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num pos\">+12.5</td>"), std::string::npos);
  EXPECT_LT(html.find("<h2>Summary</h2>"), html.find("<h2>Full results</h2>"));
  EXPECT_EQ(html.find("src=\"plot_a.png\""), std::string::npos) << "plots are embedded, not linked";
}

// Renders report.html in headless Chromium and checks the screenshot shows something: not
// blank, with the page's dark text on its light background.
TEST(ReportHtml, RendersInAHeadlessBrowser) {
  const char* candidates[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"};
  std::string browser;
  for (const char* c : candidates)
    if (std::filesystem::exists(c)) browser = c;
  if (browser.empty()) GTEST_SKIP() << "no Chromium (scripts/setup.sh installs it)";
  test::TempDir dir;
  report::ReportInputs in;
  in.codebind = codebind_metrics();
  in.baseline = base_metrics();
  report::write_html_report(dir.file("report.html"), in, dir.str());
  const std::string shot = dir.file("shot.png");
  const std::string cmd = "timeout 120 " + browser + " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars "
                          "--window-size=1000,800 --screenshot=" + shot + " file://" + dir.file("report.html") +
                          " > " + dir.file("browser.log") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << test::slurp(dir.file("browser.log"));
  ASSERT_TRUE(std::filesystem::exists(shot)) << test::slurp(dir.file("browser.log"));
  const Image img = to_rgb8(decode_image(shot));
  ASSERT_EQ(img.width, 1000);
  int64_t dark = 0, light = 0;
  for (size_t i = 0; i + 2 < img.pixels.size(); i += 3) {
    const int lum = (int(img.pixels[i]) + img.pixels[i + 1] + img.pixels[i + 2]) / 3;
    dark += lum < 100;
    light += lum > 200;
  }
  const int64_t px = int64_t(img.width) * img.height;
  EXPECT_GT(dark, px / 500) << "no text drawn";
  EXPECT_GT(light, px / 2) << "the page background is not there";
}

// `codebind eval --summary` prints the summary and nothing of the long table.
TEST(ReportSummary, EvalSummaryPrintsOnlyTheSummary) {
  const std::string run = test::tiny_one_epoch_run("summary_run");
  ASSERT_FALSE(run.empty());
  test::TempDir dir;
  const auto& f = test::tiny_fixture();
  ASSERT_EQ(test::run_codebind("eval --run " + run + " --data " + f.data + " --quiet --no-plots --summary",
                               dir.file("out")),
            0)
      << test::slurp(dir.file("out"));
  const std::string out = test::slurp(dir.file("out"));
  EXPECT_NE(out.find("## Summary"), std::string::npos) << out;
  EXPECT_NE(out.find("Zero-shot classification"), std::string::npos) << out;
  EXPECT_EQ(out.find("All metrics"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(run + "/report.html"));
}

}  // namespace
}  // namespace cb
