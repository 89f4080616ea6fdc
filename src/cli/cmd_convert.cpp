// cmd_convert.cpp — `codebind convert IN OUT.safetensors [--config huge|FILE.json]
// [--dtype f32|f16|bf16]`: rewrites a weight file (.pth as published, or safetensors) as a
// self-describing safetensors: tensors in the input's order, the model config JSON in the
// metadata key `config` (without --config the input's metadata is carried over). Written
// atomically; a progress bar ticks once per tensor.
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cli/command.h"
#include "core/error.h"
#include "core/progress.h"
#include "io/safetensors.h"
#include "encoders/imagebind/imagebind_config.h"
#include "io/weights.h"

namespace {

// The model config to embed: "huge" (the built-in ImageBind-Huge preset) or a JSON file with
// the fixtures' config schema, validated by ImageBindConfig and stored in canonical form.
std::string config_json(const std::string& arg) { return cb::ImageBindConfig::from_arg(arg).to_json().dump(); }

cb::cli::Runner setup_convert(CLI::App* app) {
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>();
  app->add_option("in", *in, "input weights: .pth (torch.save state_dict) or .safetensors")->required();
  app->add_option("out", *out, "output .safetensors")->required();
  app->add_option("--config", *config, "model config stored in metadata 'config': huge or FILE.json");
  app->add_option("--dtype", *dtype, "cast floating tensors to f32, f16 or bf16 (default: keep)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  return [=]() {
    cb::WeightFile w(*in);
    std::map<std::string, std::string> meta = w.metadata();
    if (!config->empty()) meta["config"] = config_json(*config);
    std::optional<at::ScalarType> cast;
    if (*dtype == "f32") cast = at::kFloat;
    if (*dtype == "f16") cast = at::kHalf;
    if (*dtype == "bf16") cast = at::kBFloat16;
    auto keys = w.keys();
    cb::NamedTensors tensors;
    tensors.reserve(keys.size());
    int64_t bytes = 0;
    {
      cb::ProgressBar bar("convert", int64_t(keys.size()));
      for (const auto& k : keys) {
        at::Tensor t = w.get(k);
        if (cast && at::isFloatingType(t.scalar_type())) t = t.to(*cast);
        bytes += int64_t(t.nbytes());
        tensors.emplace_back(k, t);
        bar.tick();
      }
    }
    cb::save_safetensors(*out, tensors, meta);
    fmt::print("convert: {} tensors, {:.1f} MB -> {}\n", tensors.size(), double(bytes) / 1e6, *out);
    return 0;
  };
}

}  // namespace

CB_REGISTER_COMMAND("convert", "convert weights (.pth or safetensors) to a self-describing safetensors",
                    setup_convert);
