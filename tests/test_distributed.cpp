// test_distributed.cpp — data-parallel training (train/distributed.h, app/local_launch.h):
// W processes with the global batch B split among them train the same model as one process
// with batch B; a killed, hung or mis-started rank ends the job with one line and exit 2; a
// killed job resumes to the same result. The processes are real `codebind` processes on
// the loopback interface (Gloo over a c10d TCPStore), one thread each.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "core/error.h"
#include "io/safetensors.h"
#include "test_tiny_run.h"
#include "train/distributed.h"
#include "train/gradient_reducer.h"

extern char** environ;

namespace cb {
namespace {

using test::TempDir;

// A `codebind ARGS` child process with extra environment variables, output to `log`.
pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, const std::string& log) {
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    if (!env.count(kv.substr(0, kv.find('=')))) envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<std::string> argv_s{test::codebind_exe()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  for (auto& e : envs) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

constexpr int kTimedOut = -1000;

// The child's exit code (−signal when killed), or kTimedOut after `seconds`.
int wait_for(pid_t pid, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return kTimedOut;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
}

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

std::map<std::string, std::string> rank_env(int rank, int world, int port) {
  return {{"RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(world)}, {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)}, {"CODEBIND_THREADS", "1"}};
}

// The tiny CodeBind config (2 epochs × 3 steps, checkpoints at steps 2, 3, 4, 6) with a
// global batch of 8 and codebooks of 16 codes, written to `path`; `edit` changes it first.
// The batch and codebook sizes matter: k-means draws its first means from the batch's
// 8 × 2 CLS chunks, and with fewer samples than codes it draws with replacement, so two
// codes start equal and every assignment between them is decided by the last bit of a
// dot product — which one process and two (GEMMs over B vs B/2 rows) round differently.
// With at least as many samples as codes there are no such twins.
std::string write_config(const std::string& path, const std::function<void(TrainConfig&)>& edit = {}) {
  TrainConfig c = test::tiny_train_config();
  c.optim.batch_size = 8;
  c.model.quantiser.shared_codebook_size = 16;
  c.model.quantiser.specific_codebook_size = 16;
  if (edit) edit(c);
  std::ofstream(path) << c.to_json().dump(2);
  return path;
}

std::vector<std::string> train_args(const std::string& config, const std::string& out) {
  auto& f = test::tiny_fixture();
  return {"train", "--config", config, "--data", f.data, "--bridge", f.bridge, "--out", out, "--quiet", "--threads",
          "1"};
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

// One single-process run of the tiny config, trained once and shared by the tests here.
std::string reference_run() {
  auto& f = test::tiny_fixture();
  const std::string r = f.root + "/dist_reference_b8";
  return test::with_file_lock(r + ".lock", [&] {
    if (!std::filesystem::exists(r + "/model.safetensors")) {
      std::filesystem::remove_all(r);
      std::filesystem::create_directories(f.root + "/dist_reference_b8_cfg");
      const std::string cfg = write_config(f.root + "/dist_reference_b8_cfg/config.json");
      EXPECT_EQ(test::run_codebind(joined(train_args(cfg, r)), f.root + "/dist_reference_b8.log"), 0)
          << test::slurp(f.root + "/dist_reference_b8.log");
    }
    return r;
  });
}

// max |a − b| over every tensor of two model files (both must hold the same names).
double max_model_difference(const std::string& a, const std::string& b, std::string* worst = nullptr) {
  auto ta = load_safetensors(a), tb = load_safetensors(b);
  EXPECT_EQ(ta.size(), tb.size());
  double m = 0;
  for (auto& [k, t] : ta) {
    EXPECT_TRUE(tb.count(k)) << k;
    if (!tb.count(k)) continue;
    const double d = (t.to(at::kDouble) - tb[k].to(at::kDouble)).abs().max().item<double>();
    if (d > m && worst) *worst = k;
    m = std::max(m, d);
  }
  return m;
}

std::vector<nlohmann::json> metrics_of(const std::string& run) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Why W processes and one differ at all: the encoders' GEMMs see B/W rows instead of B, the
// codebook statistics are summed per rank (in double) and then across ranks (in float), and
// the gradients are summed across ranks in another order. Each is an fp32 rounding (~1e-7
// relative); over 6 AdamW steps they stay far below 1e-4, while one skipped sync, a wrong
// gradient scale or a lost row moves parameters by 1e-3 or more (lr 5e-4 per step).
constexpr double kTolerance = 1e-4;

TEST(Distributed, EnvironmentIsReadAndChecked) {
  auto with_env = [](std::map<std::string, const char*> env, auto&& f) {
    std::map<std::string, std::string> saved;
    for (const char* k : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
      if (const char* v = std::getenv(k)) saved[k] = v;
      ::unsetenv(k);
    }
    for (auto& [k, v] : env) ::setenv(k.c_str(), v, 1);
    f();
    for (const char* k : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(k);
    for (auto& [k, v] : saved) ::setenv(k.c_str(), v.c_str(), 1);
  };
  auto error_of = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  with_env({}, [&] { EXPECT_FALSE(DistEnv::from_env().active()); });
  with_env({{"WORLD_SIZE", "2"}}, [&] { EXPECT_NE(error_of(DistEnv::from_env).find("RANK is not"), std::string::npos); });
  with_env({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}},
           [&] { EXPECT_NE(error_of(DistEnv::from_env).find("outside"), std::string::npos); });
  with_env({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_PORT", "1"}},
           [&] { EXPECT_NE(error_of(DistEnv::from_env).find("MASTER_ADDR"), std::string::npos); });
  with_env({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "x9"}},
           [&] { EXPECT_NE(error_of(DistEnv::from_env).find("MASTER_PORT"), std::string::npos); });
  with_env({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "29501"}},
           [&] {
             DistEnv e = DistEnv::from_env();
             EXPECT_EQ(e.rank, 1);
             EXPECT_EQ(e.world_size, 2);
             EXPECT_EQ(e.local_rank, 0);
             EXPECT_EQ(e.master_port, 29501);
           });
}

// A stand-in for rank r of w whose peers hold as many rows as it does: the size all-reduce
// reports this rank's row count for every rank; other tensors are left as they are (the
// other ranks' rows stay zero). Enough to check the shard / all_gather bookkeeping.
class MirrorCommunicator : public Communicator {
 public:
  MirrorCommunicator(int r, int w) : r_(r), w_(w) {}
  int rank() const override { return r_; }
  int world_size() const override { return w_; }
  void allreduce_sum(at::Tensor& t) override {
    if (t.dim() == 1 && t.scalar_type() == at::kLong) t.fill_(t.max());
  }
  void broadcast(at::Tensor&, int) override {}

 private:
  int r_, w_;
};

TEST(Distributed, ShardAndGatherBookkeeping) {
  data::Item items[6];
  BatchPlan g;
  for (int i = 0; i < 6; ++i) {
    g.items[Modality::Audio].push_back(&items[i]);
    g.prompts.push_back("p" + std::to_string(i));
    g.classes.push_back(i);
  }
  DataParallel alone;
  EXPECT_EQ(alone.shard(g).prompts, g.prompts);
  DataParallel r1(std::make_shared<MirrorCommunicator>(1, 3));
  BatchPlan p = r1.shard(g);
  ASSERT_EQ(p.prompts.size(), 2u);
  EXPECT_EQ(p.prompts[0], "p2");
  EXPECT_EQ(p.classes, (std::vector<int>{2, 3}));
  EXPECT_EQ(p.items[Modality::Audio][1], &items[3]);
  DataParallel r1of4(std::make_shared<MirrorCommunicator>(1, 4));
  EXPECT_THROW(r1of4.shard(g), InputError);  // 6 rows do not split over 4 ranks
  // all_gather: this rank's rows land at offset r·n, and only their gradient comes back.
  at::Tensor local = torch::arange(4, torch::dtype(torch::kFloat)).view({2, 2}).requires_grad_(true);
  at::Tensor all = r1.all_gather(local);
  ASSERT_EQ(all.sizes(), (at::IntArrayRef{6, 2}));
  EXPECT_TRUE(all.narrow(0, 2, 2).equal(local.detach()));
  at::Tensor w = torch::arange(12, torch::dtype(torch::kFloat)).view({6, 2});
  (all * w).sum().backward();
  EXPECT_TRUE(local.grad().equal(w.narrow(0, 2, 2)));
}

// Rank 0 of 2 whose peer holds the same gradients: an all-reduce doubles. Records the
// numel of every all-reduce started and whether a gradient hook had run by then.
class DoublingCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  void allreduce_sum(at::Tensor& t) override { t.mul_(2); }
  std::function<void()> allreduce_sum_async(at::Tensor& t) override {
    started.push_back(t.numel());
    at::Tensor* p = &t;
    return [p] { p->mul_(2); };
  }
  void broadcast(at::Tensor&, int) override {}
  std::vector<int64_t> started;
};

TEST(Distributed, GradientReducerSumsBucketsAsBackwardProducesThem) {
  torch::manual_seed(3);
  torch::nn::Linear a(4, 5), b(5, 6), unused(2, 2);
  std::vector<at::Tensor> params{a->weight, a->bias, b->weight, b->bias, unused->weight};
  auto comm = std::make_shared<DoublingCommunicator>();
  // One parameter per bucket (4-byte buckets), reverse order: unused.w, b.b, b.w, a.b, a.w.
  GradientReducer r(comm, params, 4);
  ASSERT_EQ(r.buckets(), 5u);
  const at::Tensor x = torch::randn({3, 4});
  auto loss = [&] { return b(torch::tanh(a(x))).pow(2).sum(); };
  loss().backward();  // hooks inert outside prepare … finish: plain gradients
  std::vector<at::Tensor> want;
  for (auto& p : params) want.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
  for (auto& p : params)
    if (p.grad().defined()) p.mutable_grad().zero_();
  EXPECT_TRUE(comm->started.empty());
  r.prepare();
  loss().backward();
  // The four buckets with gradients started inside backward, last layer first; the unused
  // parameter's bucket waits for finish().
  EXPECT_EQ(r.overlapped(), 4u);
  ASSERT_EQ(comm->started.size(), 4u);
  auto sorted = [](int64_t x, int64_t y) { return std::vector<int64_t>{std::min(x, y), std::max(x, y)}; };
  EXPECT_EQ(sorted(comm->started[0], comm->started[1]), (std::vector<int64_t>{6, 30}));  // layer b
  EXPECT_EQ(sorted(comm->started[2], comm->started[3]), (std::vector<int64_t>{5, 20}));  // then layer a
  r.finish();
  EXPECT_EQ(comm->started.size(), 5u);
  for (size_t k = 0; k < 4; ++k) EXPECT_TRUE(params[k].grad().allclose(2 * want[k])) << k;
  EXPECT_FALSE(params[4].grad().defined());
  EXPECT_THROW(r.finish(), std::exception);  // finish without prepare
}

TEST(Distributed, TwoProcessesMatchOneWithTheGlobalBatch) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  const std::string ref = reference_run();
  TempDir tmp;
  const std::string cfg = write_config(tmp.file("config.json"));
  auto args = train_args(cfg, tmp.file("run2"));
  const int rc = test::run_codebind(joined(args) + " --nproc 2 --check-sync", tmp.file("log"));
  ASSERT_EQ(rc, 0) << test::slurp(tmp.file("log"));
  std::string worst;
  const double d = max_model_difference(ref + "/model.safetensors", tmp.file("run2/model.safetensors"), &worst);
  EXPECT_LE(d, kTolerance) << "worst tensor " << worst;
  // The same losses step by step, and every rank in step with the others.
  auto a = metrics_of(ref), b = metrics_of(tmp.file("run2"));
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    for (const char* k : {"loss", "info_nce", "loss_vq", "loss_rec", "loss_modal_decomp", "loss_uniform", "loss_cmcm"})
      EXPECT_NEAR(a[i][k].get<double>(), b[i][k].get<double>(), 1e-4 * (1 + std::abs(a[i][k].get<double>())))
          << k << " at step " << i + 1;
    EXPECT_EQ(b[i]["ranks_params_in_sync"].get<double>(), 1.0);
    EXPECT_EQ(b[i]["ranks_codebooks_in_sync"].get<double>(), 1.0);
    EXPECT_GE(b[i]["allreduce_seconds"].get<double>(), 0.0);
  }
  // The all-reduce after the backward pass instead of during it: the same sums, bit for bit.
  const int rc2 = test::run_codebind(joined(train_args(cfg, tmp.file("run2_after"))) + " --nproc 2 --no-grad-overlap",
                                     tmp.file("log_after"));
  ASSERT_EQ(rc2, 0) << test::slurp(tmp.file("log_after"));
  EXPECT_EQ(max_model_difference(tmp.file("run2/model.safetensors"), tmp.file("run2_after/model.safetensors")), 0.0);
  // Rank-prefixed output from the launcher; only rank 0, which wrote the model, says so.
  const std::string log = test::slurp(tmp.file("log"));
  EXPECT_NE(log.find("[rank 0] model written: "), std::string::npos) << log;
  EXPECT_EQ(log.find("[rank 1] model written"), std::string::npos) << log;
}

TEST(Distributed, PerRankCodebooksDriftApart) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  TempDir tmp;
  const std::string cfg = write_config(tmp.file("config.json"), [](TrainConfig& c) {
    c.model.quantiser.per_rank_codebooks = true;
  });
  const int rc = test::run_codebind(joined(train_args(cfg, tmp.file("run"))) + " --nproc 2 --check-sync",
                                    tmp.file("log"));
  ASSERT_EQ(rc, 0) << test::slurp(tmp.file("log"));
  auto m = metrics_of(tmp.file("run"));
  ASSERT_EQ(m.size(), 6u);
  int drifted = 0;
  for (auto& line : m) {
    EXPECT_EQ(line["ranks_params_in_sync"].get<double>(), 1.0);  // gradients are still summed
    drifted += line["ranks_codebooks_in_sync"].get<double>() == 0.0;
  }
  EXPECT_GE(drifted, 1) << "per_rank_codebooks: the ranks' codebooks never differed";
}

TEST(Distributed, KilledRankEndsTheJobAndResumeMatches) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  const std::string ref = reference_run();
  TempDir tmp;
  const std::string cfg = write_config(tmp.file("config.json"));
  const std::string run = tmp.file("run");
  auto args = train_args(cfg, run);
  args.insert(args.end(), {"--dist-timeout", "120"});
  const int port = free_port();
  auto env1 = rank_env(1, 2, port);
  env1["CODEBIND_TEST_HANG_RANK"] = "1";
  env1["CODEBIND_TEST_HANG_AT_STEP"] = "3";  // after the epoch-end checkpoint of step 3
  const pid_t r0 = spawn(args, rank_env(0, 2, port), tmp.file("log0"));
  const pid_t r1 = spawn(args, env1, tmp.file("log1"));
  // Wait until rank 0 has finished step 3 (and rank 1 hangs), then kill -9 rank 1.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (metrics_of(run).size() < 3 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(metrics_of(run).size(), 3u) << test::slurp(tmp.file("log0"));
  kill_and_reap(r1);
  const auto t0 = std::chrono::steady_clock::now();
  const int rc0 = wait_for(r0, 60);
  if (rc0 == kTimedOut) kill_and_reap(r0);
  ASSERT_EQ(rc0, 2) << test::slurp(tmp.file("log0"));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 60.0);  // not the 120 s timeout: the closed connection is noticed at once
  const std::string log0 = test::slurp(tmp.file("log0"));
  EXPECT_NE(log0.find("codebind: error: distributed: rank 0 of 2"), std::string::npos) << log0;
  EXPECT_EQ(std::count(log0.begin(), log0.end(), '\n'), 1) << "one line expected:\n" << log0;
  // The checkpoint of step 3 is intact; resuming on two processes ends where the
  // uninterrupted single process did.
  auto ck = load_safetensors(run + "/checkpoint.safetensors");
  EXPECT_FALSE(ck.empty());
  // A copy of the stopped run resumes on ONE process: the global batch makes it the same job.
  const std::string run1 = tmp.file("run_on_one");
  std::filesystem::copy(run, run1, std::filesystem::copy_options::recursive);
  const int rc = test::run_codebind(joined(args) + " --resume --nproc 2", tmp.file("log_resume"));
  ASSERT_EQ(rc, 0) << test::slurp(tmp.file("log_resume"));
  EXPECT_LE(max_model_difference(ref + "/model.safetensors", run + "/model.safetensors"), kTolerance);
  EXPECT_EQ(metrics_of(run).size(), 6u);
  const int rc1 = test::run_codebind(joined(train_args(cfg, run1)) + " --resume", tmp.file("log_resume1"));
  ASSERT_EQ(rc1, 0) << test::slurp(tmp.file("log_resume1"));
  EXPECT_LE(max_model_difference(ref + "/model.safetensors", run1 + "/model.safetensors"), kTolerance);
}

