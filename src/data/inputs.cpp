// inputs.cpp — see inputs.h.
#include "data/inputs.h"

#include <ATen/Parallel.h>

#include "core/error.h"
#include "io/npy.h"
#include "preprocess/audio.h"
#include "data/readers.h"
#include "preprocess/depth_imu.h"
#include "preprocess/image_transform.h"

namespace cb {

InputPipeline::InputPipeline(const ImageBindConfig& cfg, bool cache) : cfg_(cfg), cache_(cache) {
  if (cfg_.has(Modality::Text)) tok_ = std::make_unique<BpeTokenizer>();
}

at::Tensor InputPipeline::decode_uncached(const data::Item& it) const {
  const ModalityConfig& mc = cfg_.at(it.modality);
  namespace F = torch::nn::functional;
  switch (it.modality) {
    case Modality::Vision:
      return load_and_transform_vision(it.file, static_cast<int>(mc.input_shape.at(1)));
    case Modality::Audio: {
      AudioClipConfig ac;
      ac.clips_per_video = 1;
      ac.num_mel_bins = static_cast<int>(mc.input_shape.at(1));
      ac.target_len = static_cast<int>(mc.input_shape.at(2));
      return load_and_transform_audio(it.file, ac).select(0, 0);  // (1, mel, frames)
    }
    case Modality::Depth:
    case Modality::Thermal: {
      at::Tensor d = read_npy(it.file).to(at::kFloat);
      data::check_item_shape(it.modality, d, it.file);  // the message `data check` gives
      const int64_t S = mc.input_shape.at(1);
      d = F::interpolate(d.view({1, 1, d.size(0), d.size(1)}),
                         F::InterpolateFuncOptions().size(std::vector<int64_t>{S, S}).mode(torch::kBilinear).align_corners(false))
              .view({1, S, S});
      return (d - d.mean()) / (d.std() + 1e-6);
    }
    case Modality::Imu: {
      at::Tensor x = read_npy(it.file).to(at::kFloat);
      data::check_item_shape(it.modality, x, it.file);
      x = imu_window(x, ImuConfig{mc.input_shape.at(1), false});
      return (x - x.mean(1, true)) / (x.std(1, true, true) + 1e-6);
    }
    case Modality::Text:
      return tokenize({it.text}).select(0, 0);
    default:
      fail_input("{}: modality '{}' is not supported by the input pipeline", it.id, modality_name(it.modality));
  }
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

at::Tensor InputPipeline::tokenize(const std::vector<std::string>& texts) const {
  CB_CHECK(tok_ != nullptr, "tokenize: the model has no text tower");
  std::lock_guard<std::mutex> g(tok_mu_);
  return tok_->tokenize(texts);
}

}  // namespace cb
