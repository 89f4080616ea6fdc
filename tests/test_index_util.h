// test_index_util.h — random codebooks/indexes and a brute-force reference for the index tests.
#pragma once
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include <cmath>
#include <random>
#include <vector>

#include "index/code_index.h"
#include "quant/code_pack.h"
#include "index/search.h"

namespace cb::index::itest {

inline Codebook random_codebook(uint32_t rows, uint32_t dim, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  Codebook c{rows, dim, std::vector<float>(size_t(rows) * dim)};
  for (float& v : c.w) v = n(g) * 0.4f;  // raw EMA rows: norms vary, not unit
  return c;
}

// n items with random codes; modalities cycle through `mods`; ids "item<i+id0>".
inline ItemBatch random_items(const Index& ix, int64_t n, const std::vector<Modality>& mods, uint64_t seed,
                              std::vector<uint8_t>& shared, std::vector<uint8_t>& spec, std::vector<float>& floats,
                              int64_t id0 = 0) {
  std::mt19937_64 g(seed);
  const uint32_t m = ix.chunks();
  at::Tensor codes = at::empty({n, m}, at::kLong);
  for (int64_t i = 0; i < n * m; ++i) codes.data_ptr<int64_t>()[i] = int64_t(g() % ix.shared_codebook().rows);
  at::Tensor p = cb::pack_codes(codes, ix.shared_bits());
  shared.assign(p.data_ptr<uint8_t>(), p.data_ptr<uint8_t>() + p.numel());
  ItemBatch b;
  b.n = n;
  b.shared_codes = shared.data();
  if (ix.has_specific()) {
    uint32_t ks = ix.specific_codebooks().begin()->second.rows;
    at::Tensor sc = at::empty({n, m}, at::kLong);
    for (int64_t i = 0; i < n * m; ++i) sc.data_ptr<int64_t>()[i] = int64_t(g() % ks);
    at::Tensor sp = cb::pack_codes(sc, ix.specific_bits());
    spec.assign(sp.data_ptr<uint8_t>(), sp.data_ptr<uint8_t>() + sp.numel());
    b.specific_codes = spec.data();
  }
  if (ix.float_dim()) {
    std::normal_distribution<float> nd;
    floats.resize(size_t(n) * ix.float_dim());
    for (float& v : floats) v = nd(g);
    b.embeddings = floats.data();
  }
  for (int64_t i = 0; i < n; ++i) {
    b.ids.push_back("item" + std::to_string(i + id0));
    b.modalities.push_back(mods[i % mods.size()]);
    b.sources.push_back("src/" + std::to_string(i + id0) + ".png");
  }
  return b;
}

// Decoded quantised embedding computed independently of Index::decode (double precision).
inline std::vector<double> decode_ref(const Index& ix, int64_t r, bool concat) {
  const uint32_t m = ix.chunks(), c = ix.chunk_dim();
  std::vector<double> v;
  const uint8_t* row = ix.shared_codes() + r * ix.shared_code_bytes();
  for (uint32_t j = 0; j < m; ++j) {
    const float* cv = ix.shared_codebook().row(read_code(row, j, ix.shared_bits()));
    v.insert(v.end(), cv, cv + c);
  }
  if (concat) {
    const Codebook* s = ix.specific_codebook(ix.modality(r));
    const uint8_t* sr = ix.specific_codes() + r * ix.specific_code_bytes();
    for (uint32_t j = 0; j < m; ++j) {
      if (s) {
        const float* cv = s->row(read_code(sr, j, ix.specific_bits()));
        v.insert(v.end(), cv, cv + c);
      } else {
        v.insert(v.end(), c, 0.0);
      }
    }
  }
  double n = 0;
  for (double x : v) n += x * x;
  for (double& x : v) x /= std::sqrt(n);
  return v;
}

// Checks that `hits` is a correct top-k of brute-force cosine over `eligible` rows (ties
// within tol aside) and that reported scores match the reference.
inline void expect_topk(const std::vector<Hit>& hits, const std::vector<double>& q /*normalised*/,
                        const std::vector<std::pair<int64_t, std::vector<double>>>& eligible, int k,
                        double tol = 2e-5) {
  std::vector<std::pair<double, int64_t>> all;
  for (const auto& [r, v] : eligible) {
    double s = 0;
    for (size_t d = 0; d < q.size(); ++d) s += q[d] * v[d];
    all.push_back({s, r});
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first > b.first; });
  const size_t kk = std::min<size_t>(k, all.size());
  ASSERT_EQ(hits.size(), kk);
  if (kk == 0) return;
  const double kth = all[kk - 1].first;
  std::map<int64_t, double> ref;
  for (auto& [s, r] : all) ref[r] = s;
  for (const Hit& h : hits) {
    ASSERT_TRUE(ref.count(h.row)) << "row " << h.row << " not eligible";
    EXPECT_NEAR(h.score, ref[h.row], tol);
    EXPECT_GE(ref[h.row], kth - tol) << "row " << h.row << " is not in the top " << k;
  }
  std::set<int64_t> got;
  for (const Hit& h : hits) got.insert(h.row);
  for (size_t i = 0; i < all.size() && all[i].first > kth + tol; ++i)
    EXPECT_TRUE(got.count(all[i].second)) << "missed row " << all[i].second << " score " << all[i].first;
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
}

inline std::vector<double> normalised(const float* q, int64_t d) {
  std::vector<double> v(q, q + d);
  double n = 0;
  for (double x : v) n += x * x;
  for (double& x : v) x /= std::sqrt(n);
  return v;
}

}  // namespace cb::index::itest
