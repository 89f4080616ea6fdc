// check.cpp — `codebind data check`: validates a whole dataset (manifest + every file through
// the trainer's readers) and summarises it (see manifest.h, check_dataset).
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"
#include "core/threads.h"
#include "core/progress.h"
#include "data/manifest.h"
#include "data/probe.h"
#include "data/readers.h"

namespace cb::data {

CheckSummary check_dataset(const std::string& dir, bool probe, int max_errors) {
  CheckSummary s;
  Manifest m;
  try {
    m = Manifest::load(dir);
  } catch (const InputError& e) {
    s.errors.push_back(e.what());
    return s;
  }
  const auto& info = m.info();
  s.name = info.name;
  s.items = static_cast<int64_t>(m.items().size());
  const int nc = m.num_classes();
  for (Modality mod : info.modalities) {
    const std::string mn = modality_name(mod);
    for (const char* sp : {"train", "val", "test"}) {
      auto sel = m.select(mod, sp);
      auto& c = s.counts[mn][sp];
      c.assign(static_cast<size_t>(nc), 0);
      for (const Item* it : sel)
        for (int l : it->labels) ++c[static_cast<size_t>(l)];
      if (sel.empty())
        s.errors.push_back(fmt::format("{}/items.jsonl: modality '{}' has an empty '{}' split", m.dir(), mn, sp));
    }
  }
  // Attributes: categorical value counts, continuous ranges.
  std::map<std::string, std::map<std::string, std::array<double, 4>>> ranges;  // min,max,sum,n
  for (const auto& it : m.items()) {
    const std::string mn = modality_name(it.modality);
    for (auto a = it.attrs.begin(); a != it.attrs.end(); ++a) {
      if (a.value().is_string()) {
        ++s.attr_values[mn][a.key()][a.value().get<std::string>()];
      } else {
        const double v = a.value().get<double>();
        auto& r = ranges[mn][a.key()];
        if (r[3] == 0) r = {v, v, 0, 0};
        r[0] = std::min(r[0], v), r[1] = std::max(r[1], v), r[2] += v, r[3] += 1;
      }
    }
  }
  for (auto& [mn, mm] : ranges)
    for (auto& [k, r] : mm) s.attr_ranges[mn][k] = {r[0], r[1], r[2] / r[3]};

  // Every file through the readers (threads; errors in item order).
  std::vector<const Item*> files;
  for (const auto& it : m.items())
    if (!it.file.empty()) files.push_back(&it);
  std::vector<std::string> errs(files.size());
  std::atomic<size_t> next{0};
  ProgressBar bar("check files", static_cast<int64_t>(files.size()));
  auto work = [&]() {
    for (size_t k; (k = next.fetch_add(1)) < files.size();) {
      try {
        read_item_tensor(*files[k]);
      } catch (const std::exception& e) {
        errs[k] = fmt::format("{}: {}", m.where(*files[k]), e.what());
      }
      bar.tick(1);
    }
  };
  const unsigned nt = static_cast<unsigned>(std::max(1, thread_count()));  // --threads / CODEBIND_THREADS
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < nt; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  bar.finish();
  for (const auto& e : errs)
    if (!e.empty()) s.errors.push_back(e);
  if (static_cast<int>(s.errors.size()) > max_errors) {
    const size_t extra = s.errors.size() - static_cast<size_t>(max_errors);
    s.errors.resize(static_cast<size_t>(max_errors));
    s.errors.push_back(fmt::format("… and {} more errors", extra));
  }
  if (probe && s.ok()) s.probe = run_probes(m);
  return s;
}

std::string CheckSummary::to_text() const {
  std::string out = fmt::format("dataset '{}': {} items\n", name, items);
  for (const auto& [mn, splits] : counts) {
    for (const auto& [sp, c] : splits) {
      int64_t tot = 0;
      for (auto v : c) tot += v;
      out += fmt::format("  {:<8} {:<5} {:>6} items  per class [{}]\n", mn, sp, tot, fmt::join(c, " "));
    }
  }
  for (const auto& [mn, attrs] : attr_values)
    for (const auto& [k, vals] : attrs) {
      std::string list;
      int shown = 0;
      for (const auto& [v, n] : vals) {
        if (shown++ == 12) {
          list += fmt::format(" …(+{})", vals.size() - 12);
          break;
        }
        list += fmt::format(" {}={}", v, n);
      }
      out += fmt::format("  attr {}.{}: {} values:{}\n", mn, k, vals.size(), list);
    }
  for (const auto& [mn, attrs] : attr_ranges)
    for (const auto& [k, r] : attrs)
      out += fmt::format("  attr {}.{}: min {:.4g} max {:.4g} mean {:.4g}\n", mn, k, r[0], r[1], r[2]);
  for (const auto& p : probe) out += "  probe " + p + "\n";
  out += errors.empty() ? "check: OK\n" : fmt::format("check: {} error(s) (listed on stderr)\n", errors.size());
  return out;
}

std::string CheckSummary::errors_text() const {
  std::string out;
  for (const auto& e : errors) out += "error: " + e + "\n";
  return out;
}

}  // namespace cb::data
