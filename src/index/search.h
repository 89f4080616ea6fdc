// search.h — top-k search over the code index without decoding (asymmetric distance).
//
// Per block of L queries we build one table T (chunks × K × L): T[j][k][l] = q_l,j · C[k], the
// dot product of query l's chunk j with codevector k (concat mode appends chunks × Ks × L for
// the query modality's specific codebook). An item's score is then a sum of table lookups,
// one per chunk, times the item's precomputed 1/‖decoded vector‖:
//   cos(q, z_c(x)) = Σ_j q_j · C[k_j(x)] / ‖concat_j C[k_j(x)]‖   (q L2-normalised)
// which is exactly the cosine with the decoded quantised embedding (spec/codebind.md §7.3).
// The lookup loop is vectorised across the L queries of a block (AVX2: L = 8, AVX-512:
// L = 16, chosen at run time), threaded over the database, with a top-k heap per query.
#pragma once
#include <cstdint>
#include <vector>

#include "core/modality.h"
#include "index/code_index.h"

namespace cb::index {

enum class SearchMode { Shared, Concat };
enum class Kernel { Auto, Scalar, Avx2, Avx512 };

struct SearchOptions {
  int k = 10;
  SearchMode mode = SearchMode::Shared;
  // Re-rank this many code candidates (≥ k) with the stored float embeddings (0: off).
  int rerank = 0;
  // Only items of this modality (-1: all). Concat mode always restricts to the query modality.
  int only_modality = -1;
  Kernel kernel = Kernel::Auto;
};

struct Hit {
  int64_t row = -1;
  float score = 0;  // cosine
};

// queries: (nq, dim) float32, row-major. Shared mode uses the first chunks·c columns (dim ≥
// chunks·c); concat mode needs dim = 2·chunks·c (shared half then specific half) and the
// query modality's specific codebook (a modality without one — text — falls back to shared).
// Queries are L2-normalised here (per half-set used). Result: nq lists of ≤ k hits, best
// first; ties broken by lower row.
std::vector<std::vector<Hit>> search(const Index& index, const float* queries, int64_t nq, int64_t dim,
                                     Modality query_modality, const SearchOptions& opt);

// The kernel `Auto` resolves to on this CPU ("avx512", "avx2" or "scalar").
const char* kernel_name(Kernel k);
Kernel best_kernel();

}  // namespace cb::index
