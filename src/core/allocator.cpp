// allocator.cpp — see allocator.h.
#include "core/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cb {

void configure_allocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's maximum: below it, blocks come from the heap
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);  // keep up to 256 MB of freed heap for reuse
#endif
}

}  // namespace cb
