// image_parse.cpp — torch-free PNG (libpng) and JPEG (libjpeg-turbo) decoding with Pillow's
// conventions (docs/imagebind.md §2.1). Every failure is an InputError naming the file;
// the image size is checked against kMaxImagePixels before any pixel buffer is allocated.
#include "media/image_parse.h"

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace cb {
namespace {

void check_dims(const std::string& name, uint64_t w, uint64_t h, int channels) {
  CB_CHECK_INPUT(w > 0 && h > 0, "{}: image has zero size ({}x{})", name, w, h);
  CB_CHECK_INPUT(w * h <= kMaxImagePixels,
                 "{}: image {}x{} exceeds the limit of {} pixels; refusing to decode", name, w, h,
                 kMaxImagePixels);
  (void)channels;
}


// ---------------------------------------------------------------- PNG
struct PngReadState {
  const uint8_t* data;
  size_t size;
  size_t pos;
  char error[256];
};

void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
  auto* st = static_cast<PngReadState*>(png_get_io_ptr(png));
  if (st->pos + n > st->size) png_error(png, "unexpected end of file (truncated)");
  std::memcpy(out, st->data + st->pos, n);
  st->pos += n;
}

void png_on_error(png_structp png, png_const_charp msg) {
  auto* st = static_cast<PngReadState*>(png_get_io_ptr(png));
  std::snprintf(st->error, sizeof(st->error), "%s", msg);
  png_longjmp(png, 1);
}
void png_on_warning(png_structp, png_const_charp) {}

Image decode_png(const uint8_t* data, size_t size, const std::string& name, bool keep16) {
  PngReadState st{data, size, 0, {0}};
  Image img;
  std::vector<png_bytep> rows;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  CB_CHECK_INPUT(png != nullptr, "{}: cannot initialise the PNG decoder", name);
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    fail_input("{}: cannot initialise the PNG decoder", name);
  }
  png_set_read_fn(png, &st, png_read_mem);
  png_set_error_fn(png, &st, png_on_error, png_on_warning);
  volatile bool too_big = false;
  volatile uint64_t big_w = 0, big_h = 0;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    std::string msg = st.error;
    fail_input("{}: corrupt or truncated PNG ({})", name, msg.empty() ? "decoder error" : msg);
  }
  png_set_user_limits(png, 1u << 24, 1u << 24);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  int depth = png_get_bit_depth(png, info);
  int ctype = png_get_color_type(png, info);
  if (uint64_t(w) * h > kMaxImagePixels) {
    too_big = true;
    big_w = w, big_h = h;
  }
  if (!too_big) {
    const int ch = ctype == PNG_COLOR_TYPE_GRAY ? 1 : ctype == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                   : ctype == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 3;
    // Deflate expands at most 1032:1, so a tiny file cannot make us allocate gigabytes.
    const uint64_t packed = (uint64_t(w) * ch * depth + 7) / 8 * h;
    if (packed > uint64_t(size) * 2048 + (uint64_t(1) << 20)) {
      std::snprintf(st.error, sizeof(st.error),
                    "header claims %ux%u pixels but the file has only %zu bytes", unsigned(w),
                    unsigned(h), size);
      png_longjmp(png, 1);
    }
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
      png_set_palette_to_rgb(png);
      if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    }
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_swap(png);  // host (little-endian) order for uint16 storage
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    img.width = int(w);
    img.height = int(h);
    img.channels = png_get_channels(png, info);
    img.bits = png_get_bit_depth(png, info) == 16 ? 16 : 8;
    size_t rowbytes = png_get_rowbytes(png, info);
    size_t want = size_t(w) * img.channels * (img.bits / 8);
    if (rowbytes != want) {
      std::snprintf(st.error, sizeof(st.error), "unexpected row size %zu (expected %zu)", rowbytes, want);
      png_longjmp(png, 1);
    }
    rows.resize(h);
    if (img.bits == 16) {
      img.pixels16.resize(img.size());
      for (png_uint_32 y = 0; y < h; ++y)
        rows[y] = reinterpret_cast<png_bytep>(img.pixels16.data() + size_t(y) * w * img.channels);
    } else {
      img.pixels.resize(img.size());
      for (png_uint_32 y = 0; y < h; ++y) rows[y] = img.pixels.data() + size_t(y) * w * img.channels;
    }
    png_read_image(png, rows.data());
    png_read_end(png, nullptr);
  }
  png_destroy_read_struct(&png, &info, nullptr);
  if (too_big) check_dims(name, big_w, big_h, 0);
  if (img.bits == 16 && !keep16) {
    // Pillow: 16-bit colour PNGs open as 8-bit (high byte); 16-bit grey opens as I;16, whose
    // conversion to L/RGB clips at 255.
    Image o;
    o.width = img.width, o.height = img.height, o.channels = img.channels, o.bits = 8;
    o.pixels.resize(img.size());
    bool grey = img.channels == 1;
    for (size_t i = 0; i < img.size(); ++i) {
      uint16_t v = img.pixels16[i];
      o.pixels[i] = grey ? uint8_t(std::min<uint16_t>(v, 255)) : uint8_t(v >> 8);
    }
    return o;
  }
  return img;
}

