// test_pth.cpp — the native .pth reader (zip + pickle subset) and WeightFile: the fixture
// checkpoint against its safetensors twin, hand-assembled archives (F16/BF16, a transposed
// view, zip64 records), and one InputError naming the file for each kind of malformed input.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "io/pth.h"
#include "io/safetensors.h"
#include "encoders/imagebind/imagebind_config.h"
#include "io/weights.h"
#include "test_pth_writer.h"
#include "test_util.h"

namespace {

using cb::test::make_zip;
using cb::test::Pkl;
using cb::test::raw;
using cb::test::TempDir;
using cb::test::u16;
using cb::test::u32;
using cb::test::u64;

std::string write(const TempDir& d, const std::string& name, const std::string& bytes) {
  std::string p = d.file(name);
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  return p;
}

// A checkpoint with an F16 matrix, a BF16 vector at a storage offset, and a transposed F32 view.
std::string sample_pth(bool zip64 = false) {
  at::Tensor h = at::arange(6, at::kFloat).to(at::kHalf);              // storage "0": 6 halves
  at::Tensor b = at::arange(5, at::kFloat).mul(0.5).to(at::kBFloat16);  // storage "1": 5 bf16
  at::Tensor f = at::arange(6, at::kFloat);                            // storage "2": 6 floats
  std::string pkl = Pkl::state_dict([](Pkl& p) {
    p.tensor("half", "HalfStorage", "0", 6, 0, {2, 3}, {3, 1});
    p.tensor("bf16", "BFloat16Storage", "1", 5, 2, {3}, {1});
    p.tensor("transposed", "FloatStorage", "2", 6, 0, {3, 2}, {1, 3});
  });
  return make_zip({{"ck/data.pkl", pkl}, {"ck/data/0", raw(h)}, {"ck/data/1", raw(b)}, {"ck/data/2", raw(f)},
                   {"ck/version", "3\n"}}, zip64);
}

void expect_sample(const std::string& path) {
  cb::WeightFile w(path);
  EXPECT_EQ(w.format(), cb::WeightFormat::Pth);
  EXPECT_EQ(w.keys(), (std::vector<std::string>{"half", "bf16", "transposed"}));
  EXPECT_TRUE(w.metadata().empty());
  at::Tensor h = w.get("half", {2, 3});
  EXPECT_EQ(h.scalar_type(), at::kHalf);
  EXPECT_TRUE(at::equal(h.to(at::kFloat), at::arange(6, at::kFloat).view({2, 3})));
  at::Tensor b = w.get("bf16");
  EXPECT_EQ(b.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(b.to(at::kFloat), at::tensor({1.0f, 1.5f, 2.0f})));
  at::Tensor t = w.get("transposed", {3, 2});
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_TRUE(at::equal(t, at::arange(6, at::kFloat).view({2, 3}).t()));
}

// Expects an InputError whose message names `path` and contains `what`.
void expect_input_error(const std::string& path, const std::string& what) {
  try {
    cb::WeightFile w(path);
    for (const auto& k : w.keys()) w.get(k);
    ADD_FAILURE() << "no error for " << path;
  } catch (const cb::InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find(what), std::string::npos) << "expected '" << what << "' in: " << m;
  }
}

}  // namespace

TEST(Pth, FixtureMatchesSafetensors) {
  CB_REQUIRE_FIXTURES();
  std::string dir = cb::test::fixtures_dir() + "/imagebind/";
  cb::WeightFile pth(dir + "weights.pth");
  cb::WeightFile st(dir + "weights.safetensors");
  ASSERT_EQ(pth.format(), cb::WeightFormat::Pth);
  ASSERT_EQ(st.format(), cb::WeightFormat::Safetensors);
  auto keys = pth.keys();
  ASSERT_GT(keys.size(), 100u);
  auto skeys = st.keys();
  std::sort(skeys.begin(), skeys.end());
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, skeys);
  EXPECT_EQ(keys.front(), "modality_preprocessors.vision.cls_token");  // state_dict order
  for (const auto& k : keys) {
    at::Tensor a = pth.get(k), b = st.get(k);
    ASSERT_EQ(a.scalar_type(), b.scalar_type()) << k;
    ASSERT_TRUE(at::equal(a, b)) << k;
  }
}

TEST(Pth, HandMadeF16Bf16AndStridedView) {
  TempDir d;
  expect_sample(write(d, "sample.pth", sample_pth()));
}

TEST(Pth, Zip64Archive) {
  TempDir d;
  expect_sample(write(d, "sample64.pth", sample_pth(true)));
}

TEST(Pth, ViewsOutliveTheFileObject) {
  TempDir d;
  std::string p = write(d, "sample.pth", sample_pth());
  at::Tensor t;
  { t = cb::WeightFile(p).get("transposed"); }
  EXPECT_FLOAT_EQ(t[2][1].item<float>(), 5.0f);
}

TEST(Pth, ShapeMismatchNamesKeyAndShapes) {
  TempDir d;
  cb::WeightFile w(write(d, "sample.pth", sample_pth()));
  try {
    w.get("half", {3, 2});
    FAIL();
  } catch (const cb::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'half' has shape [2,3], expected [3,2]"), std::string::npos) << e.what();
  }
}

