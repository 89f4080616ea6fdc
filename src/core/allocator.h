// allocator.h — process-wide malloc settings for tensor-heavy work. Freed blocks up to 32 MB
// stay in the heap instead of going back to the kernel: libtorch's CPU allocator mallocs and
// frees every intermediate, and with glibc's defaults each multi-MB tensor of a training step
// otherwise costs fresh page faults and zeroing (measured: a quarter of the quantiser step).
#pragma once

namespace cb {

// Call once, early in main(). Safe to call again; a no-op on non-glibc systems.
void configure_allocator();

}  // namespace cb
