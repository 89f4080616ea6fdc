// main.cpp — the `codebind` executable: global options, then one registered sub-command.
// Exit codes: 0 success, 1 internal error, 2 bad input (docs/reliability.md).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/allocator.h"
#include "core/threads.h"
#include "core/cpu_features.h"
#include "core/precision.h"
#include "index/search.h"
#include "quant/assign.h"

namespace cb::cli {

std::vector<Command>& commands() {
  static std::vector<Command> c;
  return c;
}

CommandRegistrar::CommandRegistrar(const std::string& name, const std::string& help, Setup setup) {
  commands().push_back(Command{name, help, std::move(setup)});
}

}  // namespace cb::cli

namespace {

// What `--version` and `--verbose` say about this machine: the CPU, its SIMD features and the
// kernel each run-time dispatcher picked (and which other variants the CPU could run).
std::string machine_report() {
  auto names = [](const auto& ks, auto name) {
    std::string s;
    for (auto k : ks) s += (s.empty() ? "" : ",") + std::string(name(k));
    return s;
  };
  const double probe = cb::bf16_probe_speedup();  // a few ms of timing: once
  return fmt::format(
      "cpu: {}\nsimd: {}\nkernels: assignment {} (runs: {}; the fastest SIMD one, timed at start), index scan {} (runs: {})\n"
      "bf16 on CPU: {}; --dtype auto = {}; probe (a 512-wide MLP block) bf16 = {}",
      cb::cpu_model(), cb::cpu_simd_features(), cb::assign_kernel_name(),
      names(cb::available_assign_kernels(), [](cb::AssignKernel k) { return cb::assign_kernel_name(k); }),
      cb::index::kernel_name(cb::index::Kernel::Auto),
      names(cb::index::available_kernels(), [](cb::index::Kernel k) { return cb::index::kernel_name(k); }),
      cb::cpu_has_avx512_core() ? (cb::cpu_has_avx512_bf16() ? "native (AVX512-BF16)" : "AVX-512 emulated")
                                : "scalar fallback (no AVX-512): use fp32",
      cb::precision_name(cb::choose_precision("auto", at::Device(at::kCPU), "--dtype").dtype),
      probe > 0 ? fmt::format("{:.2f}x fp32", probe) : "not timed");
}

}  // namespace

int main(int argc, char** argv) {
  cb::prefer_passive_openmp_wait(argv);
  CLI::App app{"codebind — CodeBind multimodal alignment with compositional codebooks (C++)"};
  app.set_version_flag("--version", [] { return std::string("codebind ") + CODEBIND_VERSION + "\n" + machine_report(); });
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();  // --help shows every option's default
  int threads = 0;
  bool quiet = false, verbose = false;
  app.add_option("--threads", threads, "intra-op threads (default: $CODEBIND_THREADS or all cores)");
  app.add_flag("-q,--quiet", quiet, "no progress bars, warnings only");
  app.add_flag("-v,--verbose", verbose, "debug logging");

  auto& cmds = cb::cli::commands();
  std::sort(cmds.begin(), cmds.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, cb::cli::Runner>> runners;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    runners.push_back({sub, c.setup(sub)});
  }
  // The first word that is not an option (or --threads' value) must name a command.
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads") ++i;
    if (a.empty() || a[0] == '-') continue;
    if (std::none_of(cmds.begin(), cmds.end(), [&](const auto& c) { return c.name == a; })) {
      std::string names;
      for (const auto& c : cmds) names += (names.empty() ? "" : ", ") + c.name;
      std::cerr << "codebind: error: unknown command '" << a << "' (commands: " << names
                << "; codebind --help lists them)\n";
      return 2;
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  spdlog::set_pattern("%^[%l]%$ %v");
  spdlog::set_level(verbose ? spdlog::level::debug : quiet ? spdlog::level::warn : spdlog::level::info);
  cb::ProgressBar::set_global_enabled(!quiet);
  if (verbose) {
    std::istringstream report(machine_report());
    for (std::string line; std::getline(report, line);) spdlog::debug("{}", line);
  }
  try {
    cb::configure_allocator();
    cb::configure_threads(threads);
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
  } catch (const cb::Error& e) {
    std::cerr << "codebind: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::cerr << "codebind: internal error (torch): " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "codebind: internal error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
