// test_train_quantiser.cpp — the quantiser as a model config builds it
// (ModelConfig::quantiser_config): shapes and straight-through gradients, the no-VQ ablation,
// that its checkpoint state (codebooks, k-means flags, generators) restores a run exactly, and
// that every key of the JSON "quantiser" object reaches it.
#include <gtest/gtest.h>

#include "quant/multimodal_quantiser.h"
#include "train/train_config.h"

#include <ATen/CPUGeneratorImpl.h>

#include <set>

using namespace cb;

// The quantiser a training config's model builds, seeded like CodeBindModel does.
static MultimodalQuantiser make_quantiser(const TrainConfig& c, uint64_t seed) {
  return MultimodalQuantiser(c.model.quantiser_config(seed));
}

static TrainConfig tiny_cfg() {
  TrainConfig c;
  c.model.modality_pair = {Modality::Imu, Modality::Vision, Modality::Text};
  c.model.shared_dim = 16;
  c.model.specific_dim = 16;
  c.model.quantiser.shared_codebook_size = 16;
  c.model.quantiser.specific_codebook_size = 16;
  c.model.quantiser.codevector_dim = 8;
  return c;
}

TEST(TrainQuantiser, ShapesAndSte) {
  MultimodalQuantiser q = make_quantiser(tiny_cfg(), 1);
  auto x = torch::randn({3, 5, 32}).requires_grad_(true);
  auto o = q.forward(x, Modality::Vision, true, 5);
  EXPECT_EQ(o.z_c.sizes().vec(), (std::vector<int64_t>{3, 5, 16}));
  EXPECT_EQ(o.z_s.sizes().vec(), (std::vector<int64_t>{3, 5, 16}));
  EXPECT_EQ(o.z.sizes().vec(), (std::vector<int64_t>{3, 5, 32}));
  EXPECT_EQ(o.shared_indices.sizes().vec(), (std::vector<int64_t>{3, 5, 2}));
  o.z.sum().backward();
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0);
  auto t = q.forward(torch::randn({3, 16}), Modality::Text, true, 1);
  EXPECT_EQ(t.z_c.sizes().vec(), (std::vector<int64_t>{3, 16}));
  EXPECT_FALSE(t.z_s.defined());
}

TEST(TrainQuantiser, NoVqAblationIsIdentityOnNormalisedHalves) {
  TrainConfig c = tiny_cfg();
  c.model.quantiser.use_vq = false;
  MultimodalQuantiser q = make_quantiser(c, 1);
  auto x = torch::randn({2, 3, 32});
  auto o = q.forward(x, Modality::Imu, true, 3);
  auto want = torch::nn::functional::normalize(x.narrow(-1, 0, 16), torch::nn::functional::NormalizeFuncOptions().dim(-1));
  EXPECT_TRUE(torch::allclose(o.z_c, want));
  EXPECT_EQ(o.commit.item<double>(), 0.0);
}

TEST(TrainQuantiser, StateRestoresExactly) {
  MultimodalQuantiser a = make_quantiser(tiny_cfg(), 3);
  a.forward(torch::randn({4, 2, 32}), Modality::Imu, true, 2);  // k-means + one EMA step
  // Snapshot, continue a; restore the snapshot into b and continue identically.
  NamedTensors snap;
  for (auto& [n, t] : a.named_state()) snap.emplace_back(n, t.clone());
  auto next = torch::randn({4, 2, 32});
  auto oa = a.forward(next, Modality::Imu, true, 2);
  MultimodalQuantiser b = make_quantiser(tiny_cfg(), 99);
  auto live = b.named_state();
  ASSERT_EQ(live.size(), snap.size());
  for (size_t i = 0; i < live.size(); ++i) {
    ASSERT_EQ(live[i].first, snap[i].first);
    live[i].second.copy_(snap[i].second);
  }
  b.after_load();
  auto ob = b.forward(next, Modality::Imu, true, 2);
  EXPECT_TRUE(oa.shared_indices.equal(ob.shared_indices));
  EXPECT_TRUE(oa.z.equal(ob.z));
  EXPECT_TRUE(a.shared_codebook().weight.equal(b.shared_codebook().weight));
}

// Every key of a train config's "quantiser" object reaches the quantiser: changing it alone
// changes what one observes after two training calls (codebook shapes and states, the
// commitment, the indices, or the config the quantiser was built with). kmeans_iters and
// reseed were once parsed and saved but never reached the codebooks.
TEST(TrainQuantiser, EveryQuantiserJsonKeyChangesBehaviour) {
  nlohmann::json base = tiny_cfg().to_json();
  base["quantiser"]["shared_codebook_size"] = 32;
  base["quantiser"]["specific_codebook_size"] = 32;
  // What two training calls on fixed inputs leave behind, as one list of tensors.
  auto observe = [](const nlohmann::json& j) {
    const TrainConfig cfg = TrainConfig::from_json(j, "cfg.json");
    MultimodalQuantiser q = make_quantiser(cfg, 7);
    at::Generator g = at::detail::createCPUGenerator(11);
    std::vector<at::Tensor> seen;
    for (int call = 0; call < 2; ++call) {
      at::Tensor x = at::randn({4, 6, 32}, g);
      QuantiserOutput o = q.forward(x, Modality::Imu, true, 6);
      for (const at::Tensor& t : {o.commit, o.z, o.shared_indices})  // undefined without VQ: skipped
        if (t.defined()) seen.push_back(t.detach().to(at::kDouble).flatten());
    }
    for (const auto& [name, t] : q.named_state())
      if (t.defined()) seen.push_back(t.to(at::kDouble).flatten());
    const QuantiserConfig& qc = q.config();
    seen.push_back(at::tensor({double(qc.separate_codebooks), double(qc.per_rank_codebooks), double(qc.reseed),
                               double(qc.kmeans_iters)}));
    return seen;
  };
  auto same = [](const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!a[i].sizes().equals(b[i].sizes()) || !a[i].to(at::kDouble).equal(b[i].to(at::kDouble))) return false;
    return true;
  };
  const auto ref = observe(base);
  ASSERT_TRUE(same(ref, observe(base))) << "two identical configs must behave identically";
  const std::vector<std::pair<std::string, nlohmann::json>> changes = {
      {"shared_codebook_size", 64}, {"specific_codebook_size", 64}, {"codevector_dim", 4},
      {"use_vq", false},            {"standard_vq", true},          {"separate_codebooks", true},
      {"per_rank_codebooks", true}, {"decay", 0.5},                 {"eps", 0.1},
      {"beta", 1.0},                {"kmeans_iters", 0},            {"reseed", false}};
  std::set<std::string> covered;
  for (const auto& [key, value] : changes) {
    nlohmann::json j = base;
    j["quantiser"][key] = value;
    try {
      EXPECT_FALSE(same(ref, observe(j))) << "quantiser." << key << " = " << value.dump() << " changed nothing";
    } catch (const std::exception& e) {
      ADD_FAILURE() << "quantiser." << key << " = " << value.dump() << ": " << e.what();
    }
    covered.insert(key);
  }
  // The list above covers every key the config writes.
  for (auto it = base["quantiser"].begin(); it != base["quantiser"].end(); ++it)
    EXPECT_TRUE(covered.count(it.key())) << "quantiser." << it.key() << " has no behaviour check";
}
