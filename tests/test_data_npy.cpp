// test_data_npy.cpp — the .npy parser/writer (round trips, hand-built headers, malformed
// inputs) and the small parsers of the sensor-suite sources (Hershey .jhf, GIMP .pat).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/error.h"
#include "suite/gimp_pattern.h"
#include "suite/hershey.h"
#include "io/npy.h"
#include "test_util.h"

namespace {

std::string header_v1(const std::string& dict) {
  std::string d = dict;
  while ((10 + d.size() + 1) % 64) d += ' ';
  d += '\n';
  std::string h("\x93NUMPY\x01\x00", 8);
  h += static_cast<char>(d.size() & 255);
  h += static_cast<char>(d.size() >> 8);
  return h + d;
}

cb::NpyHeader parse(const std::string& b) {
  return cb::parse_npy(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "x.npy");
}

void expect_error(const std::string& bytes, const std::string& needle) {
  try {
    parse(bytes);
    FAIL() << "no error, expected: " << needle;
  } catch (const cb::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("x.npy"), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(DataNpy, HandBuiltHeaderParses) {
  // A header as numpy writes it, with data 1.5, -2 as <f4.
  std::string b = header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }");
  const float v[2] = {1.5f, -2.f};
  b.append(reinterpret_cast<const char*>(v), 8);
  cb::NpyHeader h = parse(b);
  EXPECT_EQ(h.type, cb::NpyType::F32);
  ASSERT_EQ(h.shape.size(), 1u);
  EXPECT_EQ(h.shape[0], 2);
  EXPECT_EQ(h.data_offset % 64, 0u);
  at::Tensor t = cb::parse_npy_tensor(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "x.npy");
  EXPECT_EQ(t.scalar_type(), at::kFloat);
  EXPECT_FLOAT_EQ(t[0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(t[1].item<float>(), -2.f);
}

TEST(DataNpy, RoundTripEveryType) {
  cb::test::TempDir d;
  for (auto st : {at::kFloat, at::kDouble, at::kLong, at::kInt, at::kShort, at::kByte}) {
    at::Tensor t = (at::arange(24).reshape({2, 3, 4}) * 3 - 7).to(st);
    if (st == at::kByte) t = at::arange(24).reshape({2, 3, 4}).to(st);
    cb::write_npy(d.file("a.npy"), t);
    at::Tensor r = cb::read_npy(d.file("a.npy"));
    EXPECT_EQ(r.scalar_type(), st);
    EXPECT_TRUE(r.equal(t)) << c10::toString(st);
  }
  // scalar and empty shapes
  cb::write_npy(d.file("s.npy"), at::scalar_tensor(3.25));
  EXPECT_EQ(cb::read_npy(d.file("s.npy")).dim(), 0);
  cb::write_npy(d.file("e.npy"), at::zeros({0, 5}));
  EXPECT_EQ(cb::read_npy(d.file("e.npy")).sizes(), (std::vector<int64_t>{0, 5}));
}

TEST(DataNpy, Version2HeaderAndU1Descr) {
  std::string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }";
  while ((12 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  std::string b("\x93NUMPY\x02\x00", 8);
  for (int i = 0; i < 4; ++i) b += static_cast<char>((dict.size() >> (8 * i)) & 255);
  b += dict + std::string("\x01\x02\x03", 3);
  at::Tensor t = cb::parse_npy_tensor(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "x.npy");
  EXPECT_EQ(t.sum().item<int64_t>(), 6);
}

TEST(DataNpy, MalformedInputsAreRejected) {
  const std::string good = header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }");
  const std::string data(16, '\0');
  EXPECT_NO_THROW(parse(good + data));
  expect_error("\x93NUM", "truncated");
  expect_error("PK\x03\x04" + good.substr(4) + data, "bad magic");
  expect_error(good + data.substr(0, 15), "truncated .npy data");
  expect_error(good + data + "x", "trailing");
  expect_error(good.substr(0, 30), "runs past the end");
  expect_error(header_v1("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }") + data, "unsupported .npy dtype");
  expect_error(header_v1("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }") + data, "fortran_order True");
  expect_error(header_v1("{'descr': '<f4', 'shape': (2, 2), }") + data, "missing 'fortran_order'");
  expect_error(header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }") + data, "non-negative integer");
  expect_error(header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2) ") + data, "malformed");
  expect_error(header_v1("['descr', '<f4']") + data, "malformed");
  expect_error(header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 2), }") + data, "absurd");
  expect_error(header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000, 2000000000, 2000000000), }"),
               "absurd");
  expect_error(header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'extra': 1}") + data, "unexpected key");
  std::string v9 = good + data;
  v9[6] = 9;
  expect_error(v9, "version");
}

TEST(DataNpy, FuzzSeedsParse) {
  const std::string dir = std::string(CODEBIND_SOURCE_DIR) + "/fuzz/seeds/npy";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_NO_THROW(cb::read_npy(e.path().string())) << e.path();
    ++n;
  }
  EXPECT_GE(n, 3);
}

TEST(DataSources, HersheyGlyphsParse) {
  // '1' of the Roman simplex font: one stroke of 4 points ("NJPISFS[") after the extent "H\".
  auto g = cb::suite::parse_hershey("12345  5H\\NJPISFS[\n12345  3E_IR[R\n", "t.jhf");
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].left, 'H' - 'R');
  ASSERT_EQ(g[0].strokes.size(), 1u);
  ASSERT_EQ(g[0].strokes[0].size(), 4u);
  EXPECT_EQ(g[0].strokes[0][3].x, 'S' - 'R');
  EXPECT_EQ(g[0].strokes[0][3].y, '[' - 'R');
  // Pen-up splits strokes; wrapped records join lines.
  auto w = cb::suite::parse_hershey("12345  5H\\NJPI R\nSFS[\n", "t.jhf");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].strokes.size(), 2u);
  EXPECT_THROW(cb::suite::parse_hershey("12345 10H\\NJ\n", "t.jhf"), cb::InputError);
  EXPECT_THROW(cb::suite::parse_hershey("12345 xxH\\NJ\n", "t.jhf"), cb::InputError);
}

TEST(DataSources, GimpPatternParses) {
  std::string b;
  auto be = [&](uint32_t v) {
    for (int i = 3; i >= 0; --i) b += static_cast<char>((v >> (8 * i)) & 255);
  };
  be(24 + 2), be(1), be(2), be(1), be(3);
  b += "GPAT";
  b += std::string("p\0", 2);
  b += std::string("\x0a\x14\x1e\x28\x32\x3c", 6);
  auto p = cb::suite::parse_gimp_pattern(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "p.pat");
  EXPECT_EQ(p.width, 2);
  EXPECT_EQ(p.rgb[4], 0x32);
  EXPECT_THROW(cb::suite::parse_gimp_pattern(reinterpret_cast<const uint8_t*>(b.data()), b.size() - 1, "p.pat"),
               cb::InputError);
  b[20] = 'X';
  EXPECT_THROW(cb::suite::parse_gimp_pattern(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "p.pat"),
               cb::InputError);
}
