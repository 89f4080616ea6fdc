// threads.h — one place that decides how many threads libtorch (and our own loops) use.
// libtorch defaults to 1 thread on these machines (spec/stack.md §4), so every entry point
// calls configure_threads() with --threads; 0 means CODEBIND_THREADS or all cores.
#pragma once

namespace cb {

// Sets torch's intra-op threads and returns the count in force.
int configure_threads(int requested = 0);

// The count configure_threads() last set (all cores before any call).
int thread_count();

}  // namespace cb
