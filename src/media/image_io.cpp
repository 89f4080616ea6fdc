// image_io.cpp — Image ↔ tensor conversion and PNG writing (libpng, 8/16-bit, atomic).
#include "media/image_io.h"

#include <png.h>

#include <csetjmp>
#include <cstring>

#include "core/error.h"
#include "io/mapped_file.h"

namespace cb {

at::Tensor image_to_tensor(const Image& img) {
  CB_CHECK_INPUT(img.height > 0 && img.width > 0 && img.channels > 0, "image_to_tensor: empty image");
  if (img.bits == 16) {
    at::Tensor t = at::empty({img.height, img.width, img.channels}, at::kInt);  // (H, W, C)
    int32_t* p = t.data_ptr<int32_t>();
    for (size_t i = 0; i < img.size(); ++i) p[i] = img.pixels16[i];
    return t;
  }
  at::Tensor t = at::empty({img.height, img.width, img.channels}, at::kByte);  // (H, W, C)
  std::memcpy(t.data_ptr<uint8_t>(), img.pixels.data(), img.size());
  return t;
}

Image tensor_to_image(const at::Tensor& t_in) {
  at::Tensor t = t_in.dim() == 2 ? t_in.unsqueeze(-1) : t_in;
  CB_CHECK_INPUT(t.dim() == 3 && t.size(2) >= 1 && t.size(2) <= 4,
                 "tensor_to_image: expected (H, W[, C<=4]), got {}", t.dim());
  t = t.contiguous().cpu();
  Image img;
  img.height = int(t.size(0)), img.width = int(t.size(1)), img.channels = int(t.size(2));
  bool sixteen = t.scalar_type() != at::kByte && t.max().item<int64_t>() > 255;
  if (sixteen) {
    at::Tensor v = t.to(at::kInt).clamp(0, 65535);
    img.bits = 16;
    img.pixels16.resize(img.size());
    const int32_t* p = v.data_ptr<int32_t>();
    for (size_t i = 0; i < img.size(); ++i) img.pixels16[i] = uint16_t(p[i]);
  } else {
    at::Tensor v = t.to(at::kInt).clamp(0, 255).to(at::kByte).contiguous();
    img.bits = 8;
    img.pixels.assign(v.data_ptr<uint8_t>(), v.data_ptr<uint8_t>() + img.size());
  }
  return img;
}

namespace {
void png_write_mem(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), n);
}
void png_flush_mem(png_structp) {}
void png_write_error(png_structp png, png_const_charp) { png_longjmp(png, 1); }
}  // namespace

void write_png(const std::string& path, const Image& img) {
  CB_CHECK_INPUT(img.channels >= 1 && img.channels <= 4 && img.width > 0 && img.height > 0,
                 "{}: cannot write an image of {}x{}x{}", path, img.width, img.height, img.channels);
  CB_CHECK_INPUT(img.bits == 8 || img.bits == 16, "{}: PNG bit depth {} unsupported", path, img.bits);
  CB_CHECK_INPUT((img.bits == 8 ? img.pixels.size() : img.pixels16.size()) == img.size(),
                 "{}: pixel buffer size does not match {}x{}x{}", path, img.width, img.height, img.channels);
  std::string bytes;
  std::vector<uint8_t> row;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, png_write_error, nullptr);
  CB_CHECK_INPUT(png != nullptr, "{}: cannot initialise the PNG encoder", path);
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fail_input("{}: PNG encoding failed", path);
  }
  static const int kTypes[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                               PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_write_fn(png, &bytes, png_write_mem, png_flush_mem);
  png_set_IHDR(png, info, img.width, img.height, img.bits, kTypes[img.channels - 1],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t rowlen = size_t(img.width) * img.channels;
  row.resize(rowlen * (img.bits / 8));
  for (int y = 0; y < img.height; ++y) {
    if (img.bits == 8) {
      std::memcpy(row.data(), img.pixels.data() + y * rowlen, rowlen);
    } else {
      for (size_t i = 0; i < rowlen; ++i) {  // PNG is big-endian
        uint16_t v = img.pixels16[y * rowlen + i];
        row[2 * i] = uint8_t(v >> 8);
        row[2 * i + 1] = uint8_t(v & 0xFF);
      }
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  write_file_atomic(path, bytes);
}

}  // namespace cb
