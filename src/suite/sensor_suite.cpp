// sensor_suite.cpp — orchestrates the sensor-suite generator (see sensor_suite.h): builds the
// item plan (modality × split × index, labels balanced), runs the per-modality generators on
// worker threads with one seeded generator per item, and writes dataset.json + items.jsonl.
#include "suite/sensor_suite.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/json_read.h"
#include "io/run_dir.h"
#include "core/progress.h"
#include "suite/suite_gen.h"
#include "io/mapped_file.h"

namespace fs = std::filesystem;

namespace cb::suite {

double cfg_lo(const nlohmann::json& r) {
  CB_CHECK_INPUT(r.is_array() && r.size() == 2 && r[0].is_number() && r[1].is_number(),
                 "sensor-suite config: expected a [lo, hi] range, got {}", r.dump());
  return r[0].get<double>();
}
double cfg_hi(const nlohmann::json& r) {
  cfg_lo(r);
  return r[1].get<double>();
}
int64_t cfg_int(const nlohmann::json& cfg, const char* section, const char* key, int64_t def, int64_t lo, int64_t hi) {
  if (!cfg.contains(key)) return def;
  return json_integer(cfg.at(key), "sensor-suite config", std::string(section) + "." + key, lo, hi);
}

std::vector<std::string> cfg_strings(const nlohmann::json& cfg, const char* key) {
  if (!cfg.contains(key)) return {};
  CB_CHECK_INPUT(cfg[key].is_array(), "sensor-suite config: '{}' must be an array of strings", key);
  std::vector<std::string> out;
  for (const auto& v : cfg[key]) {
    CB_CHECK_INPUT(v.is_string(), "sensor-suite config: '{}' must be an array of strings", key);
    out.push_back(v.get<std::string>());
  }
  return out;
}
double round_to(double v, int digits) {
  const double p = std::pow(10.0, digits);
  return std::round(v * p) / p;
}

nlohmann::json default_suite_config() {
  static const char* kText =
#include "suite/sensor_suite_default.inc"
      ;
  return nlohmann::json::parse(kText);
}

nlohmann::json load_suite_config(const std::string& path) {
  nlohmann::json cfg = default_suite_config();
  if (path.empty()) return cfg;
  std::ifstream f(path);
  CB_CHECK_INPUT(f.good(), "{}: cannot open config", path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    fail_input("{}: not valid JSON: {}", path, e.what());
  }
  CB_CHECK_INPUT(j.is_object(), "{}: config must be a JSON object", path);
  cfg.merge_patch(j);  // objects merge recursively; arrays and values replace
  return cfg;
}

namespace {

struct Job {
  size_t gen;          // generator index
  std::string split;
  int64_t index;       // index within the modality
  int label;
  std::string id, rel;  // id and relative file path ("" for text)
  double order;        // execution order key
  std::string group;   // instance pair ("" = none)
  Scene scene;         // the pair's shared geometry (scene.on = false: none)
};

}  // namespace

SuiteStats generate_sensor_suite(const SuiteOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  CB_CHECK_INPUT(!opt.out_dir.empty(), "sensor-suite: --out is required");
  nlohmann::json cfg = load_suite_config(opt.config_path);
  CB_CHECK_INPUT(cfg.contains("sizes") && cfg["sizes"].contains(opt.size),
                 "sensor-suite: size '{}' not in the config's 'sizes' (small, full)", opt.size);
  const auto classes = cfg_strings(cfg, "classes");
  CB_CHECK_INPUT(classes.size() == 10, "sensor-suite config: 'classes' must name the 10 digits");
  const auto modalities = cfg_strings(cfg, "modalities");
  const nlohmann::json& sizes = cfg["sizes"][opt.size];

  std::vector<std::unique_ptr<ModalityGenerator>> gens;
  for (const auto& m : modalities) {
    CB_CHECK_INPUT(cfg.contains(m), "sensor-suite config: no section for modality '{}'", m);
    if (m == "vision") gens.push_back(make_vision_generator(cfg[m]));
    else if (m == "audio") gens.push_back(make_audio_generator(cfg[m]));
    else if (m == "text") gens.push_back(make_text_generator(cfg[m]));
    else if (m == "imu") gens.push_back(make_imu_generator(cfg[m]));
    else if (m == "depth") {
      nlohmann::json d = cfg[m];
      d["_vision"] = cfg.at("vision");
      gens.push_back(make_depth_generator(d));
    } else
      fail_input("sensor-suite config: unknown modality '{}' (vision, audio, text, imu, depth)", m);
  }

  // The plan: per modality, per split, n items with labels i % 10 (balanced).
  std::vector<Job> jobs;
  const char* kSplits[3] = {"train", "val", "test"};
  for (size_t g = 0; g < gens.size(); ++g) {
    const std::string m = gens[g]->modality();
    const auto& n3 = sizes.at(m);
    CB_CHECK_INPUT(n3.is_array() && n3.size() == 3, "sensor-suite config: sizes.{}.{} must be [train, val, test]",
                   opt.size, m);
    int64_t n3v[3], total = 0;
    for (int s = 0; s < 3; ++s) {  // at least one item per class; at most 10 M per split
      n3v[s] = json_integer(n3[s], "sensor-suite config", fmt::format("sizes.{}.{}[{}]", opt.size, m, s), 10, 10000000);
      total += n3v[s];
    }
    int64_t idx = 0;
    for (int s = 0; s < 3; ++s) {
      const int64_t n = n3v[s];
      for (int64_t i = 0; i < n; ++i, ++idx) {
        Job j;
        j.gen = g;
        j.split = kSplits[s];
        j.index = idx;
        j.label = static_cast<int>(i % 10);
        j.id = fmt::format("{}-{}-{:05d}", m, kSplits[s], i);
        if (*gens[g]->extension()) j.rel = fmt::format("{}/{}/{}.{}", m, kSplits[s], j.id, gens[g]->extension());
        j.order = (idx + 0.5) / total;  // interleave modalities (audio synthesis is serialised)
        jobs.push_back(std::move(j));
      }
    }
  }
  // Instance pairs: the k-th item of a split of every `instance_pairs` modality shows one
  // scene (same class, same glyph geometry) and shares its group, for k below the smallest
  // of those modalities' split sizes.
  const auto paired = cfg_strings(cfg, "instance_pairs");
  for (const auto& m : paired)
    CB_CHECK_INPUT(std::find(modalities.begin(), modalities.end(), m) != modalities.end(),
                   "sensor-suite config: instance_pairs names '{}', which is not in 'modalities'", m);
  if (paired.size() >= 2)
    for (int s = 0; s < 3; ++s) {
      int64_t n = INT64_MAX;
      for (const auto& m : paired) n = std::min<int64_t>(n, sizes.at(m)[s].get<int64_t>());
      std::map<std::string, int64_t> seen;  // per modality: index within the split
      for (auto& j : jobs) {
        if (j.split != kSplits[s] || std::find(paired.begin(), paired.end(), gens[j.gen]->modality()) == paired.end())
          continue;
        const int64_t k = seen[gens[j.gen]->modality()]++;
        if (k >= n) continue;
        j.group = fmt::format("scene-{}-{:05d}", kSplits[s], k);
        j.scene = Scene::draw(data::mix_seed(opt.seed, 1000 + static_cast<uint64_t>(s), static_cast<uint64_t>(k)));
      }
    }
  for (size_t g = 0; g < gens.size(); ++g) {
    std::vector<PlanItem> plan;
    for (const auto& j : jobs)
      if (j.gen == g) plan.push_back({j.label, data::mix_seed(opt.seed, j.gen + 1, static_cast<uint64_t>(j.index))});
    gens[g]->prepare(plan);
  }
  create_output_dir(opt.out_dir);  // InputError naming the path when impossible
  for (const auto& j : jobs)
    if (!j.rel.empty()) fs::create_directories((fs::path(opt.out_dir) / j.rel).parent_path());

  std::vector<size_t> exec(jobs.size());
  for (size_t i = 0; i < exec.size(); ++i) exec[i] = i;
  std::stable_sort(exec.begin(), exec.end(), [&](size_t a, size_t b) { return jobs[a].order < jobs[b].order; });
  std::vector<GenResult> results(jobs.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::string first_error;
  std::mutex err_mu;
  ProgressBar bar("sensor-suite", static_cast<int64_t>(jobs.size()), opt.progress);
  auto worker = [&]() {
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k >= exec.size() || failed) return;
      const Job& j = jobs[exec[k]];
      data::SuiteRng rng(data::mix_seed(opt.seed, j.gen + 1, static_cast<uint64_t>(j.index)));
      try {
        results[exec[k]] =
            gens[j.gen]->make(j.label, j.index, rng, j.rel.empty() ? "" : (fs::path(opt.out_dir) / j.rel).string(), j.scene);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(err_mu);
        if (!failed.exchange(true)) first_error = fmt::format("{}: {}", j.id, e.what());
      }
      bar.tick(1);
    }
  };
  const int nt = opt.threads > 0 ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  bar.finish();
  if (failed) fail_input("sensor-suite: generation failed at {}", first_error);