TEST(Pth, MalformedInputsGiveInputErrors) {
  TempDir d;
  std::string good = sample_pth();
  expect_input_error(write(d, "trunc.pth", good.substr(0, good.size() - 10)), "end-of-central-directory");
  expect_input_error(write(d, "tiny.pth", "PK\x03\x04"), "not a zip archive");
  expect_input_error(write(d, "magic.pth", "NOPE not a checkpoint at all"), "unknown weight format");
  std::string bad_cd = good;
  bad_cd[bad_cd.find(u32(0x02014b50))] = 'X';
  expect_input_error(write(d, "badcd.pth", bad_cd), "central directory signature");
  // Method 8 (deflate) in the central directory.
  std::string comp = good;
  comp[comp.find(u32(0x02014b50)) + 10] = 8;
  expect_input_error(write(d, "comp.pth", comp), "compressed");
  // Absurd entry count in the EOCD.
  std::string count = good;
  size_t eocd = count.rfind(u32(0x06054b50));
  count.replace(eocd + 8, 4, u16(0x7FFF) + u16(0x7FFF));
  expect_input_error(write(d, "count.pth", count), "implausible zip entry count");
  auto pth_with = [&](const std::string& name, const std::string& pkl, const std::string& storage) {
    return write(d, name, make_zip({{"ck/data.pkl", pkl}, {"ck/data/0", storage}}));
  };
  std::string four_floats(16, '\0');
  // Unknown opcode (0x93 STACK_GLOBAL) right after PROTO.
  expect_input_error(pth_with("op.pth", std::string("\x80\x02\x93.", 4), four_floats), "opcode 0x93 not supported");
  // A global outside the allowed set.
  expect_input_error(pth_with("glob.pth", Pkl().glob("os", "system").op(")R.").b, four_floats), "'os.system'");
  // Absurd storage size.
  auto one = [](int64_t numel, int64_t off, std::vector<int64_t> sz, std::vector<int64_t> st) {
    return Pkl::state_dict([&](Pkl& p) { p.tensor("w", "FloatStorage", "0", numel, off, sz, st); });
  };
  std::string huge = Pkl::state_dict([](Pkl& p) {
    p.str("w").glob("torch._utils", "_rebuild_tensor_v2").op("((").str("storage").glob("torch", "FloatStorage");
    p.str("0").str("cpu").op(std::string("\x8a\x08", 2) + u64(uint64_t(1) << 62)).op("tQ").i(0).ints({1}).ints({1});
    p.op("\x89").glob("collections", "OrderedDict").op(")RtR");
  });
  expect_input_error(pth_with("huge.pth", huge, four_floats), "absurd size");
  // View beyond its storage, offset beyond it, storage bytes too short, missing storage entry.
  expect_input_error(pth_with("view.pth", one(4, 1, {2, 2}, {2, 1}), four_floats), "exceeds storage");
  expect_input_error(pth_with("off.pth", one(4, 5, {1}, {1}), four_floats), "outside storage");
  expect_input_error(pth_with("short.pth", one(8, 0, {8}, {1}), four_floats), "bytes, 32 needed");
  expect_input_error(write(d, "nostore.pth", make_zip({{"ck/data.pkl", one(4, 0, {4}, {1})}})), "is missing");
  // Truncated pickle.
  std::string pkl = one(4, 0, {4}, {1});
  expect_input_error(pth_with("tpkl.pth", pkl.substr(0, pkl.size() / 2), four_floats), "truncated");
  // Legacy format.
  expect_input_error(write(d, "legacy.pth", std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14)),
                     "legacy");
}

TEST(PthConvert, CliWritesSelfDescribingSafetensors) {
  CB_REQUIRE_FIXTURES();
  TempDir d;
  std::string in = cb::test::fixtures_dir() + "/imagebind/weights.pth";
  std::string cfg = cb::test::fixtures_dir() + "/imagebind/config.json";
  std::string out = d.file("out.safetensors");
  ASSERT_EQ(cb::test::run_codebind("convert " + in + " " + out + " --config " + cfg + " --dtype bf16"), 0);
  cb::WeightFile src(in), dst(out);
  EXPECT_EQ(dst.meta("config"), cb::ImageBindConfig::from_file(cfg).to_json().dump());
  // A config that is not the ImageBind schema is refused (exit 2), as is "huge" spelled wrong.
  std::string junk = write(d, "junk.json", "{\"a\": [1, 2]}");
  EXPECT_EQ(cb::test::run_codebind("convert " + in + " " + d.file("j.safetensors") + " --config " + junk), 2);
  auto keys = src.keys();
  ASSERT_EQ(dst.keys().size(), keys.size());
  for (const auto& k : keys) {
    at::Tensor a = src.get(k).to(at::kBFloat16), b = dst.get(k);
    ASSERT_EQ(b.scalar_type(), at::kBFloat16) << k;
    ASSERT_TRUE(at::equal(a, b)) << k;
  }
  // Bad input: exit code 2, no output file.
  std::string bad = write(d, "bad.pth", "PK\x03\x04 truncated");
  EXPECT_EQ(cb::test::run_codebind("convert " + bad + " " + d.file("x.safetensors")), 2);
  EXPECT_FALSE(std::filesystem::exists(d.file("x.safetensors")));
}
