// search.h — top-k search over the code index without decoding (asymmetric distance).
//
// Scores are cosines with the decoded quantised embedding (docs/model.md §3.8, §7.6):
//   cos(q, z_c(x)) = Σ_j q_j · C[k_j(x)] / ‖concat_j C[k_j(x)]‖   (q L2-normalised)
// (concat mode adds the specific half with the query modality's codebook).
//
// Two passes, exact by construction:
//  1. Per batch of 16 queries, the table T[j][k] = q_j · C[k] is quantised to uint16 with one
//     step Δ per query and an offset per (query, chunk) (entries ≤ 65535 / chunks so sums
//     cannot overflow); a scan of the database (search_kernels.h: 16 queries per SIMD add,
//     blocked so table slices stay in L2, threaded over database blocks) gives each item an
//     approximate dot ã with |ã − exact| ≤ E = chunks·Δ/2 (+ float slack). Per query a heap of
//     the k best lower bounds (ã − E)·w (w = 1/‖decoded‖) gives a threshold θ; an item is a
//     candidate when its upper bound (ã + E)·w ≥ θ.
//  2. Every candidate that survives the final θ is re-scored exactly (double dot of the query
//     with its codevectors, times w), and the top-k taken from those — so the result equals
//     brute force over the decoded quantised embeddings (ties aside): no item left out can
//     beat the k-th best lower bound, which some candidate's exact score reaches.
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
  // When set, receives how many first-pass candidates were re-scored exactly (all queries).
  int64_t* rescored = nullptr;
};

struct Hit {
  int64_t row = -1;
  float score = 0;  // cosine
};

// queries: (nq, dim) float32, row-major. Shared mode uses the first chunks·c columns (dim ≥
// chunks·c); concat mode needs dim = 2·chunks·c (shared half then specific half) and the
// query modality's specific codebook (a modality without one — text — falls back to shared).
// Queries are L2-normalised here (per half-set used). Result: nq lists of ≤ k hits, best
// first; ties broken by lower row. Every kernel returns the same hits and scores.
std::vector<std::vector<Hit>> search(const Index& index, const float* queries, int64_t nq, int64_t dim,
                                     Modality query_modality, const SearchOptions& opt);

// The kernel `Auto` resolves to on this CPU ("avx512", "avx2" or "generic"; also chosen by
// $CODEBIND_INDEX_KERNEL = generic | avx2 | avx512 when the CPU runs it).
const char* kernel_name(Kernel k);
Kernel best_kernel();

// Every scan kernel this CPU can run, the portable one first (tests loop over these).
std::vector<Kernel> available_kernels();

}  // namespace cb::index
