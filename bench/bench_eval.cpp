// bench_eval.cpp — cost of evaluate_embeddings at sensor-suite scale (synthetic embeddings):
// the full evaluation (zero-shot, retrieval, probes, codebook) against the released-protocol
// subset (zero-shot + retrieval only), so the probes' overhead is visible as a ratio.
//   codebind_bench eval_full [mods=6] [train=1200] [test=400] [attrs=2] [reps=1]
#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>

#include "bench_registry.h"
#include "eval/evaluate.h"
#include "eval/zero_shot.h"

namespace {

using cb::eval::EmbeddingSet;
using cb::eval::ModalityEmbeddings;

EmbeddingSet synthetic(int64_t mods, int64_t n, int64_t attrs, uint64_t seed) {
  auto fixed = at::detail::createCPUGenerator(7);
  const int64_t C = 10, D = 1024;
  at::Tensor centroids = at::randn({C, D}, fixed);
  auto gen = at::detail::createCPUGenerator(seed);
  EmbeddingSet s;
  s.split = "bench";
  for (int64_t c = 0; c < C; ++c) s.classes.push_back("c" + std::to_string(c));
  s.meta = {{"shared_codebook_size", 1024}, {"specific_codebook_size", 256}};
  auto l2n = [](const at::Tensor& x) { return x / x.norm(2, {1}, true); };
  static const char* names[] = {"vision", "audio", "depth", "thermal", "imu", "tactile", "eeg", "point", "text"};
  for (int64_t k = 0; k < mods; ++k) {
    ModalityEmbeddings m;
    m.labels = at::randint(C, {n}, gen);
    m.shared = l2n(centroids.index_select(0, m.labels) + 2.0 * at::randn({n, D}, gen));
    m.specific = l2n(at::randn({n, D}, gen));
    m.concat = l2n(at::cat({m.shared, m.specific}, 1));
    m.shared_codes = at::randint(1024, {n, 128}, gen);
    m.specific_codes = at::randint(256, {n, 128}, gen);
    for (int64_t i = 0; i < n; ++i) {
      m.ids.push_back(std::to_string(i));
      nlohmann::json a = nlohmann::json::object();
      for (int64_t j = 0; j < attrs; ++j)
        a["a" + std::to_string(j)] = j % 2 == 0 ? nlohmann::json("v" + std::to_string((i * 7 + j) % 4))
                                                : nlohmann::json(double((i * 13 + j) % 17));
      m.attrs.push_back(a);
    }
    s.modalities[names[k % 9]] = std::move(m);
  }
  s.text_classifier = cb::eval::build_text_classifier(l2n(centroids).unsqueeze(1));
  return s;
}

int bench_eval_full(const cb::bench::BenchArgs& a) {
  const int64_t mods = a.get_int("mods", 6), ntr = a.get_int("train", 1200), nte = a.get_int("test", 400);
  const int64_t attrs = a.get_int("attrs", 2);
  const int reps = int(a.get_int("reps", 1));
  EmbeddingSet train = synthetic(mods, ntr, attrs, 1), test = synthetic(mods, nte, attrs, 2);
  cb::eval::EvalOptions full, released;
  released.probes = false;
  released.codebook = false;
  const double t_full = cb::bench::median_seconds(reps, [&] { cb::eval::evaluate_embeddings(train, test, full); });
  const double t_rel = cb::bench::median_seconds(reps, [&] { cb::eval::evaluate_embeddings(train, test, released); });
  std::printf("eval_full: %ld modalities, train %ld / test %ld per modality, %ld attributes, threads %d\n", long(mods),
              long(ntr), long(nte), long(attrs), at::get_num_threads());
  std::printf("  full evaluation          : %.2f s\n", t_full);
  std::printf("  zero-shot + retrieval    : %.2f s\n", t_rel);
  std::printf("  ratio full / released    : %.1fx\n", t_full / t_rel);
  return 0;
}

}  // namespace

CB_REGISTER_BENCH("eval_full", "evaluate_embeddings at sensor-suite scale: full vs zero-shot+retrieval", bench_eval_full);
