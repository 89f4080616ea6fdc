// memory_budget.h — refuse a job whose configuration cannot fit in this machine's memory
// before allocating anything: an absurd size in a config (a 65536-wide decoder, a 65536-pixel
// image) otherwise reaches the allocator minutes later as "internal error: can't allocate
// memory". Estimates are rough upper-bound-ish sums (parameters, optimiser state, the
// activations a batch keeps for backward); they refuse only what is clearly impossible.
#pragma once
#include <cstdint>
#include <string>

namespace cb {

// Physical memory of this machine in bytes (sysconf), or 0 when unknown.
uint64_t physical_memory_bytes();

// InputError "WHAT needs about X GiB (DETAIL), more than the Y GiB of memory this machine
// has" when need > physical memory. `detail` says where the estimate comes from.
void check_fits_in_memory(uint64_t need_bytes, const std::string& what, const std::string& detail);

}  // namespace cb
