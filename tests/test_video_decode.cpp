// test_video_decode.cpp — io/video_parse (FFmpeg decoding) and the video path of `codebind
// embed`: videos are written here with FFmpeg's encoders (lossless FFV1 for exact checks, MPEG-4
// Part 2 in .mp4 for rotation metadata), decoded back and compared with the frames that went in.
#include <fstream>

#include "core/error.h"
#include "encoders/imagebind/imagebind_model.h"
#include "io/safetensors.h"
#include "media/video_parse.h"
#include "preprocess/video.h"
#include "test_util.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libswscale/swscale.h>
}

namespace {

// Frame i of a synthetic clip: a gradient that moves with i plus a square whose colour
// encodes i, so every frame differs and frame order is checkable. (H, W, 3) RGB.
cb::VideoFrame synth_frame(int i, int h, int w) {
  cb::VideoFrame f;
  f.height = h;
  f.width = w;
  f.rgb.resize(size_t(h) * w * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &f.rgb[(size_t(y) * w + x) * 3];
      const bool square = y >= h / 4 && y < h / 2 && x >= w / 4 && x < w / 2;
      p[0] = static_cast<uint8_t>(square ? (i * 37) % 256 : (x * 5 + i * 3) % 256);
      p[1] = static_cast<uint8_t>(square ? 255 - (i * 11) % 256 : (y * 7) % 256);
      p[2] = static_cast<uint8_t>((x + y + i) % 256);
    }
  return f;
}

// Encodes `frames` at `fps` with `codec` into `path` (container from the extension);
// `rotation_cw` > 0 stores a display matrix asking players to rotate clockwise.
void write_video(const std::string& path, const std::vector<cb::VideoFrame>& frames, int fps, AVCodecID codec_id,
                 AVPixelFormat pix, int rotation_cw = 0) {
  AVFormatContext* oc = nullptr;
  ASSERT_GE(avformat_alloc_output_context2(&oc, nullptr, nullptr, path.c_str()), 0) << path;
  const AVCodec* enc = avcodec_find_encoder(codec_id);
  ASSERT_NE(enc, nullptr);
  AVStream* st = avformat_new_stream(oc, nullptr);
  AVCodecContext* c = avcodec_alloc_context3(enc);
  const int w = frames[0].width, h = frames[0].height;
  c->width = w;
  c->height = h;
  c->time_base = AVRational{1, fps};
  c->framerate = AVRational{fps, 1};
  c->pix_fmt = pix;
  c->gop_size = 5;
  c->max_b_frames = 0;
  c->bit_rate = 4000000;
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  ASSERT_GE(avcodec_open2(c, enc, nullptr), 0);
  ASSERT_GE(avcodec_parameters_from_context(st->codecpar, c), 0);
  st->time_base = c->time_base;
  st->avg_frame_rate = c->framerate;
  if (rotation_cw) {
    auto* m = reinterpret_cast<int32_t*>(av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t)));
    av_display_rotation_set(m, rotation_cw);  // "clockwise"; av_display_rotation_get reads it back negated
  }
  ASSERT_GE(avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE), 0);
  ASSERT_GE(avformat_write_header(oc, nullptr), 0);
  SwsContext* sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, pix, SWS_BICUBIC, nullptr, nullptr, nullptr);
  AVFrame* fr = av_frame_alloc();
  AVPacket* pkt = av_packet_alloc();
  auto drain = [&] {
    while (avcodec_receive_packet(c, pkt) == 0) {
      av_packet_rescale_ts(pkt, c->time_base, st->time_base);
      pkt->stream_index = st->index;
      av_interleaved_write_frame(oc, pkt);
    }
  };
  for (size_t i = 0; i < frames.size(); ++i) {
    fr->format = pix;
    fr->width = w;
    fr->height = h;
    ASSERT_GE(av_frame_get_buffer(fr, 0), 0);
    const uint8_t* src[4] = {frames[i].rgb.data(), nullptr, nullptr, nullptr};
    const int src_stride[4] = {3 * w, 0, 0, 0};
    sws_scale(sws, src, src_stride, 0, h, fr->data, fr->linesize);
    fr->pts = static_cast<int64_t>(i);
    ASSERT_GE(avcodec_send_frame(c, fr), 0);
    av_frame_unref(fr);
    drain();
  }
  avcodec_send_frame(c, nullptr);
  drain();
  av_write_trailer(oc);
  avio_closep(&oc->pb);
  av_packet_free(&pkt);
  av_frame_free(&fr);
  sws_freeContext(sws);
  avcodec_free_context(&c);
  avformat_free_context(oc);
}

