// test_precision.cpp — the floating type of frozen forwards (core/precision.h): the choice
// follows --dtype, CODEBIND_DTYPE and the CPU; PrecisionScope runs products in bf16 and
// restores autocast; bf16 keeps the ImageBind fixture embeddings (cosine to fp32 ≥ 0.999), both
// as autocast over fp32 weights (eval, train) and as a bf16 cast of the model (embed --weights).
#include <cstdlib>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/json_read.h"
#include "core/precision.h"
#include "encoders/imagebind/imagebind_model.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace cb {
namespace {

// Restores CODEBIND_DTYPE (or its absence) when the test ends.
struct EnvDtype {
  std::string saved;
  bool had = false;
  EnvDtype() {
    if (const char* e = std::getenv("CODEBIND_DTYPE")) saved = e, had = true;
  }
  ~EnvDtype() { had ? setenv("CODEBIND_DTYPE", saved.c_str(), 1) : unsetenv("CODEBIND_DTYPE"); }
};

TEST(Precision, ChoiceFollowsTheRequestTheEnvironmentAndTheCpu) {
  EnvDtype restore;
  const at::Device cpu(at::kCPU);
  unsetenv("CODEBIND_DTYPE");
  EXPECT_EQ(choose_precision("fp32", cpu, "--dtype").dtype, at::kFloat);
  EXPECT_EQ(choose_precision("bf16", cpu, "--dtype").dtype, at::kBFloat16);
  const bool native = cpu_has_avx512_core() && cpu_has_avx512_bf16();
  EXPECT_EQ(choose_precision("auto", cpu, "--dtype").dtype, native ? at::kBFloat16 : at::kFloat)
      << choose_precision("auto", cpu, "--dtype").why;
  EXPECT_EQ(choose_precision("auto", at::Device(at::kCUDA), "--dtype").dtype, at::kFloat);
  EXPECT_EQ(choose_precision("auto", cpu, "--dtype", 64).dtype, at::kFloat) << "small towers stay fp32";
  EXPECT_EQ(choose_precision("auto", cpu, "--dtype", 1280).dtype, native ? at::kBFloat16 : at::kFloat);
  EXPECT_EQ(choose_precision("bf16", cpu, "--dtype", 64).dtype, at::kBFloat16) << "asked for: honoured";
  try {
    choose_precision("fp16", cpu, "--dtype");
    ADD_FAILURE() << "fp16 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--dtype must be auto, fp32 or bf16 (got 'fp16')"), std::string::npos) << e.what();
  }
  setenv("CODEBIND_DTYPE", "bf16", 1);
  EXPECT_EQ(choose_precision("auto", cpu, "--dtype").dtype, at::kBFloat16);
  EXPECT_EQ(choose_precision("fp32", cpu, "--dtype").dtype, at::kFloat) << "an explicit --dtype wins";
  setenv("CODEBIND_DTYPE", "fp32", 1);
  EXPECT_EQ(choose_precision("auto", cpu, "--dtype").dtype, at::kFloat);
  setenv("CODEBIND_DTYPE", "half", 1);
  EXPECT_THROW(choose_precision("auto", cpu, "--dtype"), InputError);
}

TEST(Precision, ScopeRunsProductsInBf16AndRestoresAutocast) {
  const at::Tensor x = at::randn({4, 8}), w = at::randn({3, 8});
  EXPECT_EQ(at::linear(x, w).scalar_type(), at::kFloat);
  {
    PrecisionScope fp32(at::kFloat);
    EXPECT_EQ(at::linear(x, w).scalar_type(), at::kFloat) << "fp32 scope: nothing changes";
  }
  {
    PrecisionScope outer(at::kBFloat16);
    EXPECT_EQ(at::linear(x, w).scalar_type(), at::kBFloat16);
    {
      PrecisionScope inner(at::kBFloat16);
      EXPECT_EQ(at::linear(x, w).scalar_type(), at::kBFloat16);
    }
    EXPECT_EQ(at::linear(x, w).scalar_type(), at::kBFloat16) << "the inner scope left the outer one on";
  }
  EXPECT_EQ(at::linear(x, w).scalar_type(), at::kFloat) << "autocast restored";
}

// Smallest cosine over rows between a and b (n, d).
double min_row_cosine(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kFloat).flatten(1), y = b.to(at::kFloat).flatten(1);
  return (at::cosine_similarity(x, y, 1)).min().item<double>();
}

TEST(Precision, Bf16KeepsTheFixtureEmbeddings) {
  CB_REQUIRE_FIXTURES();
  const std::string dir = test::fixtures_dir() + "/imagebind";
  const ImageBindConfig cfg = ImageBindConfig::from_file(dir + "/config.json");
  const nlohmann::json manifest = load_json_file(dir + "/manifest.json");
  const SafetensorsFile inputs(dir + "/inputs.safetensors");
  const SafetensorsFile weights(dir + "/weights.safetensors");
  ImageBindModel model(cfg, {}, 0);
  model.load(weights, dir + "/weights.safetensors");
  ImageBindModel cast(cfg, {}, 0);
  cast.load(weights, dir + "/weights.safetensors");
  cast.to(at::Device(at::kCPU), at::kBFloat16);
  at::NoGradGuard no_grad;
  int cases = 0;
  for (auto it = manifest.at("cases").begin(); it != manifest.at("cases").end(); ++it) {
    const Modality m = parse_modality(it.value().at("modality").get<std::string>(), "case");
    const at::Tensor x = inputs.get(it.value().value("input_key", it.key()));
    const at::Tensor ref = model.embed(m, x);
    at::Tensor autocast;
    {
      PrecisionScope bf16(at::kBFloat16);
      autocast = model.embed(m, x);
    }
    const at::Tensor xc = at::isFloatingType(x.scalar_type()) ? x.to(at::kBFloat16) : x;
    const at::Tensor casted = cast.embed(m, xc);
    EXPECT_GE(min_row_cosine(autocast, ref), 0.999) << it.key() << " (autocast)";
    EXPECT_GE(min_row_cosine(casted, ref), 0.999) << it.key() << " (bf16 weights)";
    EXPECT_GT(min_row_cosine(autocast, ref), -1.0) << "finite";  // NaN compares false
    ++cases;
  }
  EXPECT_GE(cases, 5);
}

}  // namespace
}  // namespace cb
