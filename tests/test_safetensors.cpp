// test_safetensors.cpp — round trips and malformed-file rejection of the safetensors reader.
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace cb {
namespace {

std::string read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
void write_all(const std::string& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}
std::string with_header(const std::string& json, const std::string& data) {
  std::string h = json;
  uint64_t n = h.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + h + data;
}
void expect_input_error(const std::string& path, const std::string& needle) {
  try {
    SafetensorsFile f(path);
    for (auto& k : f.keys()) f.get(k);
    FAIL() << "no error for " << path;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "error must name the file: " << e.what();
  }
}

TEST(Safetensors, RoundTripAllDtypes) {
  test::TempDir tmp;
  NamedTensors ts = {
      {"f32", torch::randn({3, 4})},
      {"f16", torch::randn({5}).to(at::kHalf)},
      {"bf16", torch::randn({2, 2}).to(at::kBFloat16)},
      {"i64", torch::arange(7)},
      {"i32", torch::arange(3).to(at::kInt)},
      {"u8", torch::arange(9).to(at::kByte)},
      {"b", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(3.5f)},
      {"empty", torch::zeros({0, 4})},
  };
  std::string p = tmp.file("a.safetensors");
  save_safetensors(p, ts, {{"config", "{\"x\":1}"}});
  SafetensorsFile f(p);
  EXPECT_EQ(f.meta("config"), "{\"x\":1}");
  EXPECT_EQ(f.keys().size(), ts.size());
  for (auto& [k, t] : ts) {
    auto g = f.get(k);
    EXPECT_EQ(g.scalar_type(), t.scalar_type()) << k;
    EXPECT_EQ(g.sizes(), t.sizes()) << k;
    EXPECT_TRUE(g.equal(t)) << k;
  }
  EXPECT_THROW(f.get("f32", {4, 3}), InputError);
  EXPECT_THROW(f.get("nope"), InputError);
  // Header is padded to a multiple of 8 and offsets are aligned.
  std::string bytes = read_all(p);
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u);
}

TEST(Safetensors, ReadsFixtureFile) {
  CB_REQUIRE_FIXTURES();
  SafetensorsFile f(test::fixtures_dir() + "/codebind/quantiser.safetensors");
  auto w = f.get("state0.common.weight");
  EXPECT_EQ(w.sizes(), (at::IntArrayRef{1024, 8}));
  EXPECT_TRUE(torch::isfinite(w).all().item<bool>());
}

TEST(Safetensors, RejectsMalformed) {
  test::TempDir tmp;
  auto p = [&](const std::string& n) { return tmp.file(n); };
  write_all(p("short"), "abc");
  expect_input_error(p("short"), "truncated");
  std::string huge(8, '\0');
  uint64_t big = 1ull << 40;
  std::memcpy(huge.data(), &big, 8);
  write_all(p("huge"), huge + "{}");
  expect_input_error(p("huge"), "absurd");
  std::string past(8, '\0');
  uint64_t n = 100;
  std::memcpy(past.data(), &n, 8);
  write_all(p("past"), past + "{}");
  expect_input_error(p("past"), "past the end");
  write_all(p("json"), with_header("{not json", ""));
  expect_input_error(p("json"), "JSON");
  write_all(p("dtype"), with_header(R"({"a":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}})", "abcd"));
  expect_input_error(p("dtype"), "unknown dtype");
  write_all(p("size"), with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd"));
  expect_input_error(p("size"), "bytes");
  write_all(p("range"), with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "abcd"));
  expect_input_error(p("range"), "outside");
  write_all(p("overlap"), with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                                      "abcdefgh"));
  expect_input_error(p("overlap"), "overlap");
  write_all(p("neg"), with_header(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd"));
  expect_input_error(p("neg"), "non-negative");
  write_all(p("overflow"),
            with_header(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}})", "abcd"));
  expect_input_error(p("overflow"), "overflow");
  expect_input_error(p("does_not_exist"), "cannot open");
  // Truncating a valid file anywhere in its data section is caught.
  save_safetensors(p("ok"), {{"x", torch::randn({16})}});
  std::string ok = read_all(p("ok"));
  write_all(p("trunc"), ok.substr(0, ok.size() - 4));
  expect_input_error(p("trunc"), "outside");
}

}  // namespace
}  // namespace cb
