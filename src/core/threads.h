// threads.h — one place that decides how many threads libtorch (and our own loops) use.
// libtorch defaults to 1 thread on these machines, so every entry point
// calls configure_threads() with --threads; 0 means CODEBIND_THREADS or all cores.
#pragma once
#include <cstdint>

namespace cb {

// Sets torch's intra-op threads and returns the count in force. A request (or
// $CODEBIND_THREADS) below 0 or above max_threads() is an InputError: thousands of OpenMP
// threads on a few cores stall for minutes.
int configure_threads(int requested = 0);

// The largest thread count accepted: 4 × the cores here, at least 16.
int max_threads();

// The count configure_threads() last set (all cores before any call).
int thread_count();

// How many distinct threads an at::parallel_for over `n` items actually uses when called from
// this library. at::parallel_for is a header template: in a file compiled without -fopenmp it
// silently runs serially (1), whatever the thread setting — a build-flag regression guard.
int parallel_for_width(int64_t n);

}  // namespace cb

namespace cb {

// OpenMP threads that wait for work spin by default (OMP_WAIT_POLICY=active), which burns
// the cores a busy machine needs: a 2-core run of `codebind pretrain` next to a compiler took
// 51.6 s with spinning and 9.6 s without. When the user has not chosen a policy, this sets
// OMP_WAIT_POLICY=passive and re-executes the program (libgomp reads the variable once, at
// load time). Call first thing in main(); returns only when no re-exec was needed or it failed.
void prefer_passive_openmp_wait(char** argv);

}  // namespace cb
