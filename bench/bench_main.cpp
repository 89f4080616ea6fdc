// bench_main.cpp — entry point of `codebind_bench`: lists and runs registered benchmarks.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench_registry.h"
#include "core/allocator.h"
#include "core/threads.h"

namespace cb::bench {
namespace {
struct Entry {
  std::string help;
  BenchFn fn;
};
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r;
  return r;
}
}  // namespace

BenchRegistrar::BenchRegistrar(const std::string& name, const std::string& help, BenchFn fn) {
  registry()[name] = Entry{help, std::move(fn)};
}

double median_seconds(int reps, const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < std::max(1, reps); ++i) {
    auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace cb::bench

int main(int argc, char** argv) {
  using namespace cb::bench;
  if (argc < 2 || std::string(argv[1]) == "--list" || std::string(argv[1]) == "--help") {
    std::printf("usage: codebind_bench NAME [threads=N] [key=value ...]\nbenchmarks:\n");
    for (auto& [k, e] : registry()) std::printf("  %-24s %s\n", k.c_str(), e.help.c_str());
    return argc < 2 ? 2 : 0;
  }
  auto it = registry().find(argv[1]);
  if (it == registry().end()) {
    std::fprintf(stderr, "codebind_bench: unknown benchmark '%s' (see --list)\n", argv[1]);
    return 2;
  }
  BenchArgs args;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "codebind_bench: argument '%s' is not key=value\n", a.c_str());
      return 2;
    }
    args.kv[a.substr(0, eq)] = a.substr(eq + 1);
  }
  cb::configure_allocator();
  int threads = cb::configure_threads(static_cast<int>(args.get_int("threads", 0)));
  std::printf("benchmark %s, threads %d\n", argv[1], threads);
  try {
    return it->second.fn(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "codebind_bench: %s\n", e.what());
    return 1;
  }
}
