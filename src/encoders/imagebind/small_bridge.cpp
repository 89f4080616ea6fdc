// small_bridge.cpp — see small_bridge.h.
#include "encoders/imagebind/small_bridge.h"

#include "core/error.h"
#include "core/json_read.h"

namespace cb {

nlohmann::json BridgeSizes::to_json() const {
  return {{"out_dim", out_dim},         {"width", width},
          {"blocks", blocks},           {"heads", heads},
          {"image_size", image_size},   {"image_patch", image_patch},
          {"depth_size", depth_size},   {"depth_patch", depth_patch},
          {"audio_mel_bins", audio_mel_bins}, {"audio_frames", audio_frames},
          {"audio_kernel", audio_kernel},     {"audio_stride", audio_stride},
          {"imu_window", imu_window},   {"imu_patch", imu_patch}};
}

BridgeSizes BridgeSizes::from_json(const nlohmann::json& j, const std::string& where) {
  BridgeSizes s;
  CB_CHECK_INPUT(j.is_object(), "{}: bridge sizes must be an object", where);
  auto def = s.to_json();
  for (auto it = j.begin(); it != j.end(); ++it) {
    CB_CHECK_INPUT(def.contains(it.key()), "{}: unknown key 'bridge.{}'", where, it.key());
    // Every size is a count of pixels, channels, blocks or frames: 1 … 65536.
    def[it.key()] = json_integer(*it, where, "bridge." + it.key(), 1, 1 << 16);
  }
  auto g = [&](const char* k) { return def[k].get<int64_t>(); };
  s = BridgeSizes{g("out_dim"),        g("width"),        g("blocks"),       g("heads"),
                  g("image_size"),     g("image_patch"),  g("depth_size"),   g("depth_patch"),
                  g("audio_mel_bins"), g("audio_frames"), g("audio_kernel"), g("audio_stride"),
                  g("imu_window"),     g("imu_patch")};
  CB_CHECK_INPUT(s.width % s.heads == 0, "{}: key 'bridge.heads': {} does not divide width {}", where, s.heads, s.width);
  CB_CHECK_INPUT(s.image_size % s.image_patch == 0, "{}: key 'bridge.image_patch' must divide image_size", where);
  CB_CHECK_INPUT(s.depth_size % s.depth_patch == 0, "{}: key 'bridge.depth_patch' must divide depth_size", where);
  CB_CHECK_INPUT(s.imu_window % s.imu_patch == 0, "{}: key 'bridge.imu_patch' must divide imu_window", where);
  CB_CHECK_INPUT(s.audio_mel_bins >= s.audio_kernel && s.audio_frames >= s.audio_kernel,
                 "{}: key 'bridge.audio_kernel' larger than the spectrogram", where);
  return s;
}

ImageBindConfig small_bridge_config(const BridgeSizes& s) {
  ImageBindConfig huge = ImageBindConfig::huge();
  ImageBindConfig c;
  c.out_dim = s.out_dim;
  c.inputs = InputScaling::Standardised;  // trained from scratch on standardised sensor data
  auto trunk = [&](ModalityConfig& mc) {
    mc.embed_dim = s.width;
    mc.num_blocks = s.blocks;
    mc.num_heads = s.heads;
    mc.mlp_hidden = 4 * s.width;
    mc.drop_path = 0.0;
    mc.head_dropout = 0.0;
  };
  auto set_tokens = [](ModalityConfig& mc, std::vector<int64_t> grid) {
    mc.patch_grid = grid;
    mc.num_patches = 1;
    for (auto g : grid) mc.num_patches *= g;
    mc.num_tokens = mc.num_cls_tokens + mc.num_patches;
  };
  {
    ModalityConfig mc = huge.at(Modality::Vision);
    trunk(mc);
    mc.kernel = {2, s.image_patch, s.image_patch};
    mc.stride = mc.kernel;
    mc.input_shape = {3, s.image_size, s.image_size};
    set_tokens(mc, {1, s.image_size / s.image_patch, s.image_size / s.image_patch});
    c.modalities[Modality::Vision] = mc;
  }
  {
    ModalityConfig mc = huge.at(Modality::Text);
    trunk(mc);
    c.modalities[Modality::Text] = mc;
  }
  {
    ModalityConfig mc = huge.at(Modality::Audio);
    trunk(mc);
    mc.kernel = {s.audio_kernel, s.audio_kernel};
    mc.stride = {s.audio_stride, s.audio_stride};
    mc.input_shape = {1, s.audio_mel_bins, s.audio_frames};
    set_tokens(mc, {(s.audio_mel_bins - s.audio_kernel) / s.audio_stride + 1,
                    (s.audio_frames - s.audio_kernel) / s.audio_stride + 1});
    c.modalities[Modality::Audio] = mc;
  }
  // Depth and thermal: single-channel images on ImageBind's Conv2d stem, same sizes.
  for (Modality m : {Modality::Depth, Modality::Thermal}) {
    ModalityConfig mc = huge.at(m);
    trunk(mc);
    mc.kernel = {s.depth_patch, s.depth_patch};
    mc.stride = mc.kernel;
    mc.input_shape = {1, s.depth_size, s.depth_size};
    set_tokens(mc, {s.depth_size / s.depth_patch, s.depth_size / s.depth_patch});
    c.modalities[m] = mc;
  }
  {
    ModalityConfig mc = huge.at(Modality::Imu);
    trunk(mc);
    mc.kernel = {s.imu_patch};
    mc.stride = {s.imu_patch};
    mc.input_shape = {6, s.imu_window};
    set_tokens(mc, {s.imu_window / s.imu_patch});
    c.modalities[Modality::Imu] = mc;
  }
  return c;
}

}  // namespace cb
