// cmd_parity.cpp — `codebind parity DIR [--group G]`: compares every fixture group found in
// DIR against codebind's implementation; one line per check, exit 1 if any check fails.
#include <filesystem>

#include "cli/command.h"
#include "core/error.h"
#include "app/parity_groups.h"

namespace {

cb::cli::Runner setup_parity(CLI::App* app) {
  auto dir = std::make_shared<std::string>();
  auto groups = std::make_shared<std::vector<std::string>>();
  auto failures_only = std::make_shared<bool>(false);
  app->add_option("dir", *dir, "fixture directory laid out like shared/fixtures")->required();
  app->add_option("--group", *groups, "only these groups (default: every registered group found)");
  app->add_flag("--failures-only", *failures_only, "print only failing checks");
  return [=]() {
    CB_CHECK_INPUT(std::filesystem::is_directory(*dir), "{}: not a directory", *dir);
    auto names = groups->empty() ? cb::parity_groups() : *groups;
    int total = 0, failed = 0, groups_run = 0;
    for (const auto& g : names) {
      if (!std::filesystem::is_directory(std::filesystem::path(*dir) / g)) {
        fmt::print("{}: no {}/ folder, skipped\n", g, g);
        continue;
      }
      ++groups_run;
      cb::ParityReport r = cb::run_parity_group(g, *dir);
      for (const auto& c : r.checks()) {
        ++total;
        if (!c.pass) ++failed;
        if (*failures_only && c.pass) continue;
        fmt::print("{} {}/{}: {} {:.3g} (tol {:.3g}){}\n", c.pass ? "PASS" : "FAIL", c.group, c.name,
                   c.metric, c.error, c.tolerance, c.note.empty() ? "" : "  " + c.note);
      }
    }
    fmt::print("parity: {} checks in {} groups, {} passed, {} failed\n", total, groups_run, total - failed,
               failed);
    if (total == 0) {
      fmt::print("parity: no checks ran (no known fixture group in {})\n", *dir);
      return 1;
    }
    return failed == 0 ? 0 : 1;
  };
}

CB_REGISTER_COMMAND("parity", "compare against golden fixtures (codebind/, imagebind/, preprocess/)",
                    setup_parity);

}  // namespace
