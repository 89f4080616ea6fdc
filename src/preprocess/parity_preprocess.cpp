// parity_preprocess.cpp — parity group "preprocess": tokenizer ids, image decode/resize/
// normalise and audio resample/clips/fbank against the golden fixtures
// (docs/imagebind.md §8). Everything is driven by DIR/manifest.json and DIR/tokenizer.json.
#include <filesystem>
#include <fstream>

#include "preprocess/parity_preprocess.h"
#include "core/error.h"
#include "core/parity.h"
#include "media/image_io.h"
#include "io/safetensors.h"
#include "preprocess/audio.h"
#include "preprocess/image_transform.h"
#include "preprocess/tokenizer.h"

namespace cb {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream f(path);
  CB_CHECK_INPUT(f.good(), "{}: cannot open", path);
  try {
    return json::parse(f);
  } catch (const std::exception& e) {
    fail_input("{}: invalid JSON ({})", path, e.what());
  }
}

void check_tokenizer(const std::string& dir, const json& manifest, ParityReport& r) {
  std::string tok_file = manifest.value("tokenizer", json::object()).value("file", "tokenizer.json");
  std::string vocab = (fs::path(dir) / manifest.value("vocab_file", "bpe_simple_vocab_16e6.txt.gz")).string();
  if (!fs::exists(vocab)) vocab = default_vocab_path();
  const int64_t context = manifest.value("tokenizer", json::object()).value("context_length", 77);
  BpeTokenizer tok(vocab);
  json cases = read_json((fs::path(dir) / tok_file).string());
  int64_t req_total = 0, req_pass = 0, ftfy_total = 0, ftfy_pass = 0;
  std::string first_fail, ftfy_fails;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    std::vector<int64_t> want = c.at("ids").get<std::vector<int64_t>>();
    at::Tensor got = tok.tokenize({c.at("text").get<std::string>()}, context)[0];
    bool ok = int64_t(want.size()) == got.size(0);
    for (size_t k = 0; ok && k < want.size(); ++k) ok = got[k].item<int64_t>() == want[k];
    ok = ok && BpeTokenizer::eot_index(got) == c.at("eot_index").get<int64_t>();
    const bool required = c.value("required", !c.value("ftfy", false));
    if (required) {
      ++req_total;
      if (ok) ++req_pass;
      else if (first_fail.empty()) first_fail = fmt::format("case {} ({})", i, c.at("text").dump());
    } else {
      ++ftfy_total;
      if (ok) ++ftfy_pass;
      else ftfy_fails += fmt::format(" {}", i);
    }
  }
  ParityCheck req{r.group(), "tokenizer.required", double(req_total - req_pass), 0.0, "exact",
                  req_pass == req_total,
                  fmt::format("{}/{} cases exact{}", req_pass, req_total,
                              first_fail.empty() ? "" : "; first failure: " + first_fail)};
  r.add(req);
  // ftfy-dependent cases: informative only (the fixture marks them not required; ftfy's mojibake
  // heuristics are covered for the common Windows-1252 case only).
  ParityCheck ff{r.group(), "tokenizer.ftfy (informative)", double(ftfy_total - ftfy_pass), 1e30, "exact",
                 true, fmt::format("{}/{} ftfy-dependent cases match{}", ftfy_pass, ftfy_total,
                                   ftfy_fails.empty() ? "" : "; differ:" + ftfy_fails)};
  r.add(ff);
}

void check_images(const std::string& dir, const json& manifest, ParityReport& r) {
  if (!manifest.contains("images")) return;
  SafetensorsFile st((fs::path(dir) / "images.safetensors").string());
  for (const json& im : manifest.at("images")) {
    const std::string name = im.at("name");
    const json keys = im.value("keys", json::object());
    Image img = decode_image((fs::path(dir) / im.at("file").get<std::string>()).string());
    Image rgb = to_rgb8(img);
    if (keys.contains("decoded_rgb"))
      r.exact(name + ".decoded_rgb", image_to_tensor(rgb), st.get(keys.at("decoded_rgb")));
    const int size = 224;
    auto [rw, rh] = short_side_resize_size(rgb.width, rgb.height, size);
    if (im.contains("resized_size_wh")) {
      auto want = im.at("resized_size_wh").get<std::vector<int>>();
      r.exact(name + ".resized_size", at::tensor(std::vector<int64_t>{rw, rh}),
              at::tensor(std::vector<int64_t>{want[0], want[1]}));
    }
    if (im.contains("crop_top_left")) {
      auto want = im.at("crop_top_left").get<std::vector<int>>();
      auto got = center_crop_offsets(rh, rw, size);
      r.exact(name + ".crop_top_left", at::tensor(std::vector<int64_t>{got[0], got[1]}),
              at::tensor(std::vector<int64_t>{want[0], want[1]}));
    }
    if (keys.contains("resized_rgb"))
      r.exact(name + ".resized_rgb", image_to_tensor(resize_bicubic_pillow(rgb, rw, rh)),
              st.get(keys.at("resized_rgb")));
    if (keys.contains("normalized"))
      r.abs(name + ".normalized", clip_image_transform(img, size), st.get(keys.at("normalized")), 1e-6);
  }
}

void check_audio(const std::string& dir, const json& manifest, ParityReport& r) {
  if (!manifest.contains("audio")) return;
  SafetensorsFile st((fs::path(dir) / "audio.safetensors").string());
  for (const json& a : manifest.at("audio")) {
    const std::string name = a.at("name");
    const json keys = a.value("keys", json::object());
    Waveform w = read_wav((fs::path(dir) / a.at("file").get<std::string>()).string());
    if (a.contains("sample_rate"))
      r.exact(name + ".sample_rate", at::tensor(int64_t(w.sample_rate)),
              at::tensor(a.at("sample_rate").get<int64_t>()));
    AudioClipConfig cfg;
    AudioClipTrace trace;
    at::Tensor clips = audio_clips(w, cfg, &trace);
    if (keys.contains("waveform_16k"))
      r.abs(name + ".waveform_16k", trace.waveform, st.get(keys.at("waveform_16k")), 1e-5);
    if (keys.contains("clip_bounds")) {
      at::Tensor b = at::empty({int64_t(trace.bounds.size()), 2}, at::kLong);
      for (size_t k = 0; k < trace.bounds.size(); ++k)
        b[k][0] = trace.bounds[k][0], b[k][1] = trace.bounds[k][1];
      r.exact(name + ".clip_bounds", b, st.get(keys.at("clip_bounds")));
    }
    if (keys.contains("clip_mean"))
      r.abs(name + ".clip_mean", at::tensor(trace.clip_mean), st.get(keys.at("clip_mean")), 1e-6);
    if (keys.contains("fbank"))
      r.abs(name + ".fbank", at::stack(trace.fbank, 0), st.get(keys.at("fbank")), 2e-3);
    if (keys.contains("clips")) r.abs(name + ".clips", clips, st.get(keys.at("clips")), 3e-4);
  }
}

}  // namespace

void run_preprocess_parity(const std::string& dir, ParityReport& r) {
  const json manifest = read_json((fs::path(dir) / "manifest.json").string());
  check_tokenizer(dir, manifest, r);
  check_images(dir, manifest, r);
  check_audio(dir, manifest, r);
}

}  // namespace cb

using cb::run_preprocess_parity;
