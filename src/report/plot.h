// plot.h — dependency-light PNG plots for the evaluation report: line plots (training
// curves, several series, axes, ticks, legend), bar plots (codebook usage), and 2-D scatter
// plots coloured by a category (class or private attribute). Output is deterministic: the
// same inputs give byte-identical PNG files.
#pragma once
#include <string>
#include <vector>

namespace cb::report {

struct PlotOptions {
  std::string title;
  std::string xlabel, ylabel;
  int width = 800, height = 500;
  bool log_y = false;  // line plots: logarithmic y (non-positive values skipped)
};

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite points are skipped
};

// Line plot of several series (one colour each, legend top-right). Throws InputError when
// every series is empty or x/y lengths differ.
void plot_lines(const std::string& path, const std::vector<Series>& series, const PlotOptions& opt);

// Bar plot: one bar per value (e.g. code usage counts sorted or by id); labels optional
// (drawn under the bars when they fit).
void plot_bars(const std::string& path, const std::vector<double>& values,
               const std::vector<std::string>& labels, const PlotOptions& opt);

// Scatter of points (x[i], y[i]) coloured by category[i] (palette index; −1 = grey); the
// legend lists category_names (when given, at most 12 entries are shown).
void plot_scatter(const std::string& path, const std::vector<double>& x, const std::vector<double>& y,
                  const std::vector<int>& category, const std::vector<std::string>& category_names,
                  const PlotOptions& opt);

// "Nice" axis ticks covering [lo, hi] (1-2-5 steps), at most about `target` ticks.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
// Short tick label ("0.25", "1e+04", "1200").
std::string tick_label(double v);

}  // namespace cb::report