  std::ostringstream items;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    nlohmann::json o = {{"id", j.id}, {"modality", gens[j.gen]->modality()}, {"split", j.split}, {"label", j.label}};
    if (j.rel.empty()) o["text"] = results[i].text;
    else o["file"] = j.rel;
    o["attrs"] = results[i].attrs;
    if (!j.group.empty()) o["group"] = j.group;
    items << o.dump() << "\n";
  }
  nlohmann::json ds = {{"version", 1},
                       {"name", cfg.value("name", "sensor-suite")},
                       {"classes", classes},
                       {"modalities", modalities},
                       {"templates", cfg.value("templates", nlohmann::json::array())},
                       {"generator", {{"seed", opt.seed}, {"size", opt.size}, {"config", cfg}}}};
  write_file_atomic((fs::path(opt.out_dir) / "items.jsonl").string(), items.str());
  write_file_atomic((fs::path(opt.out_dir) / "dataset.json").string(), ds.dump(2) + "\n");

  SuiteStats st;
  st.items = static_cast<int64_t>(jobs.size());
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t g = 0; g < gens.size(); ++g) {
    int64_t n = 0;
    for (const auto& j : jobs) n += j.gen == g;
    st.summary += fmt::format("  {}: {} items\n", gens[g]->modality(), n);
  }
  return st;
}

}  // namespace cb::suite
