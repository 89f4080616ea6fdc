// checkpoint.cpp — see checkpoint.h.
#include "train/checkpoint.h"

#include "core/error.h"
#include "io/finite_check.h"
#include "core/json_read.h"

namespace cb {

nlohmann::json TrainState::to_json() const {
  return {{"epoch", epoch}, {"step_in_epoch", step_in_epoch}, {"global_step", global_step}, {"balancer", balancer}};
}

TrainState TrainState::from_json(const nlohmann::json& j) {
  TrainState s;
  const std::string where = "checkpoint state";
  s.epoch = static_cast<int>(json_integer(j.at("epoch"), where, "epoch", 0, 1000000));
  s.step_in_epoch = json_integer(j.at("step_in_epoch"), where, "step_in_epoch", 0, range_hi<int64_t>());
  s.global_step = json_integer(j.at("global_step"), where, "global_step", 0, range_hi<int64_t>());
  s.balancer = j.value("balancer", nlohmann::json());
  return s;
}

void save_checkpoint(const std::string& path, const NamedTensors& model, const NamedTensors& extra,
                     const torch::Tensor& rng_state, const TrainState& state, const nlohmann::json& config) {
  NamedTensors all;
  all.reserve(model.size() + extra.size() + 1);
  for (const auto& [n, t] : model) all.emplace_back("model." + n, t.detach());
  for (const auto& [n, t] : extra) all.emplace_back(n, t.detach());
  if (rng_state.defined()) all.emplace_back("rng.state", rng_state);
  save_safetensors(path, all, {{"config", config.dump()}, {"state", state.to_json().dump()}, {"format", "codebind-checkpoint-1"}});
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  LoadedCheckpoint c;
  c.file = std::make_unique<SafetensorsFile>(path);
  CB_CHECK_INPUT(c.file->meta("format") == "codebind-checkpoint-1", "{}: not a codebind training checkpoint", path);
  c.file->verify_checksum();
  try {
    c.config = nlohmann::json::parse(c.file->meta("config"));
    c.state = TrainState::from_json(nlohmann::json::parse(c.file->meta("state")));
  } catch (const std::exception& e) {
    fail_input("{}: bad checkpoint metadata: {}", path, e.what());
  }
  if (c.file->has("rng.state")) c.rng_state = c.file->get("rng.state").clone();
  return c;
}

void LoadedCheckpoint::restore_model(const NamedTensors& model) const {
  torch::NoGradGuard ng;
  for (const auto& [n, t] : model) {
    auto src = file->get("model." + n, t.sizes());
    check_finite(src, file->path(), "model." + n);
    const_cast<torch::Tensor&>(t).copy_(src);
  }
}

}  // namespace cb
