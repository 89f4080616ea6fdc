// threads.cpp — see threads.h.
#include "core/threads.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include <unistd.h>

#include <ATen/Parallel.h>

#include "core/error.h"

namespace cb {
namespace {
int g_threads = 0;
}

int max_threads() {
  const int hc = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(16, 4 * hc);
}

int configure_threads(int requested) {
  const int cap = max_threads();
  CB_CHECK_INPUT(requested >= 0 && requested <= cap,
                 "--threads {}: expected 0 (all cores) to {} (4x the {} cores here, at least 16)", requested, cap,
                 std::thread::hardware_concurrency());
  int n = requested;
  if (n == 0) {
    if (const char* env = std::getenv("CODEBIND_THREADS")) {
      char* end = nullptr;
      const long v = std::strtol(env, &end, 10);
      CB_CHECK_INPUT(end != env && *end == '\0' && v >= 0 && v <= cap,
                     "CODEBIND_THREADS={}: expected an integer from 0 (all cores) to {}", env, cap);
      n = static_cast<int>(v);
    }
  }
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  torch::set_num_threads(n);
  g_threads = n;
  return n;
}

int parallel_for_width(int64_t n) {
  std::mutex mu;
  std::set<std::thread::id> ids;
  at::parallel_for(0, n, 1, [&](int64_t, int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // let every worker take a share
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  return static_cast<int>(ids.size());
}

int thread_count() {
  if (g_threads > 0) return g_threads;
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

}  // namespace cb

namespace cb {

void prefer_passive_openmp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  ::setenv("OMP_WAIT_POLICY", "passive", 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: carry on with the default
}

}  // namespace cb
