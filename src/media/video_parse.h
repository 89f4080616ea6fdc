// video_parse.h — torch-free video decoding with FFmpeg's libraries (libavformat, libavcodec,
// libswscale), as ImageBind's decord backend does it (docs/imagebind.md §2.2):
// frame_count = the video stream's packets, fps = its average frame rate, every frame
// converted by swscale to RGB24 at its native size, rotation metadata (90/180/270) applied.
// Parity with the reference starts at decoded frames; this file is the decoding half.
//
// Errors (missing file, not a video, no video stream, unknown codec, absurd frame size, a
// requested frame that the stream does not deliver) are cb::InputError naming the file.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cb {

struct VideoInfo {
  int64_t frame_count = 0;  // packets of the video stream (decord's len())
  double fps = 0;           // average frame rate (r_frame_rate when the average is unknown)
  int width = 0, height = 0;  // decoded size after rotation
  int rotation = 0;           // clockwise degrees applied to every frame: 0, 90, 180, 270
  std::string codec;          // decoder name, e.g. "h264"
};

// One decoded frame, interleaved RGB, (height, width, 3).
struct VideoFrame {
  int height = 0, width = 0;
  std::vector<uint8_t> rgb;
};

// Largest accepted frame (pixels, before rotation): larger streams are refused before decoding.
constexpr int64_t kMaxVideoFramePixels = int64_t(1) << 25;  // 33.5 M pixels (8K is 33.2 M)

// Probes a video file: stream, codec, size, rotation; counts the video packets.
VideoInfo probe_video(const std::string& path);
// Decodes the frames with the given indices (0-based, presentation order) in one sequential
// pass and returns them by index. Every index must be < info.frame_count.
std::map<int64_t, VideoFrame> decode_video_frames(const std::string& path, const std::vector<int64_t>& indices);

// The same from a memory buffer (`name` is used in error messages); for fuzzing and tests.
VideoInfo probe_video_memory(const uint8_t* data, size_t size, const std::string& name);
std::map<int64_t, VideoFrame> decode_video_frames_memory(const uint8_t* data, size_t size, const std::string& name,
                                                         const std::vector<int64_t>& indices);

}  // namespace cb
