// bench_child.cpp — see bench_child.h.
#include "bench_child.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

extern char** environ;

namespace cb::bench {

Child run_child(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  Child c;
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, a[0], &fa, nullptr, a.data(), environ) != 0) return c;
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  c.peak_rss_gb = double(ru.ru_maxrss) * 1024.0 / 1e9;  // ru_maxrss is in KiB
  posix_spawn_file_actions_destroy(&fa);
  return c;
}

std::string codebind_exe_beside() {
  return (std::filesystem::canonical("/proc/self/exe").parent_path() / "codebind").string();
}

std::vector<double> metric_values(const std::string& metrics_jsonl, const std::string& key) {
  std::vector<double> out;
  std::ifstream in(metrics_jsonl);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    if (j.contains(key)) out.push_back(j[key].get<double>());
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace cb::bench
