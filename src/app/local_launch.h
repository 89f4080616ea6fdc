// local_launch.h — `--nproc N`: this command, run as N cooperating local processes (ranks
// 0…N−1 of a data-parallel job, train/distributed.h), the way `torchrun --nproc_per_node N`
// starts a PyTorch script.
//
// The launcher re-executes this very binary with the same arguments minus `--nproc N`, with
// the torchrun environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT
// = a free port) and, unless the user chose, CODEBIND_THREADS = cores / N. It forwards every
// worker's stdout and stderr line by line with a "[rank r] " prefix. When a worker fails
// (non-zero exit or a signal), the others get SIGTERM (SIGKILL 10 s later) and the launcher
// reports the first failure in one line and returns 2; it returns 0 when every worker did.
#pragma once

namespace cb {

// Runs the N workers to completion; returns the exit code of the launcher (see above).
// InputError when N < 1 or the workers cannot be started.
int run_local_workers(int nproc);

// Whether this process is a worker started by run_local_workers (it must not launch again).
bool is_local_worker();

}  // namespace cb
