// video.cpp — ImageBind video clip sampling and transforms on decoded frames
// (docs/imagebind.md §2.2, steps 1–6).
#include "preprocess/video.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "media/video_parse.h"
#include "preprocess/image_transform.h"

namespace cb {
namespace {

// Exact clip start k*step (step = max_start / div) as a double, like float(Fraction).
double clip_time(int k, double max_start, int div, double add) {
  // Fraction(max_start) * k / div (+ add), rounded once to double: long double is exact enough
  // for the small integers involved; the final rounding matches float(Fraction).
  long double v = (long double)max_start * k / div + (long double)add;
  return double(v);
}

}  // namespace

std::vector<std::array<int64_t, 2>> video_clip_frame_ranges(int64_t frame_count, double fps,
                                                            const VideoClipConfig& cfg) {
  CB_CHECK_INPUT(frame_count > 0 && fps > 0 && std::isfinite(fps), "video: bad frame count {} or fps {}",
                 frame_count, fps);
  CB_CHECK_INPUT(cfg.clips_per_video >= 1 && cfg.clip_duration > 0, "video: bad clip configuration");
  const double duration = double(frame_count) / fps;
  const double max_start = std::max(duration - cfg.clip_duration, 0.0);
  const int div = std::max(cfg.clips_per_video - 1, 1);
  std::vector<std::array<int64_t, 2>> out;
  for (int k = 0; k < cfg.clips_per_video; ++k) {
    double s = clip_time(k, max_start, div, 0.0), e = clip_time(k, max_start, div, cfg.clip_duration);
    int64_t first = int64_t(std::ceil(fps * s));
    int64_t end = std::min<int64_t>(int64_t(std::ceil(fps * e)), frame_count);
    CB_CHECK_INPUT(end > first, "video: clip {} [{:.3f} s, {:.3f} s] holds no frames ({} frames at {} fps)",
                   k, s, e, frame_count, fps);
    out.push_back({first, end - 1});
  }
  return out;
}

std::vector<int64_t> uniform_temporal_indices(int64_t n, int k) {
  CB_CHECK_INPUT(n > 0 && k > 0, "video: cannot subsample {} frames to {}", n, k);
  at::Tensor idx = at::linspace(0, double(n - 1), k, at::kFloat).clamp(0, double(n - 1)).to(at::kLong);
  return std::vector<int64_t>(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + k);
}

at::Tensor video_transform(const std::function<at::Tensor(int64_t)>& get_frame, int64_t frame_count,
                           double fps, const VideoClipConfig& cfg) {
  const int size = cfg.size;
  at::Tensor mean = at::tensor(std::vector<float>(kClipMean.begin(), kClipMean.end())).view({3, 1, 1, 1});
  at::Tensor std = at::tensor(std::vector<float>(kClipStd.begin(), kClipStd.end())).view({3, 1, 1, 1});
  std::vector<at::Tensor> clips;
  for (const auto& r : video_clip_frame_ranges(frame_count, fps, cfg)) {
    std::vector<at::Tensor> frames;
    for (int64_t off : uniform_temporal_indices(r[1] - r[0] + 1, cfg.frames_per_clip)) {
      at::Tensor f = get_frame(r[0] + off);
      CB_CHECK_INPUT(f.dim() == 3 && f.size(2) == 3 && f.scalar_type() == at::kByte,
                     "video: frame {} must be (H, W, 3) uint8", r[0] + off);
      CB_CHECK_INPUT(frames.empty() || f.sizes() == frames[0].sizes(), "video: frame {} changes size", r[0] + off);
      frames.push_back(f);
    }
    at::Tensor x = at::stack(frames, 0).permute({3, 0, 1, 2}).to(at::kFloat);  // (3, T, H, W)
    x = x / 255.0;
    const int64_t h = x.size(2), w = x.size(3);
    int64_t nh, nw;
    if (w < h) nh = int64_t(std::floor(double(h) / w * size)), nw = size;
    else nh = size, nw = int64_t(std::floor(double(w) / h * size));
    x = at::upsample_bilinear2d(x, {nh, nw}, /*align_corners=*/false);  // (3, T, nh, nw)
    x = x.sub(mean).div(std);
    clips.push_back(x);
  }
  std::vector<at::Tensor> crops;
  for (const at::Tensor& x : clips) {
    const int64_t h = x.size(2), w = x.size(3);
    for (int i = 0; i < cfg.num_crops; ++i) {
      int64_t y0 = int64_t(std::ceil((h - size) / 2.0)), x0 = int64_t(std::ceil((w - size) / 2.0));
      if (cfg.num_crops == 3) {
        if (h > w) y0 = i == 0 ? 0 : i == 2 ? h - size : y0;
        else x0 = i == 0 ? 0 : i == 2 ? w - size : x0;
      }
      crops.push_back(x.narrow(2, y0, size).narrow(3, x0, size));
    }
  }
  return at::stack(crops, 0).contiguous();  // (clips*crops, 3, T, size, size)
}

at::Tensor video_transform(const at::Tensor& frames, double fps, const VideoClipConfig& cfg) {
  CB_CHECK_INPUT(frames.dim() == 4 && frames.size(3) == 3 && frames.scalar_type() == at::kByte,
                 "video: expected (N, H, W, 3) uint8 frames");
  return video_transform([&](int64_t i) { return frames[i]; }, frames.size(0), fps, cfg);
}

std::vector<int64_t> video_frames_used(int64_t frame_count, double fps, const VideoClipConfig& cfg) {
  std::vector<int64_t> idx;
  for (const auto& r : video_clip_frame_ranges(frame_count, fps, cfg))
    for (int64_t off : uniform_temporal_indices(r[1] - r[0] + 1, cfg.frames_per_clip)) idx.push_back(r[0] + off);
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  return idx;
}

at::Tensor load_and_transform_video(const std::string& path, const VideoClipConfig& cfg) {
  const VideoInfo info = probe_video(path);
  std::map<int64_t, VideoFrame> frames = decode_video_frames(path, video_frames_used(info.frame_count, info.fps, cfg));
  auto get = [&](int64_t i) {
    VideoFrame& f = frames.at(i);
    return at::from_blob(f.rgb.data(), {f.height, f.width, 3}, at::kByte);  // valid while `frames` lives
  };
  return video_transform(get, info.frame_count, info.fps, cfg);
}

}  // namespace cb
