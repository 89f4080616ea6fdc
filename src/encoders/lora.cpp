// lora.cpp — creation, application, saving and loading of LoRA adapters (lora.h,
// docs/model.md §6.3).
#include "encoders/lora.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/ranges.h>

#include <cmath>
#include <set>

#include "core/error.h"

namespace cb {

LoraMode parse_lora_mode(const std::string& s) {
  if (s == "all") return LoraMode::All;
  if (s == "attn") return LoraMode::Attn;
  if (s == "attn_out") return LoraMode::AttnOut;
  fail_input("unknown LoRA mode '{}' (all, attn, attn_out)", s);
}

const char* lora_mode_name(LoraMode m) {
  switch (m) {
    case LoraMode::All: return "all";
    case LoraMode::Attn: return "attn";
    case LoraMode::AttnOut: return "attn_out";
  }
  return "?";
}


LoraAdapters LoraAdapters::create(Modality m, int64_t rank, std::vector<int64_t> blocks, LoraMode mode,
                                  const LoraTargetFn& targets, uint64_t seed) {
  CB_CHECK_INPUT(rank > 0, "LoRA rank must be positive, got {}", rank);
  std::set<int64_t> uniq(blocks.begin(), blocks.end());
  LoraAdapters a;
  a.modality = m;
  a.rank = rank;
  a.mode = mode;
  a.blocks.assign(uniq.begin(), uniq.end());
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (const LoraTarget& t : targets(a.blocks, mode)) {
    // A (r×in) "down" = 0; U (out×r) "up" = kaiming_uniform(a=√5): U(±1/√fan_in), fan_in = r.
    a.params[t.weight + "_lora_down"] = at::zeros({rank, t.in}, at::kFloat);
    const double bound = 1.0 / std::sqrt(double(rank));
    a.params[t.weight + "_lora_up"] = at::empty({t.out, rank}, at::kFloat).uniform_(-bound, bound, gen);
  }
  return a;
}

std::vector<std::string> LoraAdapters::targets() const {
  std::vector<std::string> out;
  const std::string suf = "_lora_down";
  for (const auto& [k, v] : params)
    if (k.size() > suf.size() && k.compare(k.size() - suf.size(), suf.size(), suf) == 0)
      out.push_back(k.substr(0, k.size() - suf.size()));
  return out;
}

at::Tensor LoraAdapters::apply(const std::string& weight_name, const at::Tensor& x, const at::Tensor& y) const {
  auto d = params.find(weight_name + "_lora_down");
  if (d == params.end()) return y;
  const at::Tensor& up = params.at(weight_name + "_lora_up");
  return y + at::linear(at::linear(x, d->second), up);  // y + U (A x)
}

NamedTensors LoraAdapters::named_params() const {
  NamedTensors out;
  for (const auto& [k, v] : params) out.emplace_back(k, v);
  return out;
}

void LoraAdapters::to(at::Device device, at::ScalarType dtype) {
  for (auto& [k, t] : params) {
    bool g = t.requires_grad();
    t = t.to(device, dtype);
    if (g && !t.requires_grad()) t = t.detach().requires_grad_(true);
  }
}

void LoraAdapters::save(const std::string& path) const {
  std::string bl;
  for (size_t i = 0; i < blocks.size(); ++i) bl += (i ? "," : "") + std::to_string(blocks[i]);
  NamedTensors ts;
  for (const auto& [k, v] : params) ts.emplace_back(k, v.detach().to(at::kCPU, at::kFloat));
  save_safetensors(path, ts,
                   {{"format", "codebind-lora/1"},
                    {"modality", modality_name(modality)},
                    {"rank", std::to_string(rank)},
                    {"mode", lora_mode_name(mode)},
                    {"blocks", bl}});
}

LoraAdapters LoraAdapters::load(const std::string& path, Modality expect, const LoraTargetFn& targets) {
  SafetensorsFile f(path);
  CB_CHECK_INPUT(f.meta("format") == "codebind-lora/1", "{}: not a codebind LoRA file (metadata format '{}')", path,
                 f.meta("format"));
  Modality m = parse_modality(f.meta("modality"), path + " metadata 'modality'");
  CB_CHECK_INPUT(m == expect, "{}: adapters are for '{}', the trunk is '{}'", path, modality_name(m),
                 modality_name(expect));
  LoraAdapters a;
  a.modality = m;
  try {
    a.rank = std::stoll(f.meta("rank"));
  } catch (const std::exception&) {
    fail_input("{}: metadata 'rank' is not an integer: '{}'", path, f.meta("rank"));
  }
  CB_CHECK_INPUT(a.rank > 0 && a.rank <= 4096, "{}: metadata 'rank' {} out of range", path, a.rank);
  a.mode = parse_lora_mode(f.meta("mode"));
  std::string bl = f.meta("blocks");
  size_t pos = 0;
  while (pos < bl.size()) {
    size_t e = bl.find(',', pos);
    if (e == std::string::npos) e = bl.size();
    try {
      a.blocks.push_back(std::stoll(bl.substr(pos, e - pos)));
    } catch (const std::exception&) {
      fail_input("{}: metadata 'blocks' is not a list of integers: '{}'", path, bl);
    }
    pos = e + 1;
  }
  std::vector<std::string> problems;
  std::set<std::string> expected;
  for (const LoraTarget& t : targets(a.blocks, a.mode)) {
    for (auto [suf, shape] : {std::pair<const char*, std::vector<int64_t>>{"_lora_down", {a.rank, t.in}},
                              std::pair<const char*, std::vector<int64_t>>{"_lora_up", {t.out, a.rank}}}) {
      const std::string k = t.weight + suf;
      expected.insert(k);
      if (!f.has(k)) {
        problems.push_back("missing " + k);
        continue;
      }
      at::Tensor v = f.get(k);
      if (v.sizes() != at::IntArrayRef(shape)) {
        problems.push_back(fmt::format("mis-shaped {} expected [{}] found [{}]", k, fmt::join(shape, ","),
                                       fmt::join(v.sizes(), ",")));
        continue;
      }
      a.params[k] = v.to(at::kFloat).clone();
    }
  }
  for (const auto& k : f.keys())
    if (!expected.count(k)) problems.push_back("unexpected " + k);
  if (!problems.empty()) fail_input("{}: LoRA file does not match the config: {}", path, fmt::join(problems, "; "));
  return a;
}

}  // namespace cb
