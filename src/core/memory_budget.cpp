// memory_budget.cpp — see memory_budget.h.
#include "core/memory_budget.h"

#include <unistd.h>

#include "core/error.h"

namespace cb {

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

void check_fits_in_memory(uint64_t need_bytes, const std::string& what, const std::string& detail) {
  const uint64_t have = physical_memory_bytes();
  constexpr double GiB = 1024.0 * 1024.0 * 1024.0;
  CB_CHECK_INPUT(have == 0 || need_bytes <= have,
                 "{} needs about {:.1f} GiB ({}), more than the {:.1f} GiB of memory this machine has", what,
                 need_bytes / GiB, detail, have / GiB);
}

}  // namespace cb