// ---------------------------------------------------------------- JPEG
struct JpegErr {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
  bool truncated;
};

void jpeg_on_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jump, 1);
}
void jpeg_on_message(j_common_ptr cinfo, int level) {
  auto* e = reinterpret_cast<JpegErr*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) e->truncated = true;
}

Image decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  jpeg_decompress_struct cinfo;
  JpegErr err;
  std::memset(&err, 0, sizeof(err));
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpeg_on_error;
  err.pub.emit_message = jpeg_on_message;
  Image img;
  std::string fail;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    fail_input("{}: corrupt or truncated JPEG ({})", name, err.msg);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, const_cast<unsigned char*>(data), static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  uint64_t w = cinfo.image_width, h = cinfo.image_height;
  const int ncomp = cinfo.num_components;
  if (w == 0 || h == 0 || w * h > kMaxImagePixels) {
    fail = "size";
  } else if (w * h * uint64_t(ncomp) > uint64_t(size) * 8192 + (uint64_t(1) << 20)) {
    fail = "ratio";
  } else if (cinfo.num_components == 4) {
    // Pillow reads 4-component JPEGs as inverted ("Adobe") CMYK; convert("RGB") then gives
    // nk = 255 - k, channel = nk - c*nk/255 (rounded like Pillow's MULDIV255).
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    cinfo.out_color_space = JCS_CMYK;
    jpeg_start_decompress(&cinfo);
    img.width = int(cinfo.output_width);
    img.height = int(cinfo.output_height);
    img.channels = 3;
    img.bits = 8;
    img.pixels.resize(img.size());
    std::vector<uint8_t> row(size_t(img.width) * 4);
    while (cinfo.output_scanline < cinfo.output_height) {
      const size_t y = cinfo.output_scanline;
      JSAMPROW rp = row.data();
      jpeg_read_scanlines(&cinfo, &rp, 1);
      for (int x = 0; x < img.width; ++x) {
        const uint8_t* q = &row[size_t(x) * 4];
        const int nk = q[3];  // 255 - (255 - raw)
        for (int c = 0; c < 3; ++c) {
          int t = (255 - q[c]) * nk + 128;
          int v = nk - (((t >> 8) + t) >> 8);
          img.pixels[(y * img.width + x) * 3 + c] = uint8_t(std::min(255, std::max(0, v)));
        }
      }
    }
    jpeg_finish_decompress(&cinfo);
  } else if (cinfo.num_components != 1 && cinfo.num_components != 3) {
    fail = "components";
  } else {
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    img.width = int(cinfo.output_width);
    img.height = int(cinfo.output_height);
    img.channels = cinfo.output_components;
    img.bits = 8;
    img.pixels.resize(img.size());
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = img.pixels.data() + size_t(cinfo.output_scanline) * img.width * img.channels;
      jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  if (fail == "size") check_dims(name, w, h, 3);
  // A header may not promise more pixels than the data can hold (>= 1 bit per 8x8 block),
  // so a tiny file cannot make us allocate gigabytes.
  CB_CHECK_INPUT(fail != "ratio", "{}: JPEG header claims {}x{} pixels but the file has only {} bytes "
                 "(truncated or corrupt)", name, w, h, size);
  CB_CHECK_INPUT(fail != "components", "{}: JPEG with {} colour components is not supported", name, ncomp);
  CB_CHECK_INPUT(!err.truncated, "{}: truncated JPEG (premature end of data)", name);
  return img;
}

}  // namespace

