// bench_registry.h — how a benchmark registers itself in the one `codebind_bench` executable.
// Each bench/bench_<area>.cpp defines `int fn(const BenchArgs&)` and CB_REGISTER_BENCH("name", fn).
// Run `codebind_bench --list`, `codebind_bench NAME [key=value ...]`.
// A benchmark runs contender and baseline in the same process and prints their ratio.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <string>

namespace cb::bench {

struct BenchArgs {
  std::map<std::string, std::string> kv;  // key=value pairs from the command line
  long get_int(const std::string& k, long def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::stol(it->second);
  }
  double get_double(const std::string& k, double def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : std::stod(it->second);
  }
  std::string get(const std::string& k, const std::string& def) const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
};

using BenchFn = std::function<int(const BenchArgs&)>;

struct BenchRegistrar {
  BenchRegistrar(const std::string& name, const std::string& help, BenchFn fn);
};

// Median wall time in seconds of `reps` calls of fn (after one warm-up call).
double median_seconds(int reps, const std::function<void()>& fn);

}  // namespace cb::bench

#define CB_REGISTER_BENCH(name, help, fn) static ::cb::bench::BenchRegistrar cb_bench_registrar_##fn(name, help, fn)