std::vector<cb::VideoFrame> synth_frames(int n, int h, int w) {
  std::vector<cb::VideoFrame> v;
  for (int i = 0; i < n; ++i) v.push_back(synth_frame(i, h, w));
  return v;
}

at::Tensor as_tensor(const std::vector<cb::VideoFrame>& fs) {  // (N, H, W, 3) uint8
  std::vector<at::Tensor> t;
  for (const auto& f : fs)
    t.push_back(at::from_blob(const_cast<uint8_t*>(f.rgb.data()), {f.height, f.width, 3}, at::kByte).clone());
  return at::stack(t);
}

void expect_info(const cb::VideoInfo& info, int64_t frames, double fps, int width, int height, int rotation,
                 const std::string& codec) {
  EXPECT_EQ(info.frame_count, frames);
  EXPECT_DOUBLE_EQ(info.fps, fps);
  EXPECT_EQ(info.width, width);
  EXPECT_EQ(info.height, height);
  EXPECT_EQ(info.rotation, rotation);
  EXPECT_EQ(info.codec, codec);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const cb::InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST(VideoDecode, LosslessFramesComeBackExactly) {
  cb::test::TempDir tmp;
  const std::string path = tmp.file("clip.mkv");
  const auto src = synth_frames(23, 30, 40);
  write_video(path, src, 10, AV_CODEC_ID_FFV1, AV_PIX_FMT_BGR0);
  expect_info(cb::probe_video(path), 23, 10.0, 40, 30, 0, "ffv1");
  const auto got = cb::decode_video_frames(path, {22, 0, 5, 5});
  ASSERT_EQ(got.size(), 3u);
  for (int i : {0, 5, 22}) {
    ASSERT_EQ(got.at(i).height, 30);
    ASSERT_EQ(got.at(i).width, 40);
    EXPECT_EQ(got.at(i).rgb, src[size_t(i)].rgb) << "frame " << i;
  }
  // The same bytes from memory give the same answer.
  const std::string bytes = cb::test::slurp(path);
  const auto* d = reinterpret_cast<const uint8_t*>(bytes.data());
  EXPECT_EQ(cb::probe_video_memory(d, bytes.size(), "mem").frame_count, 23);
  EXPECT_EQ(cb::decode_video_frames_memory(d, bytes.size(), "mem", {7}).at(7).rgb, src[7].rgb);
}

TEST(VideoDecode, TransformOfDecodedFileEqualsTransformOfFrames) {
  cb::test::TempDir tmp;
  const std::string path = tmp.file("clip.mkv");
  const auto src = synth_frames(53, 30, 40);  // 5.3 s at 10 fps: five distinct clips
  write_video(path, src, 10, AV_CODEC_ID_FFV1, AV_PIX_FMT_BGR0);
  cb::VideoClipConfig cfg;
  cfg.size = 24;
  at::Tensor got = cb::load_and_transform_video(path, cfg);
  at::Tensor want = cb::video_transform(as_tensor(src), 10.0, cfg);
  ASSERT_EQ(got.sizes(), (at::IntArrayRef{15, 3, 2, 24, 24}));
  EXPECT_TRUE(at::equal(got, want));
  // Only the first and last frame of each clip are decoded.
  EXPECT_EQ(cb::video_frames_used(53, 10.0).size(), 10u);
}

TEST(VideoDecode, RotationMetadataIsApplied) {
  cb::test::TempDir tmp;
  const std::string path = tmp.file("rotated.mp4");
  const auto src = synth_frames(12, 32, 48);
  write_video(path, src, 12, AV_CODEC_ID_MPEG4, AV_PIX_FMT_YUV420P, 90);
  expect_info(cb::probe_video(path), 12, 12.0, 32, 48, 90, "mpeg4");  // width/height after rotation
  const cb::VideoFrame f = cb::decode_video_frames(path, {3}).at(3);
  ASSERT_EQ(f.height, 48);
  ASSERT_EQ(f.width, 32);
  // Clockwise 90°: output (y, x) = input (H-1-x, y). MPEG-4 is lossy: compare on average.
  at::Tensor in = as_tensor({src[3]})[0].to(at::kFloat);                       // (32, 48, 3)
  at::Tensor want = in.flip({0}).transpose(0, 1);                               // (48, 32, 3)
  at::Tensor out = at::from_blob(const_cast<uint8_t*>(f.rgb.data()), {48, 32, 3}, at::kByte).to(at::kFloat);
  EXPECT_LT((out - want).abs().mean().item<double>(), 12.0);
  EXPECT_GT((out - in.transpose(0, 1)).abs().mean().item<double>(), 20.0);  // a transpose alone is wrong
}

TEST(VideoDecode, BadFilesGiveClearErrors) {
  cb::test::TempDir tmp;
  EXPECT_NE(error_of([&] { cb::probe_video(tmp.file("missing.mp4")); }).find("no such video file"), std::string::npos);
  std::ofstream(tmp.file("empty.mp4")).close();
  std::string e = error_of([&] { cb::probe_video(tmp.file("empty.mp4")); });
  EXPECT_NE(e.find(tmp.file("empty.mp4")), std::string::npos) << e;
  {
    std::ofstream g(tmp.file("garbage.mkv"), std::ios::binary);
    for (int i = 0; i < 5000; ++i) g.put(static_cast<char>((i * 7919) % 251));
  }
  e = error_of([&] { cb::probe_video(tmp.file("garbage.mkv")); });
  EXPECT_NE(e.find("garbage.mkv"), std::string::npos) << e;
  // A file with no video stream (a WAV header with a little silence).
  {
    std::ofstream w(tmp.file("sound.wav"), std::ios::binary);
    auto u32 = [&](uint32_t v) { w.write(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](uint16_t v) { w.write(reinterpret_cast<const char*>(&v), 2); };
    w.write("RIFF", 4), u32(36 + 1600), w.write("WAVEfmt ", 8), u32(16), u16(1), u16(1), u32(8000), u32(16000), u16(2),
        u16(16), w.write("data", 4), u32(1600);
    for (int i = 0; i < 1600; ++i) w.put(0);
  }
  e = error_of([&] { cb::probe_video(tmp.file("sound.wav")); });
  EXPECT_NE(e.find("no video stream"), std::string::npos) << e;
  // Frames past the end of the stream.
  write_video(tmp.file("short.mkv"), synth_frames(4, 16, 16), 5, AV_CODEC_ID_FFV1, AV_PIX_FMT_BGR0);
  e = error_of([&] { cb::decode_video_frames(tmp.file("short.mkv"), {9}); });
  EXPECT_NE(e.find("frame 9 was requested but the stream decoded to 4 frames"), std::string::npos) << e;
  // Truncated: the header survives, the tail of the stream is gone — fewer packets, and
  // decoding the lost frames fails with a message, never a crash.
  write_video(tmp.file("whole.mkv"), synth_frames(20, 32, 32), 10, AV_CODEC_ID_FFV1, AV_PIX_FMT_BGR0);
  const std::string whole = cb::test::slurp(tmp.file("whole.mkv"));
  {
    std::ofstream t(tmp.file("cut.mkv"), std::ios::binary);
    t.write(whole.data(), static_cast<std::streamsize>(whole.size() / 2));
  }
  const cb::VideoInfo cut = cb::probe_video(tmp.file("cut.mkv"));
  EXPECT_GT(cut.frame_count, 0);
  EXPECT_LT(cut.frame_count, 20);
  e = error_of([&] { cb::decode_video_frames(tmp.file("cut.mkv"), {19}); });
  EXPECT_NE(e.find("cut.mkv"), std::string::npos) << e;
}

TEST(VideoDecode, EmbedCliEmbedsAVideoFile) {
  cb::test::TempDir tmp;
  cb::ImageBindConfig cfg = cb::ImageBindConfig::tiny();
  cb::ImageBindModel m(cfg, {cb::Modality::Vision}, 5);
  cb::NamedTensors ts;
  for (auto& [k, t] : m.params) ts.emplace_back(k, t);
  cb::save_safetensors(tmp.file("w.safetensors"), ts);
  std::ofstream(tmp.file("cfg.json")) << cfg.to_json().dump();
  const std::string video = tmp.file("clip.mkv");
  write_video(video, synth_frames(31, 40, 56), 10, AV_CODEC_ID_FFV1, AV_PIX_FMT_BGR0);
  ASSERT_EQ(cb::test::run_codebind("embed --weights " + tmp.file("w.safetensors") + " --config " + tmp.file("cfg.json") +
                                       " --modality vision --dtype fp32 --out " + tmp.file("e.safetensors") + " " + video,
                                   tmp.file("log")),
            0)
      << cb::test::slurp(tmp.file("log"));
  at::Tensor e = cb::SafetensorsFile(tmp.file("e.safetensors")).get("embeddings");
  const cb::ModalityConfig& mc = cfg.at(cb::Modality::Vision);
  cb::VideoClipConfig vc;
  vc.size = static_cast<int>(mc.input_shape.back());
  at::Tensor want = m.embed(cb::Modality::Vision, cb::load_and_transform_video(video, vc).unsqueeze(0));
  ASSERT_EQ(e.sizes(), want.sizes());
  EXPECT_LT((e - want).abs().max().item<double>(), 1e-5);
}

}  // namespace
