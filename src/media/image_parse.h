// image_parse.h — torch-free PNG/JPEG decoding and PNG writing (libpng, libjpeg-turbo),
// matching Pillow's decoders for the vision pipeline (docs/imagebind.md §2.1).
// EXIF orientation is NOT applied (Pillow does not either).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cb {

// An interleaved HWC image. bits = 8 → `pixels` holds the samples; bits = 16 → `pixels16`.
// channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
struct Image {
  int height = 0, width = 0, channels = 0;
  int bits = 8;
  std::vector<uint8_t> pixels;     // (H, W, C) when bits == 8
  std::vector<uint16_t> pixels16;  // (H, W, C) when bits == 16
  size_t size() const { return static_cast<size_t>(height) * width * channels; }
};

// Largest accepted image (pixels); larger headers are refused before allocating.
constexpr uint64_t kMaxImagePixels = 1ull << 28;  // 268 M pixels

// Decodes PNG (1/2/4/8/16-bit grey, grey+alpha, palette, RGB, RGBA; palette → RGB(A))
// or JPEG (ISLOW, fancy upsampling; grey stays 1 channel; CMYK/YCCK is converted to RGB
// the way Pillow's convert("RGB") does — not verified against Pillow) from a file or a
// memory buffer. `name` is used in error messages. keep16: PNG 16-bit stays 16-bit,
// otherwise it is reduced to 8 bits the way Pillow's convert does (high byte).
Image decode_image(const std::string& path, bool keep16 = false);
Image decode_image_memory(const uint8_t* data, size_t size, const std::string& name,
                          bool keep16 = false);

// Pillow convert("RGB"): grey replicated, alpha dropped (no compositing). 8-bit in → 8-bit.
Image to_rgb8(const Image& img);
// Pillow convert("L")-style single channel (ITU-R 601-2 luma, as Pillow) for 8-bit input;
// 16-bit grey passes through.
Image to_grey(const Image& img);

// Writes an 8- or 16-bit PNG (1..4 channels) atomically.
void write_png(const std::string& path, const Image& img);

}  // namespace cb
