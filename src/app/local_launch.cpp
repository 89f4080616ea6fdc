// local_launch.cpp — see local_launch.h. POSIX: fork/exec, pipes and poll.
#include "app/local_launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace cb {
namespace {

// This process's argv, from /proc/self/cmdline (NUL-separated).
std::vector<std::string> own_arguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i] == '\0') {
      args.push_back(all.substr(start, i - start));
      start = i + 1;
    }
  return args;
}

// The arguments without "--nproc N" / "--nproc=N".
std::vector<std::string> without_nproc(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--nproc") {
      ++i;
      continue;
    }
    if (args[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

// A TCP port on the loopback interface that nobody listens on now.
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  CB_CHECK_INPUT(s >= 0, "--nproc: cannot open a socket to find a free port: {}", std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  const bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(s);
  CB_CHECK_INPUT(ok, "--nproc: cannot find a free port on 127.0.0.1: {}", std::strerror(errno));
  return ntohs(a.sin_port);
}

struct Worker {
  pid_t pid = -1;
  int out = -1, err = -1;         // read ends of its stdout / stderr
  std::string out_buf, err_buf;   // partial lines
  bool done = false;
  int status = 0;
};

// Writes the complete lines of buf (ending in \n or \r) to `to`, each prefixed.
void forward(std::string& buf, const std::string& prefix, FILE* to, bool flush_all) {
  size_t start = 0;
  for (size_t i = 0; i < buf.size(); ++i) {
    if (buf[i] != '\n' && buf[i] != '\r') continue;
    std::fprintf(to, "%s%.*s%c", prefix.c_str(), int(i - start), buf.data() + start, buf[i]);
    start = i + 1;
  }
  if (flush_all && start < buf.size()) {
    std::fprintf(to, "%s%.*s\n", prefix.c_str(), int(buf.size() - start), buf.data() + start);
    start = buf.size();
  }
  buf.erase(0, start);
  std::fflush(to);
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "stopped";
}

bool failed(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

}  // namespace

bool is_local_worker() { return std::getenv("CODEBIND_LOCAL_WORKER") != nullptr; }

int run_local_workers(int nproc) {
  CB_CHECK_INPUT(nproc >= 1, "--nproc {}: the number of processes must be at least 1", nproc);
  CB_CHECK_INPUT(!is_local_worker(), "--nproc: this process is already a worker of a --nproc launch");
  const std::vector<std::string> args = without_nproc(own_arguments());
  CB_CHECK_INPUT(!args.empty(), "--nproc: cannot read this process's arguments from /proc/self/cmdline");
  const int port = free_port();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const bool threads_chosen = std::getenv("CODEBIND_THREADS") != nullptr;
  std::vector<Worker> ws(static_cast<size_t>(nproc));
  for (int r = 0; r < nproc; ++r) {
    int o[2], e[2];
    CB_CHECK_INPUT(::pipe(o) == 0 && ::pipe(e) == 0, "--nproc: pipe failed: {}", std::strerror(errno));
    const pid_t pid = ::fork();
    CB_CHECK_INPUT(pid >= 0, "--nproc: fork failed: {}", std::strerror(errno));
    if (pid == 0) {
      ::dup2(o[1], 1);
      ::dup2(e[1], 2);
      ::close(o[0]), ::close(o[1]), ::close(e[0]), ::close(e[1]);
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::setenv("CODEBIND_LOCAL_WORKER", "1", 1);
      if (!threads_chosen) ::setenv("CODEBIND_THREADS", std::to_string(std::max(1u, cores / unsigned(nproc))).c_str(), 1);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "codebind: error: --nproc: cannot execute /proc/self/exe: %s\n", std::strerror(errno));
      ::_exit(127);
    }
    ::close(o[1]);
    ::close(e[1]);
    ws[size_t(r)].pid = pid;
    ws[size_t(r)].out = o[0];
    ws[size_t(r)].err = e[0];
  }
  int first_failure = -1;
  auto stop_others = [&] {
    for (auto& w : ws)
      if (!w.done) ::kill(w.pid, SIGTERM);
  };
  auto deadline = std::chrono::steady_clock::time_point::max();
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<std::pair<int, bool>> who;  // (rank, is_err)
    for (int r = 0; r < nproc; ++r) {
      auto& w = ws[size_t(r)];
      if (w.out >= 0) fds.push_back({w.out, POLLIN, 0}), who.push_back({r, false});
      if (w.err >= 0) fds.push_back({w.err, POLLIN, 0}), who.push_back({r, true});
    }
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 200);
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto& w = ws[size_t(who[i].first)];
      const std::string prefix = "[rank " + std::to_string(who[i].first) + "] ";
      char buf[8192];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      std::string& b = who[i].second ? w.err_buf : w.out_buf;
      FILE* to = who[i].second ? stderr : stdout;
      if (n > 0) {
        b.append(buf, size_t(n));
        forward(b, prefix, to, false);
      } else {
        forward(b, prefix, to, true);
        ::close(fds[i].fd);
        (who[i].second ? w.err : w.out) = -1;
      }
    }
    // Reap the workers that ended.
    for (int r = 0; r < nproc; ++r) {
      auto& w = ws[size_t(r)];
      if (w.done) continue;
      int st = 0;
      if (::waitpid(w.pid, &st, WNOHANG) == w.pid) {
        w.done = true;
        w.status = st;
        if (failed(st) && first_failure < 0) {
          first_failure = r;
          stop_others();
          deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        }
      }
    }
    bool all_done = true, pipes_open = false;
    for (auto& w : ws) {
      all_done = all_done && w.done;
      pipes_open = pipes_open || w.out >= 0 || w.err >= 0;
    }
    if (all_done && !pipes_open) break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (auto& w : ws)
        if (!w.done) ::kill(w.pid, SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
    }
    if (fds.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (first_failure < 0) return 0;
  std::fprintf(stderr, "codebind: error: --nproc %d: rank %d %s; the other workers were stopped\n", nproc,
               first_failure, describe(ws[size_t(first_failure)].status).c_str());
  return 2;
}

}  // namespace cb
