// cmd_convert.cpp — `codebind convert IN OUT.safetensors [--config huge|FILE.json]
// [--dtype f32|f16|bf16]`: rewrites a weight file (.pth as published, or safetensors) as a
// self-describing safetensors: tensors in the input's order, the model config JSON in the
// metadata key `config` (without --config the input's metadata is carried over). Written
// atomically; a progress bar ticks once per tensor.
// `codebind convert --codebind-release DIR --bridge FILE --out RUN [--postfix _best|_last]
// [--force]`: imports an official CodeBind release checkpoint folder as a run
// (app/codebind_release.h).
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "app/codebind_release.h"
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
  auto release = std::make_shared<std::string>();
  auto bridge = std::make_shared<std::string>();
  auto postfix = std::make_shared<std::string>("_best");
  auto run = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  app->add_option("in", *in, "input weights: .pth (torch.save state_dict) or .safetensors");
  app->add_option("out", *out, "output .safetensors");
  app->add_option("--config", *config, "model config stored in metadata 'config': huge or FILE.json");
  app->add_option("--dtype", *dtype, "cast floating tensors to f32, f16 or bf16 (default: keep)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  app->add_option("--codebind-release", *release,
                  "import an official CodeBind checkpoint folder (imagebind-<module>-<modality>_best.pth, ...) as a run");
  app->add_option("--bridge", *bridge, "with --codebind-release: the ImageBind weights it was trained on (imagebind_huge.pth)");
  app->add_option("--postfix", *postfix, "with --codebind-release: which checkpoint, _best (default) or _last")
      ->check(CLI::IsMember({"_best", "_last"}));
  app->add_option("--out", *run, "with --codebind-release: the run folder to write (model.safetensors, config.json)");
  app->add_flag("--force", *force, "with --codebind-release: replace a previous run in --out");
  return [=]() {
    if (!release->empty()) {
      CB_CHECK_INPUT(in->empty() && out->empty() && config->empty() && dtype->empty(),
                     "convert --codebind-release takes no IN/OUT, --config or --dtype: the run folder is --out RUN");
      CB_CHECK_INPUT(!bridge->empty(), "convert --codebind-release needs --bridge FILE (e.g. imagebind_huge.pth)");
      CB_CHECK_INPUT(!run->empty(), "convert --codebind-release needs --out RUN");
      const cb::ReleaseImport r = cb::import_codebind_release(*release, *bridge, *postfix, *run, *force);
      for (const std::string& n : r.notes) fmt::print(stderr, "convert: note: {}\n", n);
      const cb::ModelConfig& c = r.model->config();
      fmt::print("convert: CodeBind release {} ({}): {} tensors from {} files, {} model ({}) -> {}/model.safetensors\n",
                 *release, *postfix, r.imported, r.files.size(), cb::train_mode_name(c.train_mode),
                 c.to_json()["modality_pair"].dump(), *run);
      return 0;
    }
    CB_CHECK_INPUT(!in->empty() && !out->empty(),
                   "convert needs IN and OUT (or --codebind-release DIR --bridge FILE --out RUN)");
    CB_CHECK_INPUT(bridge->empty() && run->empty() && !*force,
                   "convert: --bridge, --out and --force belong to --codebind-release");
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

CB_REGISTER_COMMAND("convert",
                    "convert weights (.pth or safetensors) to a self-describing safetensors, or import an official "
                    "CodeBind release checkpoint as a run",
                    setup_convert);
