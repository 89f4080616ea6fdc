// embed.cpp — see embed.h.
#include "app/embed.h"

#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/precision.h"
#include "core/progress.h"
#include "encoders/imagebind/imagebind_model.h"
#include "io/file_ext.h"
#include "io/npy.h"
#include "io/run_dir.h"
#include "io/safetensors.h"
#include "io/weights.h"
#include "preprocess/audio.h"
#include "preprocess/depth_imu.h"
#include "preprocess/image_transform.h"
#include "preprocess/tokenizer.h"
#include "preprocess/video.h"

namespace cb {
namespace {

namespace fs = std::filesystem;

struct Item {
  std::string name;
  at::Tensor x;  // one sample in the model's layout without the batch dim
};

bool is_video_ext(const std::string& ext) {
  for (const char* e : {".mp4", ".m4v", ".mkv", ".avi", ".mov", ".webm", ".mpg", ".mpeg", ".ogv", ".gif"})
    if (ext == e) return true;
  return false;
}

// A tensor given directly (npy/safetensors): the sample layout, optionally with a clip axis.
void check_sample(const ModalityConfig& mc, const at::Tensor& t, const std::string& name) {
  const int64_t r = static_cast<int64_t>(mc.input_shape.size());
  const int64_t extra = mc.stem_kind == StemKind::Conv3d ? 2 : 1;  // video: (S,3,T,H,W)
  CB_CHECK_INPUT(t.dim() == r || t.dim() == r + extra,
                 "{}: a {} input must have {} dims (one sample, e.g. [{}]) or {} (with a clip axis), found {}", name,
                 mc.name(), r, fmt::join(mc.input_shape, ","), r + extra, t.dim());
}

// Raw files → model tensors through the preprocessing pipeline; tensors pass through.
std::vector<Item> read_inputs(const EmbedOptions& o, const ModalityConfig& mc) {
  std::vector<Item> items;
  const Modality m = mc.modality;
  if (m == Modality::Text) {
    CB_CHECK_INPUT(o.inputs.empty() || o.texts.empty(), "embed: give texts with --text or id tensors, not both");
    if (!o.texts.empty()) {
      BpeTokenizer tok(o.vocab.empty() ? default_vocab_path() : o.vocab);
      at::Tensor ids = tok.tokenize(o.texts, mc.context_length);  // (N, 77)
      for (size_t i = 0; i < o.texts.size(); ++i) items.push_back({o.texts[i], ids[static_cast<int64_t>(i)]});
      return items;
    }
  } else {
    CB_CHECK_INPUT(o.texts.empty(), "embed: --text is only for --modality text");
  }
  CB_CHECK_INPUT(!o.inputs.empty(), "embed: no inputs (give files{})", m == Modality::Text ? " or --text" : "");
  const int size = mc.input_shape.size() >= 3 ? static_cast<int>(mc.input_shape.back()) : 224;
  for (const std::string& path : o.inputs) {
    CB_CHECK_INPUT(fs::exists(path), "{}: no such file", path);
    const std::string ext = lower_ext(path);
    if (ext == ".safetensors") {
      SafetensorsFile f(path);
      for (const auto& k : f.keys()) {
        at::Tensor t = f.get(k);
        if (o.batched) {
          CB_CHECK_INPUT(t.dim() >= 1, "{}:{}: --batched needs a leading batch axis", path, k);
          for (int64_t i = 0; i < t.size(0); ++i) {
            check_sample(mc, t[i], path + ":" + k);
            items.push_back({fmt::format("{}:{}[{}]", path, k, i), t[i]});
          }
        } else {
          check_sample(mc, t, path + ":" + k);
          items.push_back({path + ":" + k, t});
        }
      }
      continue;
    }
    at::Tensor x;
    if (ext == ".npy") {
      at::Tensor t = read_npy(path);
      if (m == Modality::Depth && t.dim() == 2) {
        DepthConfig dc;
        dc.size = size;
        x = depth_transform(t.to(at::kFloat), dc);  // (H, W) metres → (1, S, S)
      } else if (m == Modality::Imu && t.dim() == 2) {
        ImuConfig ic;
        ic.window = mc.input_shape.back();
        x = imu_window(t.to(at::kFloat), ic);  // (6, T) → (6, window)
      } else {
        x = t;
      }
    } else if (m == Modality::Vision && (ext == ".png" || ext == ".jpg" || ext == ".jpeg")) {
      x = load_and_transform_vision(path, size);  // (3, S, S)
    } else if (m == Modality::Vision && is_video_ext(ext)) {
      CB_CHECK_INPUT(mc.stem_kind == StemKind::Conv3d && mc.video_frames > 0,
                     "{}: this vision tower has no temporal (Conv3d) stem, so it cannot embed video", path);
      VideoClipConfig vc;
      vc.size = size;
      vc.frames_per_clip = static_cast<int>(mc.video_frames);
      x = load_and_transform_video(path, vc);  // (clips·crops = 15, 3, T, S, S)
    } else if (m == Modality::Audio && ext == ".wav") {
      AudioClipConfig ac;
      if (mc.input_shape.size() == 3) {
        ac.num_mel_bins = static_cast<int>(mc.input_shape[1]);
        ac.target_len = static_cast<int>(mc.input_shape[2]);
      }
      x = load_and_transform_audio(path, ac);  // (S, 1, 128, 204)
    } else if (m == Modality::Depth && ext == ".png") {
      DepthConfig dc;
      dc.size = size;
      x = load_and_transform_depth(path, dc);
    } else if (m == Modality::Thermal && (ext == ".png" || ext == ".jpg" || ext == ".jpeg")) {
      ThermalConfig tc;
      tc.size = size;
      x = load_and_transform_thermal(path, tc);
    } else {
      fail_input("{}: cannot embed a '{}' file as {} (use .npy/.safetensors tensors{})", path, ext, mc.name(),
                     m == Modality::Vision    ? ", .png/.jpg, video (.mp4/.mkv/.avi/.mov/.webm)"
                     : m == Modality::Audio   ? ", .wav"
                     : m == Modality::Depth   ? ", .png/.npy depth maps"
                     : m == Modality::Thermal ? ", .png"
                     : m == Modality::Imu     ? ", .npy (6,T)"
                                              : "");
    }
    check_sample(mc, x, path);
    items.push_back({path, x});
  }
  return items;
}

// Loads only the tower of `m` from a weight file.
ImageBindModel load_model(const EmbedOptions& o, Modality m) {
  CB_CHECK_INPUT(fs::exists(o.weights), "{}: no such weights file", o.weights);
  const WeightFile f(o.weights);  // .safetensors or torch.save .pth, told apart by content
  ImageBindConfig cfg;
  if (!o.config.empty()) {
    cfg = ImageBindConfig::from_arg(o.config);
  } else {
    // A self-describing file carries the config in __metadata__.config; otherwise Huge.
    cfg = ImageBindConfig::huge();
    for (const char* key : {"imagebind_config", "config"}) {
      std::string meta = f.meta(key);
      if (meta.empty()) continue;
      try {
        cfg = ImageBindConfig::from_json(nlohmann::json::parse(meta), o.weights + " metadata '" + key + "'");
        break;
      } catch (const std::exception& e) {
        spdlog::debug("{}: metadata '{}' is not an ImageBind config ({}); trying the next", o.weights, key, e.what());
      }
    }
  }
  ImageBindModel model(cfg, {m});
  model.load(f, o.weights);
  return model;
}

}  // namespace

size_t run_embed(const EmbedOptions& o) {
  CB_CHECK_INPUT(o.weights.empty() != o.run.empty(),
                 "embed: give exactly one of --weights FILE (ImageBind embeddings) or --run RUN (CodeBind codes)");
  if (!o.run.empty()) return run_embed_codebind(o);
  CB_CHECK_INPUT(!o.modality.empty(), "embed --weights: --modality M is required");
  const Modality m = parse_modality(o.modality, "--modality");
  CB_CHECK_INPUT(o.batch > 0, "--batch must be positive");
  check_output_file(o.out, o.force);  // before any work: a refusal writes nothing
  CB_CHECK_INPUT(o.device == "cpu" || o.device == "cuda", "--device must be cpu or cuda");
  CB_CHECK_INPUT(o.device != "cuda" || at::hasCUDA(), "--device cuda: this build/machine has no CUDA");
  const at::Device dev = o.device == "cuda" ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  check_precision_request(o.dtype, "--dtype");  // before loading anything
  ImageBindModel model = load_model(o, m);
  const ModalityConfig& mc = model.config().at(m);
  const PrecisionChoice prec = choose_precision(o.dtype, dev, "--dtype", mc.embed_dim);
  spdlog::info("embed: {}", prec.why);
  std::vector<Item> items = read_inputs(o, mc);
  // The whole frozen model cast once (cheaper than autocast's per-call weight casts).
  const at::ScalarType dt = prec.dtype;
  if (dev != at::Device(at::kCPU) || dt != at::kFloat) model.to(dev, dt);

  at::NoGradGuard no_grad;
  std::vector<at::Tensor> rows(items.size());
  ProgressBar bar("embed " + mc.name(), static_cast<int64_t>(items.size()));
  size_t i = 0;
  while (i < items.size()) {
    // A batch = consecutive items of the same shape (clip counts may differ between files).
    size_t j = i + 1;
    while (j < items.size() && static_cast<int64_t>(j - i) < o.batch && items[j].x.sizes() == items[i].x.sizes()) ++j;
    std::vector<at::Tensor> xs;
    for (size_t k = i; k < j; ++k) xs.push_back(items[k].x);
    at::Tensor x = at::stack(xs).to(dev);
    if (at::isFloatingType(x.scalar_type())) x = x.to(dt);
    at::Tensor e = model.embed(m, x).to(at::kCPU, at::kFloat);  // (n, out)
    for (size_t k = i; k < j; ++k) rows[k] = e[static_cast<int64_t>(k - i)];
    bar.tick(static_cast<int64_t>(j - i));
    i = j;
  }
  bar.finish();
  nlohmann::json names = nlohmann::json::array();
  for (const auto& it : items) names.push_back(it.name);
  std::map<std::string, std::string> meta = {{"modality", mc.name()},
                                             {"inputs", names.dump()},
                                             {"weights", o.weights},
                                             {"dtype", precision_name(dt)},
                                             {"config", model.config().to_json().dump()}};
  save_safetensors(o.out, {{"embeddings", at::stack(rows)}}, meta);
  fmt::print("wrote {} {} embeddings ({}-d) to {}\n", items.size(), mc.name(), model.config().out_dim, o.out);
  return items.size();
}


}  // namespace cb
