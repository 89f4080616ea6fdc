// progress.cpp — see progress.h.
#include "core/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace cb {
namespace {
std::atomic<bool> g_enabled{true};

std::string format_seconds(double s) {
  if (s < 0 || s > 1e7) return "?";
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t / 60) % 60);
  return fmt::format("{:d}:{:02d}", t / 60, t % 60);
}
}  // namespace

void ProgressBar::set_global_enabled(bool on) { g_enabled = on; }

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && g_enabled), tty_(isatty(2)) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (const char* e = std::getenv("CODEBIND_PROGRESS_INTERVAL")) log_interval_s_ = std::atof(e);
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::tick(int64_t n, const std::string& postfix) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  if (!postfix.empty()) postfix_ = postfix;
  draw(false);
}

void ProgressBar::set_postfix(const std::string& postfix) {
  std::lock_guard<std::mutex> lock(mu_);
  postfix_ = postfix;
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  draw(true);
  if (enabled_ && tty_) std::fputc('\n', stderr);
}

void ProgressBar::draw(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (!force && since < (tty_ ? 0.1 : log_interval_s_)) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  double eta = (rate > 0 && total_ > 0) ? (total_ - done_) / rate : -1;
  std::string bar;
  if (total_ > 0) {
    const int width = 24;
    int filled = static_cast<int>(width * std::min<double>(1.0, double(done_) / total_));
    bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  }
  std::string line = fmt::format("{} {} {}/{} {:.1f}/s {} eta {}{}{}", label_, bar, done_,
                                 total_ > 0 ? std::to_string(total_) : std::string("?"), rate,
                                 format_seconds(elapsed), format_seconds(eta),
                                 postfix_.empty() ? "" : " | ", postfix_);
  if (tty_) {
    std::fprintf(stderr, "\r%-110s", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace cb
