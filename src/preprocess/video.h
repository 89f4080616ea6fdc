// video.h — ImageBind's video pipeline from decoded frames on (docs/imagebind.md §2.2):
// 5 constant clips of 2 s, first and last frame of each clip, ÷255, bilinear short-side
// scale (no antialias), CLIP normalisation, 3 spatial crops → (15, 3, 2, 224, 224).
// Decoding (FFmpeg/decord) is outside the parity boundary: callers supply uint8 frames, or
// load_and_transform_video decodes a file with io/video_parse (FFmpeg, decord's conventions).
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace cb {

struct VideoClipConfig {
  double clip_duration = 2;
  int clips_per_video = 5;
  int frames_per_clip = 2;  // UniformTemporalSubsample
  int size = 224;
  int num_crops = 3;
};

// Per clip the decoded frame range [first, last] (inclusive) the reference reads:
// ceil(fps*start) .. min(ceil(fps*end), frame_count) - 1, with duration = frame_count / fps.
std::vector<std::array<int64_t, 2>> video_clip_frame_ranges(int64_t frame_count, double fps,
                                                            const VideoClipConfig& cfg = {});
// The frames UniformTemporalSubsample keeps from a range of n frames (offsets into it).
std::vector<int64_t> uniform_temporal_indices(int64_t n, int k);

// get_frame(i) → (H, W, 3) uint8 frame i. Returns (clips*crops, 3, frames_per_clip, size, size).
at::Tensor video_transform(const std::function<at::Tensor(int64_t)>& get_frame, int64_t frame_count,
                           double fps, const VideoClipConfig& cfg = {});
// Same from all frames in memory: (N, H, W, 3) uint8.
at::Tensor video_transform(const at::Tensor& frames, double fps, const VideoClipConfig& cfg = {});
// A video file (any container/codec FFmpeg reads): probes it, decodes only the frames the
// clips use (first and last of each), and runs video_transform on them.
at::Tensor load_and_transform_video(const std::string& path, const VideoClipConfig& cfg = {});
// The frame indices video_transform reads for a video of `frame_count` frames at `fps`.
std::vector<int64_t> video_frames_used(int64_t frame_count, double fps, const VideoClipConfig& cfg = {});

}  // namespace cb
