// bench_child.h — benchmarks that time the `codebind` CLI as child processes (huge_job, ddp):
// spawning with wall time and peak RSS, and reading per-step figures from metrics.jsonl.
#pragma once
#include <string>
#include <vector>

namespace cb::bench {

struct Child {
  int rc = -1;
  double seconds = 0;
  double peak_rss_gb = 0;
};

// Runs argv[0] with argv (this process's environment), stdout and stderr to `log`; the
// child's exit code, wall time and peak RSS.
Child run_child(const std::vector<std::string>& argv, const std::string& log);

// The `codebind` executable next to this benchmark binary.
std::string codebind_exe_beside();

// Every line's value of `key` in a metrics.jsonl (lines without it are skipped).
std::vector<double> metric_values(const std::string& metrics_jsonl, const std::string& key);

// Median (the upper one for an even count); 0 for an empty vector.
double median(std::vector<double> v);

}  // namespace cb::bench
