// inputs.cpp — see inputs.h.
#include "data/inputs.h"

#include <ATen/Parallel.h>

#include "core/error.h"
#include "io/file_ext.h"
#include "io/npy.h"
#include "preprocess/audio.h"
#include "data/readers.h"
#include "preprocess/depth_imu.h"
#include "preprocess/image_transform.h"

namespace cb {

namespace {

std::vector<InputSpec> specs_of(const Bridge& b) {
  std::vector<InputSpec> out;
  for (Modality m : b.modalities()) out.push_back(b.input_spec(m));
  return out;
}

namespace F = torch::nn::functional;

// (H, W) → (1, S, S), bilinear.
at::Tensor resize_map(const at::Tensor& d, int64_t S) {
  return F::interpolate(d.view({1, 1, d.size(0), d.size(1)}),
                        F::InterpolateFuncOptions().size(std::vector<int64_t>{S, S}).mode(torch::kBilinear).align_corners(false))
      .view({1, S, S});
}

bool is_image_file(const std::string& path) {
  const std::string ext = lower_ext(path);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

}  // namespace

InputPipeline::InputPipeline(const Bridge& bridge, bool cache) : InputPipeline(specs_of(bridge), cache) {}

InputPipeline::InputPipeline(std::vector<InputSpec> specs, bool cache) : cache_(cache) {
  for (InputSpec& s : specs) specs_[s.modality] = std::move(s);
  if (specs_.count(Modality::Text)) tok_ = std::make_unique<BpeTokenizer>();
}

const InputSpec& InputPipeline::spec(Modality m, const std::string& item) const {
  auto it = specs_.find(m);
  CB_CHECK_INPUT(it != specs_.end(), "{}: the bridge has no '{}' tower", item, modality_name(m));
  return it->second;
}

at::Tensor InputPipeline::decode_uncached(const data::Item& it) const {
  const InputSpec& sp = spec(it.modality, it.id);
  const bool standardised = sp.scaling == InputScaling::Standardised;
  switch (item_layout(it.modality)) {
    case ItemLayout::Image:  // vision, tactile: the CLIP image transform
      return load_and_transform_vision(it.file, static_cast<int>(sp.shape.at(1)));
    case ItemLayout::Audio: {
      AudioClipConfig ac;
      ac.clips_per_video = 1;
      ac.num_mel_bins = static_cast<int>(sp.shape.at(1));
      ac.target_len = static_cast<int>(sp.shape.at(2));
      return load_and_transform_audio(it.file, ac).select(0, 0);  // (1, mel, frames)
    }
    case ItemLayout::Map: {  // depth, thermal and any other single-channel map
      const int64_t S = sp.shape.at(1);
      if (!standardised && it.modality == Modality::Depth) {
        DepthConfig dc;
        dc.size = static_cast<int>(S);
        return load_and_transform_depth(it.file, dc);
      }
      if (!standardised && is_image_file(it.file)) {
        ThermalConfig tc;
        tc.size = static_cast<int>(S);
        return load_and_transform_thermal(it.file, tc);
      }
      at::Tensor d = read_npy(it.file).to(at::kFloat);
      data::check_item_shape(it.modality, d, it.file);  // the message `data check` gives
      d = resize_map(d, S);
      return standardised ? (d - d.mean()) / (d.std() + 1e-6) : d;
    }
    case ItemLayout::Imu: {
      at::Tensor x = read_npy(it.file).to(at::kFloat);
      data::check_item_shape(it.modality, x, it.file);
      x = imu_window(x, ImuConfig{sp.shape.at(1), false});
      return standardised ? (x - x.mean(1, true)) / (x.std(1, true, true) + 1e-6) : x;
    }
    case ItemLayout::Text:
      return tokenize({it.text}).select(0, 0);
    case ItemLayout::Signal:
    case ItemLayout::Cloud:
      break;
  }
  fail_input("{}: modality '{}' is not supported by the input pipeline yet", it.id, modality_name(it.modality));
}

at::Tensor InputPipeline::decode(const data::Item& it) const {
  if (!cache_) return decode_uncached(it);
  {
    std::lock_guard<std::mutex> g(mu_);
    auto f = memo_.find(it.id);
    if (f != memo_.end()) return f->second;
  }
  at::Tensor t = decode_uncached(it).contiguous();
  std::lock_guard<std::mutex> g(mu_);
  memo_[it.id] = t;
  return t;
}

at::Tensor InputPipeline::batch(const std::vector<const data::Item*>& items) const {
  std::vector<at::Tensor> out(items.size());
  std::vector<std::string> errors(items.size());
  at::parallel_for(0, static_cast<int64_t>(items.size()), 1, [&](int64_t b, int64_t e) {
    at::NoGradGuard ng;
    for (int64_t i = b; i < e; ++i) {
      try {
        out[i] = decode(*items[i]);
      } catch (const std::exception& ex) {
        errors[i] = ex.what();
      }
    }
  });
  for (const auto& e : errors) CB_CHECK_INPUT(e.empty(), "{}", e);
  return at::stack(out);
}

void InputPipeline::check_text_fits(const data::Item& it) const {
  CB_CHECK(tok_ != nullptr, "check_text_fits: the model has no text tower");
  const int64_t context = spec(Modality::Text, it.id).shape.at(0);
  int64_t n = 0;
  {
    std::lock_guard<std::mutex> g(tok_mu_);
    n = int64_t(tok_->encode(it.text).size());
  }
  CB_CHECK_INPUT(n + 2 <= context, "item '{}': its text has {} tokens, more than the {} the text context holds "
                 "({} with start and end): shorten it or split it into several captions", it.id, n, context - 2, context);
}

at::Tensor InputPipeline::tokenize(const std::vector<std::string>& texts) const {
  CB_CHECK(tok_ != nullptr, "tokenize: the model has no text tower");
  std::lock_guard<std::mutex> g(tok_mu_);
  return tok_->tokenize(texts);
}

}  // namespace cb
