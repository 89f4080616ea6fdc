// cmd_embed.cpp — `codebind embed`: the options of app/embed.h. See docs/cli/embed.md.
#include "app/embed.h"
#include "cli/command.h"

namespace {

cb::cli::Runner setup_embed(CLI::App* app) {
  auto o = std::make_shared<cb::EmbedOptions>();
  app->add_option("--weights", o->weights, "ImageBind weights (.safetensors or .pth): ImageBind embeddings");
  app->add_option("--run", o->run, "a `codebind train` run: CodeBind embeddings and codes (instead of --weights)");
  app->add_option("--config", o->config, "'huge' or a config JSON (default: the file's metadata, else huge)");
  app->add_option("--modality", o->modality, "vision|text|audio|depth|thermal|imu (with --run and --text: optional)");
  app->add_option("--out", o->out, "output safetensors (default embeddings.safetensors)");
  app->add_option("--text", o->texts, "a text to embed (repeatable; --modality text)");
  app->add_option("--vocab", o->vocab, "CLIP BPE vocabulary (default: $CODEBIND_BPE_VOCAB or the bundled copy)");
  app->add_option("--batch", o->batch, "items per forward pass (default 8)");
  app->add_option("--device", o->device, "cpu|cuda (default cpu)");
  app->add_option("--dtype", o->dtype, "auto|fp32|bf16: auto = bf16 on CPUs with AVX512-BF16, else fp32 (docs/bench/encoders.md)");
  app->add_flag("--batched", o->batched, "tensors in .safetensors inputs have a leading batch axis");
  app->add_flag("--force", o->force, "replace an existing --out file");
  app->add_option("inputs", o->inputs, "files: images, .wav, depth/thermal .png, .npy or .safetensors tensors");
  return [o]() {
    cb::run_embed(*o);
    return 0;
  };
}

CB_REGISTER_COMMAND("embed", "ImageBind embeddings (--weights) or CodeBind codes (--run) of files or texts", setup_embed);

}  // namespace