Image decode_image_memory(const uint8_t* data, size_t size, const std::string& name, bool keep16) {
  static const uint8_t kPngSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (size >= 8 && std::memcmp(data, kPngSig, 8) == 0) return decode_png(data, size, name, keep16);
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    return decode_jpeg(data, size, name);
  fail_input("{}: unsupported image format (expected PNG or JPEG; {} bytes)", name, size);
}

Image decode_image(const std::string& path, bool keep16) {
  std::ifstream f(path, std::ios::binary);
  CB_CHECK_INPUT(f.good(), "{}: cannot open image file", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  CB_CHECK_INPUT(!bytes.empty(), "{}: empty image file", path);
  return decode_image_memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path,
                             keep16);
}

Image to_rgb8(const Image& img) {
  CB_CHECK_INPUT(img.channels >= 1 && img.channels <= 4, "to_rgb8: unsupported channel count {}",
                 img.channels);
  Image o;
  o.width = img.width, o.height = img.height, o.channels = 3, o.bits = 8;
  o.pixels.resize(o.size());
  const size_t n = size_t(img.width) * img.height;
  auto px = [&](size_t i) -> uint8_t {
    if (img.bits == 8) return img.pixels[i];
    uint16_t v = img.pixels16[i];
    return img.channels <= 2 ? uint8_t(std::min<uint16_t>(v, 255)) : uint8_t(v >> 8);
  };
  for (size_t p = 0; p < n; ++p) {
    for (int c = 0; c < 3; ++c) {
      int src = img.channels <= 2 ? 0 : c;  // grey (+alpha) replicated; alpha dropped
      o.pixels[p * 3 + c] = px(p * img.channels + src);
    }
  }
  return o;
}

Image to_grey(const Image& img) {
  CB_CHECK_INPUT(img.channels >= 1 && img.channels <= 4, "to_grey: unsupported channel count {}",
                 img.channels);
  Image o;
  o.width = img.width, o.height = img.height, o.channels = 1, o.bits = img.bits;
  const size_t n = size_t(img.width) * img.height;
  if (img.channels <= 2) {
    if (img.bits == 16) {
      o.pixels16.resize(n);
      for (size_t p = 0; p < n; ++p) o.pixels16[p] = img.pixels16[p * img.channels];
    } else {
      o.pixels.resize(n);
      for (size_t p = 0; p < n; ++p) o.pixels[p] = img.pixels[p * img.channels];
    }
    return o;
  }
  Image rgb = img.bits == 8 ? img : to_rgb8(img);
  o.bits = 8;
  o.pixels.resize(n);
  for (size_t p = 0; p < n; ++p) {
    const uint8_t* q = &rgb.pixels[p * rgb.channels];
    // Pillow L = R*299/1000 + G*587/1000 + B*114/1000 in 16.16 fixed point, rounded.
    uint32_t v = (q[0] * 19595u + q[1] * 38470u + q[2] * 7471u + 0x8000u) >> 16;
    o.pixels[p] = uint8_t(v);
  }
  return o;
}

}  // namespace cb
