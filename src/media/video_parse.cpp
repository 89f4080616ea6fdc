// video_parse.cpp — see video_parse.h. One RAII demuxer (file or memory) shared by probing and
// decoding; decoding reads the stream once, front to back, and keeps only the wanted frames.
#include "media/video_parse.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>

#include "core/error.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace cb {

namespace {

std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

// FFmpeg's own log lines would interleave with ours; its failures reach the user through
// our InputError messages instead.
void quiet_ffmpeg_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });
}

// A byte range served to libavformat as a seekable stream.
struct MemorySource {
  const uint8_t* data = nullptr;
  size_t size = 0, pos = 0;
  static int read(void* opaque, uint8_t* buf, int n) {
    auto* s = static_cast<MemorySource*>(opaque);
    const size_t left = s->size - s->pos;
    if (left == 0) return AVERROR_EOF;
    const size_t k = std::min(left, static_cast<size_t>(std::max(n, 0)));
    std::memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return static_cast<int>(k);
  }
  static int64_t seek(void* opaque, int64_t offset, int whence) {
    auto* s = static_cast<MemorySource*>(opaque);
    if (whence == AVSEEK_SIZE) return static_cast<int64_t>(s->size);
    int64_t base = 0;
    switch (whence & ~AVSEEK_FORCE) {
      case SEEK_SET: base = 0; break;
      case SEEK_CUR: base = static_cast<int64_t>(s->pos); break;
      case SEEK_END: base = static_cast<int64_t>(s->size); break;
      default: return AVERROR(EINVAL);
    }
    if (offset > static_cast<int64_t>(s->size) - base || offset < -base) return AVERROR(EINVAL);
    s->pos = static_cast<size_t>(base + offset);
    return static_cast<int64_t>(s->pos);
  }
};

// Clockwise rotation (degrees) that the stream's display matrix asks for, snapped to 0/90/180/270.
int display_rotation(const AVStream* st) {
  const uint8_t* m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (!m) return 0;
  const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(m));  // counter-clockwise
  if (!std::isfinite(ccw)) return 0;
  int cw = static_cast<int>(std::lround(-ccw / 90.0)) * 90;
  cw %= 360;
  return cw < 0 ? cw + 360 : cw;
}

// (H, W, 3) → rotated clockwise by 90/180/270.
VideoFrame rotate(const VideoFrame& f, int cw) {
  if (cw == 0) return f;
  VideoFrame o;
  const bool swap = cw == 90 || cw == 270;
  o.height = swap ? f.width : f.height;
  o.width = swap ? f.height : f.width;
  o.rgb.resize(f.rgb.size());
  for (int y = 0; y < f.height; ++y)
    for (int x = 0; x < f.width; ++x) {
      int oy, ox;
      if (cw == 90) oy = x, ox = f.height - 1 - y;
      else if (cw == 180) oy = f.height - 1 - y, ox = f.width - 1 - x;
      else oy = f.width - 1 - x, ox = y;
      std::memcpy(&o.rgb[(size_t(oy) * o.width + ox) * 3], &f.rgb[(size_t(y) * f.width + x) * 3], 3);
    }
  return o;
}

class Demuxer {
 public:
  explicit Demuxer(const std::string& path) : name_(path) {
    quiet_ffmpeg_log();
    CB_CHECK_INPUT(std::filesystem::is_regular_file(path), "{}: no such video file", path);
    const int r = avformat_open_input(&fmt_, path.c_str(), nullptr, nullptr);
    CB_CHECK_INPUT(r >= 0, "{}: not a readable video container ({})", path, av_error_text(r));
    find_stream();
  }
  Demuxer(const uint8_t* data, size_t size, const std::string& name) : name_(name) {
    quiet_ffmpeg_log();
    src_.data = data;
    src_.size = size;
    constexpr int kBuf = 1 << 15;
    auto* buf = static_cast<unsigned char*>(av_malloc(kBuf));
    CB_CHECK_INPUT(buf, "{}: out of memory", name);
    avio_ = avio_alloc_context(buf, kBuf, 0, &src_, &MemorySource::read, nullptr, &MemorySource::seek);
    if (!avio_) {
      av_free(buf);
      fail_input("{}: out of memory", name);
    }
    fmt_ = avformat_alloc_context();
    CB_CHECK_INPUT(fmt_, "{}: out of memory", name);
    fmt_->pb = avio_;
    fmt_->flags |= AVFMT_FLAG_CUSTOM_IO;
    const int r = avformat_open_input(&fmt_, nullptr, nullptr, nullptr);  // frees fmt_ on failure
    CB_CHECK_INPUT(r >= 0, "{}: not a readable video container ({})", name, av_error_text(r));
    find_stream();
  }

