// readers.cpp — see readers.h.
#include "data/readers.h"

#include <filesystem>

#include "core/error.h"
#include "data/media_local.h"
#include "io/file_ext.h"
#include "io/finite_check.h"
#include "io/npy.h"

namespace cb::data {

namespace {

at::Tensor image_chw(const DecodedImage& img) {
  at::Tensor t = at::from_blob(const_cast<float*>(img.data.data()), {img.height, img.width, img.channels},
                               at::kFloat)
                     .clone();
  if (img.channels == 1 || img.channels == 2) t = t.narrow(2, 0, 1).expand({img.height, img.width, 3});
  else if (img.channels == 4) t = t.narrow(2, 0, 3);
  return t.permute({2, 0, 1}).contiguous();  // (3, H, W)
}

}  // namespace

void check_item_shape(Modality m, const at::Tensor& t, const std::string& where) {
  auto shape = [&]() { return fmt::format("{}", fmt::join(t.sizes(), ", ")); };
  const int64_t bad = count_non_finite(t);
  CB_CHECK_INPUT(bad == 0, "{}: holds {} NaN/Inf values of {}", where, bad, t.numel());
  switch (item_layout(m)) {
    case ItemLayout::Image:
      CB_CHECK_INPUT(t.dim() == 3 && t.size(0) == 3 && t.size(1) > 0 && t.size(2) > 0,
                     "{}: expected an image (3, H, W), got ({})", where, shape());
      break;
    case ItemLayout::Audio:
      CB_CHECK_INPUT(t.dim() == 2 && t.size(0) >= 1 && t.size(1) > 0, "{}: expected audio (C, T), got ({})", where,
                     shape());
      break;
    case ItemLayout::Map:
      CB_CHECK_INPUT(t.dim() == 2 && t.size(0) > 0 && t.size(1) > 0, "{}: expected a map [H, W], got [{}]", where,
                     shape());
      break;
    case ItemLayout::Imu:
      CB_CHECK_INPUT(t.dim() == 2 && t.size(0) == 6 && t.size(1) > 0, "{}: expected {} [6, T], got [{}]", where,
                     modality_name(m), shape());
      break;
    case ItemLayout::Signal:
      CB_CHECK_INPUT(t.dim() == 2 && t.size(0) > 0 && t.size(1) > 0, "{}: expected {} [C, T], got [{}]", where,
                     modality_name(m), shape());
      break;
    case ItemLayout::Cloud:
      CB_CHECK_INPUT(t.dim() == 2 && t.size(0) > 0 && (t.size(1) == 3 || t.size(1) == 6),
                     "{}: expected a point cloud [N, 3|6], got [{}]", where, shape());
      break;
    case ItemLayout::Text:
      break;
  }
  if (t.is_floating_point())
    CB_CHECK_INPUT(at::isfinite(t).all().item<bool>(), "{}: contains NaN or infinite values", where);
}

at::Tensor read_item_tensor(const Item& it, int* sample_rate) {
  const std::string where = fmt::format("{} (item '{}')", it.file, it.id);
  if (it.modality == Modality::Text) fail_input("item '{}': text items are inline, not files", it.id);
  const std::string ext = lower_ext(it.file);
  at::Tensor t;
  try {
    const ItemLayout layout = item_layout(it.modality);
    switch (layout) {
      case ItemLayout::Image:
        CB_CHECK_INPUT(ext == ".png" || ext == ".jpg" || ext == ".jpeg", "{}: expected a PNG or JPEG file", where);
        t = image_chw(read_image_any(it.file));
        break;
      case ItemLayout::Audio: {
        CB_CHECK_INPUT(ext == ".wav", "{}: expected a WAV file", where);
        DecodedAudio a = read_audio_any(it.file);
        const int64_t frames = static_cast<int64_t>(a.data.size()) / a.channels;
        t = at::from_blob(a.data.data(), {frames, a.channels}, at::kFloat).t().clone();  // (C, T), owns its memory
        if (sample_rate) *sample_rate = a.sample_rate;
        break;
      }
      case ItemLayout::Map:
        if (ext == ".png") {
          DecodedImage img = read_image_any(it.file);
          CB_CHECK_INPUT(img.channels == 1, "{}: {} PNG must be single-channel, has {}", where,
                         modality_name(it.modality), img.channels);
          t = at::from_blob(img.data.data(), {img.height, img.width}, at::kFloat).clone();
          break;
        }
        [[fallthrough]];
      case ItemLayout::Imu:
      case ItemLayout::Signal:
      case ItemLayout::Cloud:
        CB_CHECK_INPUT(ext == ".npy", "{}: expected a .npy file{}", where,
                       layout == ItemLayout::Map ? " or 16-bit PNG" : "");
        t = read_npy(it.file).to(at::kFloat);
        break;
      case ItemLayout::Text:
        break;
    }
  } catch (const InputError& e) {
    const std::string msg = e.what();
    if (msg.find(it.id) != std::string::npos) throw;
    throw InputError(fmt::format("{} (item '{}')", msg, it.id));
  }
  check_item_shape(it.modality, t, where);
  return t;
}

}  // namespace cb::data