TEST(Distributed, HungRankTimesOut) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  TempDir tmp;
  const std::string cfg = write_config(tmp.file("config.json"));
  auto args = train_args(cfg, tmp.file("run"));
  args.insert(args.end(), {"--dist-timeout", "3"});
  const int port = free_port();
  auto env1 = rank_env(1, 2, port);
  env1["CODEBIND_TEST_HANG_RANK"] = "1";
  env1["CODEBIND_TEST_HANG_AT_STEP"] = "1";
  const pid_t r0 = spawn(args, rank_env(0, 2, port), tmp.file("log0"));
  const pid_t r1 = spawn(args, env1, tmp.file("log1"));
  const int rc0 = wait_for(r0, 90);
  if (rc0 == kTimedOut) kill_and_reap(r0);
  kill_and_reap(r1);
  EXPECT_EQ(rc0, 2) << test::slurp(tmp.file("log0"));
  const std::string log0 = test::slurp(tmp.file("log0"));
  EXPECT_NE(log0.find("stopped answering within 3 s"), std::string::npos) << log0;
}

TEST(Distributed, WrongPortAndDifferentConfigsEndWithOneLine) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  TempDir tmp;
  const std::string cfg = write_config(tmp.file("config.json"));
  const std::string other = write_config(tmp.file("other.json"), [](TrainConfig& c) { c.optim.lr *= 2; });
  // Rank 1 dials a port where nobody listens: both give up after the timeout.
  {
    auto args = train_args(cfg, tmp.file("run_port"));
    args.insert(args.end(), {"--dist-timeout", "3"});
    const int port = free_port();
    const pid_t r0 = spawn(args, rank_env(0, 2, port), tmp.file("p0"));
    const pid_t r1 = spawn(args, rank_env(1, 2, free_port() == port ? port + 1 : free_port()), tmp.file("p1"));
    const int rc0 = wait_for(r0, 90), rc1 = wait_for(r1, 90);
    if (rc0 == kTimedOut) kill_and_reap(r0);
    if (rc1 == kTimedOut) kill_and_reap(r1);
    EXPECT_EQ(rc0, 2) << test::slurp(tmp.file("p0"));
    EXPECT_EQ(rc1, 2) << test::slurp(tmp.file("p1"));
    for (const char* log : {"p0", "p1"}) {
      const std::string t = test::slurp(tmp.file(log));
      EXPECT_NE(t.find("codebind: error: distributed: rank "), std::string::npos) << t;
      EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 1) << "one line expected:\n" << t;
    }
    EXPECT_NE(test::slurp(tmp.file("p1")).find("rendezvous"), std::string::npos) << test::slurp(tmp.file("p1"));
    EXPECT_FALSE(std::filesystem::exists(tmp.file("run_port/checkpoint.safetensors")));
  }
  // Different configs: found at start-up, before RUN is created.
  {
    const int port = free_port();
    auto a0 = train_args(cfg, tmp.file("run_cfg")), a1 = train_args(other, tmp.file("run_cfg"));
    a0.insert(a0.end(), {"--dist-timeout", "60"});
    a1.insert(a1.end(), {"--dist-timeout", "60"});
    const pid_t r0 = spawn(a0, rank_env(0, 2, port), tmp.file("c0"));
    const pid_t r1 = spawn(a1, rank_env(1, 2, port), tmp.file("c1"));
    const int rc0 = wait_for(r0, 90), rc1 = wait_for(r1, 90);
    if (rc0 == kTimedOut) kill_and_reap(r0);
    if (rc1 == kTimedOut) kill_and_reap(r1);
    EXPECT_EQ(rc0, 2);
    EXPECT_EQ(rc1, 2);
    for (const char* log : {"c0", "c1"}) {
      const std::string s = test::slurp(tmp.file(log));
      EXPECT_NE(s.find("the config differs between rank 0 and rank(s) 1"), std::string::npos) << s;
      EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 1) << s;
    }
    EXPECT_FALSE(std::filesystem::exists(tmp.file("run_cfg")));
  }
}

TEST(Distributed, PretrainTwoProcessesMatchOne) {
  auto& f = test::tiny_fixture();
  ASSERT_TRUE(f.ok);
  TempDir tmp;
  const std::string cfg = std::string(CODEBIND_SOURCE_DIR) + "/configs/pretrain_tiny_test.json";
  const std::string base = "pretrain --config " + cfg + " --data " + f.data + " --quiet --threads 1 --out ";
  ASSERT_EQ(test::run_codebind(base + tmp.file("one"), tmp.file("log1")), 0) << test::slurp(tmp.file("log1"));
  ASSERT_EQ(test::run_codebind(base + tmp.file("two") + " --nproc 2", tmp.file("log2")), 0)
      << test::slurp(tmp.file("log2"));
  EXPECT_LE(max_model_difference(tmp.file("one/bridge.safetensors"), tmp.file("two/bridge.safetensors")), kTolerance);
}

}  // namespace
}  // namespace cb