  VideoInfo info() {
    VideoInfo v;
    AVStream* st = fmt_->streams[stream_];
    AVRational rate = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
    CB_CHECK_INPUT(rate.num > 0 && rate.den > 0, "{}: the video stream has no frame rate", name_);
    v.fps = av_q2d(rate);
    v.rotation = display_rotation(st);
    const bool swap = v.rotation == 90 || v.rotation == 270;
    v.width = swap ? st->codecpar->height : st->codecpar->width;
    v.height = swap ? st->codecpar->width : st->codecpar->height;
    const AVCodecDescriptor* d = avcodec_descriptor_get(st->codecpar->codec_id);
    v.codec = d ? d->name : "unknown";
    AVPacket* pkt = av_packet_alloc();
    CB_CHECK_INPUT(pkt, "{}: out of memory", name_);
    int r;
    while ((r = av_read_frame(fmt_, pkt)) >= 0) {
      if (pkt->stream_index == stream_) ++v.frame_count;
      av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    CB_CHECK_INPUT(r == AVERROR_EOF, "{}: reading packet {} of the video stream failed ({})", name_, v.frame_count,
                   av_error_text(r));
    CB_CHECK_INPUT(v.frame_count > 0, "{}: the video stream holds no frames", name_);
    return v;
  }

  std::map<int64_t, VideoFrame> decode(const std::vector<int64_t>& indices) {
    std::set<int64_t> want(indices.begin(), indices.end());
    std::map<int64_t, VideoFrame> out;
    if (want.empty()) return out;
    CB_CHECK_INPUT(*want.begin() >= 0, "{}: negative frame index {}", name_, *want.begin());
    open_decoder();
    const int rotation = display_rotation(fmt_->streams[stream_]);
    AVPacket* pkt = av_packet_alloc();
    AVFrame* frame = av_frame_alloc();
    std::unique_ptr<AVPacket, void (*)(AVPacket*)> pkt_guard(pkt, [](AVPacket* p) { av_packet_free(&p); });
    std::unique_ptr<AVFrame, void (*)(AVFrame*)> frame_guard(frame, [](AVFrame* f) { av_frame_free(&f); });
    CB_CHECK_INPUT(pkt && frame, "{}: out of memory", name_);
    int64_t next = 0;  // index of the next frame the decoder delivers
    const int64_t last = *want.rbegin();
    auto drain = [&]() {
      while (next <= last) {
        const int r = avcodec_receive_frame(codec_, frame);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
        if (r < 0) fail_input("{}: decoding frame {} failed ({})", name_, next, av_error_text(r));
        if (want.count(next)) out.emplace(next, rotate(to_rgb(frame, next), rotation));
        ++next;
        av_frame_unref(frame);
      }
    };
    bool eof = false;
    while (next <= last && !eof) {
      const int r = av_read_frame(fmt_, pkt);
      if (r == AVERROR_EOF) {
        eof = true;
        avcodec_send_packet(codec_, nullptr);  // flush: the delayed frames come out below
      } else if (r < 0) {
        fail_input("{}: reading the video stream failed after {} frames ({})", name_, next, av_error_text(r));
      } else {
        if (pkt->stream_index == stream_) {
          int s = avcodec_send_packet(codec_, pkt);
          if (s == AVERROR(EAGAIN)) {  // output must be read first: drain, then the packet goes in
            drain();
            s = avcodec_send_packet(codec_, pkt);
          }
          // A damaged packet costs its frame (as in players); anything else is fatal.
          if (s < 0 && s != AVERROR_INVALIDDATA && s != AVERROR(EAGAIN))
            fail_input("{}: sending a packet to the {} decoder failed ({})", name_, codec_->codec->name,
                       av_error_text(s));
        }
        av_packet_unref(pkt);
      }
      drain();
    }
    CB_CHECK_INPUT(next > last, "{}: frame {} was requested but the stream decoded to {} frames", name_, last, next);
    return out;
  }

 private:
  void find_stream() {
    int r = avformat_find_stream_info(fmt_, nullptr);
    CB_CHECK_INPUT(r >= 0, "{}: cannot read the stream information ({})", name_, av_error_text(r));
    stream_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    CB_CHECK_INPUT(stream_ >= 0, "{}: no video stream in the file", name_);
    const AVCodecParameters* p = fmt_->streams[stream_]->codecpar;
    CB_CHECK_INPUT(p->width > 0 && p->height > 0, "{}: the video stream has no frame size", name_);
    CB_CHECK_INPUT(int64_t(p->width) * p->height <= kMaxVideoFramePixels,
                   "{}: frame size {}x{} is above the limit of {} pixels", name_, p->width, p->height,
                   kMaxVideoFramePixels);
  }

  void open_decoder() {
    const AVCodecParameters* p = fmt_->streams[stream_]->codecpar;
    const AVCodec* dec = avcodec_find_decoder(p->codec_id);
    const AVCodecDescriptor* d = avcodec_descriptor_get(p->codec_id);
    CB_CHECK_INPUT(dec, "{}: no decoder for the video codec '{}' in this FFmpeg build", name_, d ? d->name : "unknown");
    codec_ = avcodec_alloc_context3(dec);
    CB_CHECK_INPUT(codec_, "{}: out of memory", name_);
    int r = avcodec_parameters_to_context(codec_, p);
    CB_CHECK_INPUT(r >= 0, "{}: bad codec parameters ({})", name_, av_error_text(r));
    codec_->thread_count = 0;  // FFmpeg picks; frame order and values do not depend on it
    r = avcodec_open2(codec_, dec, nullptr);
    CB_CHECK_INPUT(r >= 0, "{}: cannot open the {} decoder ({})", name_, dec->name, av_error_text(r));
  }

  // swscale conversion at the native size, as decord's `scale=W:H` → RGB24 sink.
  VideoFrame to_rgb(const AVFrame* f, int64_t index) {
    CB_CHECK_INPUT(f->width > 0 && f->height > 0 && int64_t(f->width) * f->height <= kMaxVideoFramePixels,
                   "{}: frame {} has size {}x{}", name_, index, f->width, f->height);
    sws_ = sws_getCachedContext(sws_, f->width, f->height, static_cast<AVPixelFormat>(f->format), f->width, f->height,
                                AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr);
    CB_CHECK_INPUT(sws_, "{}: frame {}: cannot convert pixel format '{}' to RGB", name_, index,
                   av_get_pix_fmt_name(static_cast<AVPixelFormat>(f->format)) ?: "unknown");
    // swscale's SIMD writers run past the end of a row (found by fuzz_video with valgrind: 8–16
    // bytes after a tight 8×8 RGB buffer), so it writes into 64-byte-aligned padded rows first.
    const int stride = (3 * f->width + 63) / 64 * 64;
    padded_.resize(size_t(stride) * (f->height + 1) + 64);  // every byte read back is written by sws_scale
    uint8_t* dst[4] = {padded_.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {stride, 0, 0, 0};
    const int h = sws_scale(sws_, f->data, f->linesize, 0, f->height, dst, dst_stride);
    CB_CHECK_INPUT(h == f->height, "{}: frame {}: colour conversion failed", name_, index);
    VideoFrame v;
    v.height = f->height;
    v.width = f->width;
    v.rgb.resize(size_t(f->height) * f->width * 3);
    for (int y = 0; y < f->height; ++y)
      std::memcpy(&v.rgb[size_t(y) * f->width * 3], &padded_[size_t(y) * stride], size_t(f->width) * 3);
    return v;
  }

  // FFmpeg objects, freed by this member's destructor (which also runs when a constructor throws).
  struct Handles {
    AVIOContext* avio = nullptr;
    AVFormatContext* fmt = nullptr;
    AVCodecContext* codec = nullptr;
    SwsContext* sws = nullptr;
    Handles() = default;
    Handles(const Handles&) = delete;
    Handles& operator=(const Handles&) = delete;
    ~Handles() {
      if (codec) avcodec_free_context(&codec);
      if (sws) sws_freeContext(sws);
      if (fmt) avformat_close_input(&fmt);
      if (avio) {
        av_freep(&avio->buffer);
        avio_context_free(&avio);
      }
    }
  };
  std::string name_;
  MemorySource src_;
  std::vector<uint8_t> padded_;  // swscale's output rows (to_rgb)
  Handles h_;
  AVIOContext*& avio_ = h_.avio;
  AVFormatContext*& fmt_ = h_.fmt;
  AVCodecContext*& codec_ = h_.codec;
  SwsContext*& sws_ = h_.sws;
  int stream_ = -1;
};

}  // namespace

VideoInfo probe_video(const std::string& path) { return Demuxer(path).info(); }

std::map<int64_t, VideoFrame> decode_video_frames(const std::string& path, const std::vector<int64_t>& indices) {
  return Demuxer(path).decode(indices);
}

VideoInfo probe_video_memory(const uint8_t* data, size_t size, const std::string& name) {
  return Demuxer(data, size, name).info();
}

std::map<int64_t, VideoFrame> decode_video_frames_memory(const uint8_t* data, size_t size, const std::string& name,
                                                         const std::vector<int64_t>& indices) {
  return Demuxer(data, size, name).decode(indices);
}

}  // namespace cb
