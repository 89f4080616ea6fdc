// progress.h — a small progress bar for long loops (epochs, embedding, generation).
//
// On a terminal it redraws one line with \r; otherwise (CI, pipes) it prints a plain line at
// most every `log_interval_s` seconds so logs stay short. Thread-safe `tick`.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace cb {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled = true);
  ~ProgressBar();

  // Advance by n items; `postfix` (e.g. live losses) replaces the previous one when non-empty.
  void tick(int64_t n = 1, const std::string& postfix = "");
  void set_postfix(const std::string& postfix);
  // Print the final line (called by the destructor if not called before).
  void finish();

  static void set_global_enabled(bool on);  // --quiet turns every bar off

 private:
  void draw(bool force);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  double log_interval_s_ = 10.0;
  std::string postfix_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mu_;
};

}  // namespace cb
