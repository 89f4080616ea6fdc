// probe.cpp — see probe.h. Features per modality:
//   vision: class ← 16×16 grey pixels; hue, lightness, texture ← 4×4×4 RGB histogram
//   audio : class ← log-spectrogram pooled to 32 bands × 16 frames; voice, accent, pitch ← mean log-spectrum (257)
//   text  : class, language, format ← hashed character 1–3-grams (1024)
//   imu   : class ← traces pooled to 6 × 64; orientation ← mean of the 6 channels; speed, noise ← signal stats
//   depth : class ← 16×16 disparity minus its median; distance, tilt ← 8×8 disparity
// Continuous attributes are probed as 3 quantile bins of the training values.
#include "data/probe.h"

#include "core/hash.h"

#include <atomic>
#include <thread>

#include "core/progress.h"
#include "data/readers.h"

namespace cb::data {

namespace {

using FeatFn = std::function<at::Tensor(const Item&)>;

at::Tensor features(const std::vector<const Item*>& items, const FeatFn& f) {
  std::vector<at::Tensor> out(items.size());
  std::atomic<size_t> next{0};
  auto work = [&]() {
    at::NoGradGuard ng;
    for (size_t k; (k = next.fetch_add(1)) < items.size();) out[k] = f(*items[k]).reshape({-1}).to(at::kFloat);
  };
  const unsigned nt = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < nt; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return at::stack(out);
}

// Targets for attribute `key` (or the class when key == ""): indices, number of values.
std::pair<at::Tensor, at::Tensor> targets(const std::vector<const Item*>& tr, const std::vector<const Item*>& te,
                                          const std::string& key, int64_t& k) {
  std::vector<int64_t> a, b;
  if (key.empty()) {
    for (auto* it : tr) a.push_back(it->label());
    for (auto* it : te) b.push_back(it->label());
    k = 0;
    for (auto v : a) k = std::max<int64_t>(k, v + 1);
    for (auto v : b) k = std::max<int64_t>(k, v + 1);
  } else if (!tr.empty() && tr[0]->attrs.contains(key) && tr[0]->attrs[key].is_string()) {
    std::map<std::string, int64_t> ids;
    for (auto* it : tr) ids.emplace(it->attrs.value(key, ""), 0);
    int64_t n = 0;
    for (auto& [v, i] : ids) i = n++;
    for (auto* it : tr) a.push_back(ids[it->attrs.value(key, "")]);
    for (auto* it : te) {
      auto f = ids.find(it->attrs.value(key, ""));
      b.push_back(f == ids.end() ? -1 : f->second);
    }
    k = n;
  } else {  // continuous: tercile bins of the training values
    std::vector<double> v;
    for (auto* it : tr) v.push_back(it->attrs.value(key, 0.0));
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    const double q1 = s[s.size() / 3], q2 = s[2 * s.size() / 3];
    auto bin = [&](double x) { return x < q1 ? 0 : x < q2 ? 1 : 2; };
    for (double x : v) a.push_back(bin(x));
    for (auto* it : te) b.push_back(bin(it->attrs.value(key, 0.0)));
    k = 3;
  }
  return {at::tensor(a), at::tensor(b)};
}

// Softmax regression on standardised features (full batch, Adam); returns test accuracy and chance.
std::pair<double, double> probe(const at::Tensor& xtr, const at::Tensor& ytr, const at::Tensor& xte,
                                const at::Tensor& yte, int64_t k, int steps) {
  const at::Tensor mu = xtr.mean(0), sd = xtr.std(0).clamp_min(1e-6);
  const at::Tensor a = (xtr - mu) / sd, b = (xte - mu) / sd;
  torch::manual_seed(0);
  torch::nn::Linear lin(a.size(1), k);
  torch::optim::Adam opt(lin->parameters(), torch::optim::AdamOptions(0.01).weight_decay(1e-3));
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    at::Tensor loss = at::cross_entropy_loss(lin(a), ytr);
    loss.backward();
    opt.step();
  }
  at::NoGradGuard ng;
  const at::Tensor pred = lin(b).argmax(1);
  const double acc = pred.eq(yte).to(at::kFloat).mean().item<double>();
  const at::Tensor counts = at::bincount(ytr, {}, k).to(at::kFloat);
  const double chance = (counts.max() / counts.sum()).item<double>();  // majority-class rate
  return {acc, chance};
}

at::Tensor pool2d(const at::Tensor& img, int64_t s) {  // (C,H,W) or (H,W) → flattened s×s pooled
  at::Tensor x = img.dim() == 2 ? img.unsqueeze(0) : img;
  return at::adaptive_avg_pool2d(x.unsqueeze(0), {s, s}).reshape({-1});
}

at::Tensor log_spectrogram(const at::Tensor& audio) {  // (C,T) → (257, frames)
  at::Tensor x = audio.mean(0);
  if (x.size(0) < 512) x = at::constant_pad_nd(x, {0, 512 - x.size(0)});
  at::Tensor fr = x.unfold(0, 512, 256) * at::hann_window(512);
  return at::log(at::fft_rfft(fr, c10::nullopt, 1).abs().pow(2) + 1e-8).t();
}

at::Tensor text_features(const std::string& s) {
  at::Tensor f = at::zeros({1024});
  const std::string t = "^" + s + "$";
  for (size_t n = 1; n <= 3; ++n)
    for (size_t i = 0; i + n <= t.size(); ++i) {
      const uint64_t h = fnv1a64(std::string_view(t).substr(i, n), kFnvOffset ^ n);
      f[static_cast<int64_t>(h % 1024)] += 1;
    }
  return f;
}

struct Task {
  std::string target;  // "" = class
  FeatFn feat;
  std::string feat_name;
};

std::vector<Task> tasks_for(Modality m) {
  switch (m) {
    case Modality::Vision: {
      auto pix = [](const Item& it) { return pool2d(read_item_tensor(it).mean(0), 16); };
      auto hist = [](const Item& it) {
        at::Tensor q = (read_item_tensor(it) * 3.999).floor().to(at::kLong);  // (3,H,W) in 0..3
        return at::bincount((q[0] * 16 + q[1] * 4 + q[2]).reshape({-1}), {}, 64).to(at::kFloat) /
               static_cast<double>(q[0].numel());
      };
      return {{"", pix, "16x16 grey pixels"},
              {"hue", hist, "RGB histogram 4x4x4"},
              {"lightness", hist, "RGB histogram 4x4x4"},
              {"texture", hist, "RGB histogram 4x4x4"}};
    }
    case Modality::Audio: {
      auto spec = [](const Item& it) { return pool2d(log_spectrogram(read_item_tensor(it)), 24); };
      auto mean_spec = [](const Item& it) {
        at::Tensor s = log_spectrogram(read_item_tensor(it));
        at::Tensor e = s.logsumexp(0);                       // frame energy
        at::Tensor w = (e - e.max()).gt(-6.0).to(at::kFloat);  // speech frames only
        return (s * w).sum(1) / w.sum().clamp_min(1.0);
      };
      return {{"", spec, "log-spectrogram 24x24"},
              {"voice", mean_spec, "mean log-spectrum of speech frames"},
              {"accent", mean_spec, "mean log-spectrum of speech frames"},
              {"pitch", mean_spec, "mean log-spectrum of speech frames"}};
    }
    case Modality::Text: {
      auto tf = [](const Item& it) { return text_features(it.text); };
      return {{"", tf, "hashed char 1-3-grams"},
              {"language", tf, "hashed char 1-3-grams"},
              {"format", tf, "hashed char 1-3-grams"}};
    }
    case Modality::Imu: {
      auto tr = [](const Item& it) {
        return at::adaptive_avg_pool1d(read_item_tensor(it).unsqueeze(0), 64).reshape({-1});
      };
      auto mean = [](const Item& it) { return read_item_tensor(it).mean(1); };
      auto stats = [](const Item& it) {
        at::Tensor x = read_item_tensor(it);
        at::Tensor d = x.diff(1, 1);
        return at::cat({x.std(1), d.std(1), d.abs().mean(1)});
      };
      return {{"", tr, "traces pooled to 6x64"},
              {"orientation", mean, "channel means"},
              {"style", tr, "traces pooled to 6x64"},
              {"noise", stats, "channel and difference std"},
              {"speed", stats, "channel and difference std"}};
    }
    case Modality::Depth:
    case Modality::Thermal: {
      auto shape = [](const Item& it) {
        at::Tensor d = read_item_tensor(it);
        return pool2d(d - d.median(), 16);
      };
      auto coarse = [](const Item& it) { return pool2d(read_item_tensor(it), 8); };
      return {{"", shape, "16x16 map minus median"},
              {"distance", coarse, "8x8 map"},
              {"tilt", coarse, "8x8 map"},
              {"relief", shape, "16x16 map minus median"}};
    }
    default:
      return {};
  }
}

}  // namespace

std::vector<std::string> run_probes(const Manifest& m, int steps) {
  std::vector<std::string> out;
  for (Modality mod : m.info().modalities) {
    auto tr = m.select(mod, "train");
    auto te = m.select(mod, "test");
    if (te.empty()) te = m.select(mod, "val");
    if (tr.empty() || te.empty()) continue;
    std::map<std::string, std::pair<at::Tensor, at::Tensor>> cache;  // features by name
    for (const auto& task : tasks_for(mod)) {
      if (!task.target.empty() && !tr[0]->attrs.contains(task.target)) continue;
      auto& f = cache[task.feat_name];
      if (!f.first.defined()) f = {features(tr, task.feat), features(te, task.feat)};
      int64_t k = 0;
      auto [ytr, yte] = targets(tr, te, task.target, k);
      if (k < 2) continue;
      auto [acc, chance] = probe(f.first, ytr, f.second, yte, k, steps);
      out.push_back(fmt::format("{} {}: acc {:.3f} (chance {:.3f}; {} values; {} train, {} test; {})",
                                modality_name(mod), task.target.empty() ? "class" : task.target, acc, chance, k,
                                tr.size(), te.size(), task.feat_name));
    }
  }
  return out;
}

}  // namespace cb::data
