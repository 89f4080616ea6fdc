// plot.cpp — line, bar and scatter plots on a Canvas (plot.h). Layout: title on top, y axis
// with ticks on the left, x axis with ticks at the bottom, legend box at the top right.
#include "report/plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "report/raster.h"

namespace cb::report {

namespace {

constexpr Rgb kInk{0, 0, 0}, kGrid{225, 225, 225}, kWhite{255, 255, 255};
constexpr int kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;

// Data → pixel mapping of the plot area.
struct Frame {
  int x0, y0, x1, y1;           // plot area in pixels (x0,y0 top-left)
  double xlo, xhi, ylo, yhi;    // data range
  int px(double x) const { return x0 + int(std::lround((x - xlo) / (xhi - xlo) * double(x1 - x0))); }
  int py(double y) const { return y1 - int(std::lround((y - ylo) / (yhi - ylo) * double(y1 - y0))); }
};

void widen(double& lo, double& hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) lo -= 0.5, hi += 0.5;
}

// Axes, grid, ticks, labels and title; returns the frame. `ylog` labels ticks as 10^t.
Frame draw_axes(Canvas& c, const PlotOptions& opt, double xlo, double xhi, double ylo, double yhi, bool ylog,
                bool xticks = true) {
  widen(xlo, xhi);
  widen(ylo, yhi);
  const std::vector<double> xt = nice_ticks(xlo, xhi, 6), yt = nice_ticks(ylo, yhi, 6);
  // Extend the range to whole ticks so the data sits inside the grid.
  if (xticks && !xt.empty()) xlo = std::min(xlo, xt.front()), xhi = std::max(xhi, xt.back());
  if (!yt.empty()) ylo = std::min(ylo, yt.front()), yhi = std::max(yhi, yt.back());
  Frame f{kLeft, kTop, c.width() - kRight, c.height() - kBottom, xlo, xhi, ylo, yhi};
  for (double t : yt) {
    const int y = f.py(t);
    c.line(f.x0, y, f.x1, y, kGrid);
    const std::string s = ylog ? tick_label(std::pow(10.0, t)) : tick_label(t);
    c.text(f.x0 - 6 - Canvas::text_width(s), y - 3, s, kInk);
  }
  if (xticks)
    for (double t : xt) {
      const int x = f.px(t);
      c.line(x, f.y0, x, f.y1, kGrid);
      const std::string s = tick_label(t);
      c.text(x - Canvas::text_width(s) / 2, f.y1 + 6, s, kInk);
    }
  c.rect_outline(f.x0, f.y0, f.x1, f.y1, kInk);
  if (!opt.title.empty()) c.text((c.width() - Canvas::text_width(opt.title, 2)) / 2, 12, opt.title, kInk, 2);
  if (!opt.xlabel.empty())
    c.text((f.x0 + f.x1 - Canvas::text_width(opt.xlabel)) / 2, c.height() - 18, opt.xlabel, kInk);
  if (!opt.ylabel.empty()) c.text(8, (f.y0 + f.y1 + Canvas::text_width(opt.ylabel)) / 2, opt.ylabel, kInk, 1, true);
  return f;
}

void draw_legend(Canvas& c, const Frame& f, const std::vector<std::string>& names, const std::vector<Rgb>& colours) {
  if (names.empty()) return;
  int wmax = 0;
  for (const auto& n : names) wmax = std::max(wmax, Canvas::text_width(n));
  const int w = wmax + 30, h = int(names.size()) * 12 + 8;
  const int x0 = f.x1 - w - 6, y0 = f.y0 + 6;
  c.rect(x0, y0, x0 + w, y0 + h, kWhite);
  c.rect_outline(x0, y0, x0 + w, y0 + h, kInk);
  for (size_t i = 0; i < names.size(); ++i) {
    const int y = y0 + 5 + int(i) * 12;
    c.rect(x0 + 6, y + 1, x0 + 18, y + 6, colours[i]);
    c.text(x0 + 24, y, names[i], kInk);
  }
}

void check_size(const PlotOptions& opt) {
  CB_CHECK_INPUT(opt.width >= kLeft + kRight + 40 && opt.height >= kTop + kBottom + 40 && opt.width <= 8192 &&
                     opt.height <= 8192,
                 "plot: size {}×{} too small or too large", opt.width, opt.height);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi <= lo || target < 1) return {};
  const double raw = (hi - lo) / double(target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) { step = m * mag; break; }
  std::vector<double> out;
  const double first = std::floor(lo / step + 1e-9);
  for (double i = first; i * step <= hi + step * 1e-9 + step * 0.999 && out.size() < 64; i += 1.0) {
    double v = i * step;
    if (std::abs(v) < step * 1e-9) v = 0.0;
    out.push_back(v);
    if (v >= hi - step * 1e-9) break;
  }
  return out;
}

std::string tick_label(double v) {
  if (v == 0.0 || std::abs(v) < 1e-12) return "0";
  const double a = std::abs(v);
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.0e}", v);
  return fmt::format("{:.4g}", v);
}

void plot_lines(const std::string& path, const std::vector<Series>& series, const PlotOptions& opt) {
  check_size(opt);
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  size_t points = 0;
  auto ty = [&](double y) { return opt.log_y ? (y > 0 ? std::log10(y) : std::nan("")) : y; };
  for (const auto& s : series) {
    CB_CHECK_INPUT(s.x.size() == s.y.size(), "plot '{}': series '{}' has {} x values and {} y values", path, s.name,
                   s.x.size(), s.y.size());
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double y = ty(s.y[i]);
      if (!std::isfinite(s.x[i]) || !std::isfinite(y)) continue;
      xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
      ++points;
    }
  }
  CB_CHECK_INPUT(points > 0, "plot '{}': no finite points to draw", path);
  Canvas c(opt.width, opt.height);
  Frame f = draw_axes(c, opt, xlo, xhi, ylo, yhi, opt.log_y);
  std::vector<std::string> names;
  std::vector<Rgb> colours;
  for (size_t k = 0; k < series.size(); ++k) {
    const Rgb col = palette_color(int(k));
    bool have_prev = false;
    int px = 0, py = 0;
    for (size_t i = 0; i < series[k].x.size(); ++i) {
      const double y = ty(series[k].y[i]);
      if (!std::isfinite(series[k].x[i]) || !std::isfinite(y)) { have_prev = false; continue; }
      const int x1 = f.px(series[k].x[i]), y1 = f.py(y);
      if (have_prev) c.line(px, py, x1, y1, col, 2); else c.disc(x1, y1, 1, col);
      px = x1, py = y1, have_prev = true;
    }
    if (!series[k].name.empty()) names.push_back(series[k].name), colours.push_back(col);
  }
  draw_legend(c, f, names, colours);
  c.write_png(path);
}

void plot_bars(const std::string& path, const std::vector<double>& values, const std::vector<std::string>& labels,
               const PlotOptions& opt) {
  check_size(opt);
  CB_CHECK_INPUT(!values.empty(), "plot '{}': no bars to draw", path);
  CB_CHECK_INPUT(labels.empty() || labels.size() == values.size(), "plot '{}': {} labels for {} bars", path,
                 labels.size(), values.size());
  double lo = 0, hi = 0;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  Canvas c(opt.width, opt.height);
  const size_t n = values.size();
  Frame f = draw_axes(c, opt, 0.0, double(n), lo, hi, false, /*xticks=*/false);
  const double bw = double(f.x1 - f.x0) / double(n);
  const int label_w = labels.empty() ? 0 : Canvas::text_width(*std::max_element(
      labels.begin(), labels.end(), [](const std::string& a, const std::string& b) { return a.size() < b.size(); }));
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) continue;
    const int xa = f.x0 + int(std::floor(double(i) * bw)) + (bw >= 4 ? 1 : 0);
    const int xb = std::max(xa, f.x0 + int(std::floor(double(i + 1) * bw)) - (bw >= 4 ? 1 : 0));
    c.rect(xa, f.py(0.0), xb, f.py(values[i]), palette_color(0));
    if (!labels.empty() && bw >= double(label_w + 2))
      c.text((xa + xb - Canvas::text_width(labels[i])) / 2, f.y1 + 6, labels[i], kInk);
  }
  if (labels.empty() || bw < double(label_w + 2)) {  // sparse index ticks instead
    for (double t : nice_ticks(0.0, double(n), 8)) {
      const int x = f.x0 + int(std::lround(t * bw));
      c.line(x, f.y1, x, f.y1 + 3, kInk);
      c.text(x - Canvas::text_width(tick_label(t)) / 2, f.y1 + 6, tick_label(t), kInk);
    }
  }
  c.rect_outline(f.x0, f.y0, f.x1, f.y1, kInk);
  c.write_png(path);
}

void plot_scatter(const std::string& path, const std::vector<double>& x, const std::vector<double>& y,
                  const std::vector<int>& category, const std::vector<std::string>& category_names,
                  const PlotOptions& opt) {
  check_size(opt);
  CB_CHECK_INPUT(x.size() == y.size() && (category.empty() || category.size() == x.size()),
                 "plot '{}': {} x, {} y and {} categories", path, x.size(), y.size(), category.size());
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i]))
      xlo = std::min(xlo, x[i]), xhi = std::max(xhi, x[i]), ylo = std::min(ylo, y[i]), yhi = std::max(yhi, y[i]);
  CB_CHECK_INPUT(std::isfinite(xlo), "plot '{}': no finite points to draw", path);
  Canvas c(opt.width, opt.height);
  Frame f = draw_axes(c, opt, xlo, xhi, ylo, yhi, false);
  for (size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i]))
      c.disc(f.px(x[i]), f.py(y[i]), 2, palette_color(category.empty() ? 0 : category[i]));
  std::vector<std::string> names;
  std::vector<Rgb> colours;
  for (size_t k = 0; k < category_names.size() && k < 12; ++k)
    names.push_back(category_names[k]), colours.push_back(palette_color(int(k)));
  draw_legend(c, f, names, colours);
  c.write_png(path);
}

}  // namespace cb::report
