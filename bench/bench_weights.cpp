// bench_weights.cpp — `codebind_bench weights [size_mb=1024] [path=/tmp/...]`: writes a
// random-weight .pth of ImageBind-Huge vision blocks (D=1280, MLP 5120; fp32) of about
// size_mb, then, in a child process, opens it with WeightFile and touches every tensor
// (sums them). Reports the child's peak RSS growth over its RSS before opening, against the
// file's bytes (target < 1.2x: the reader is zero copy, so the mapping is the only cost).
// The file is deleted afterwards.
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "bench_registry.h"
#include "io/weights.h"

namespace {

std::string u16(uint16_t v) { return std::string{char(v & 255), char(v >> 8)}; }
std::string u32(uint32_t v) { return u16(uint16_t(v)) + u16(uint16_t(v >> 16)); }

long rss_kb(const char* field) {  // VmRSS / VmHWM of this process, kB
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field) + 1));
  return -1;
}

// Streams a torch.save-like zip: storages first (64-byte aligned), then data.pkl, directory.
uint64_t write_pth(const std::string& path, int64_t blocks) {
  const int64_t D = 1280, M = 4 * D;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (int64_t b = 0; b < blocks; ++b) {
    std::string p = "modality_trunks.vision.blocks." + std::to_string(b) + ".";
    for (auto& s : std::vector<std::pair<std::string, std::vector<int64_t>>>{
             {"attn.in_proj_weight", {3 * D, D}}, {"attn.in_proj_bias", {3 * D}}, {"attn.out_proj.weight", {D, D}},
             {"attn.out_proj.bias", {D}}, {"norm_1.weight", {D}}, {"norm_1.bias", {D}}, {"mlp.fc1.weight", {M, D}},
             {"mlp.fc1.bias", {M}}, {"mlp.fc2.weight", {D, M}}, {"mlp.fc2.bias", {D}}, {"norm_2.weight", {D}},
             {"norm_2.bias", {D}}})
      shapes.emplace_back(p + s.first, s.second);
  }
  std::ofstream f(path, std::ios::binary);
  uint64_t pos = 0;
  std::string cd;
  int n_entries = 0;
  auto entry = [&](const std::string& name, const char* data, uint64_t size) {
    uint64_t hdr = pos;
    size_t pad = (64 - (hdr + 30 + name.size() + 4) % 64) % 64;
    std::string extra = u16(0xCAFE) + u16(uint16_t(pad)) + std::string(pad, '\0');
    std::string h = u32(0x04034b50) + u16(20) + u16(0) + u16(0) + u32(0) + u32(0) + u32(uint32_t(size)) +
                    u32(uint32_t(size)) + u16(uint16_t(name.size())) + u16(uint16_t(extra.size())) + name + extra;
    f.write(h.data(), std::streamsize(h.size()));
    f.write(data, std::streamsize(size));
    pos += h.size() + size;
    cd += u32(0x02014b50) + u16(20) + u16(20) + u16(0) + u16(0) + u32(0) + u32(0) + u32(uint32_t(size)) +
          u32(uint32_t(size)) + u16(uint16_t(name.size())) + u16(0) + u16(0) + u16(0) + u16(0) + u32(0) +
          u32(uint32_t(hdr)) + name;
    ++n_entries;
  };
  std::mt19937 rng(0);
  std::normal_distribution<float> nd(0.f, 0.02f);
  std::string pkl = std::string("\x80\x02") + "ccollections\nOrderedDict\n)R(";
  auto str = [&](const std::string& s) { pkl += 'X' + u32(uint32_t(s.size())) + s; };
  auto i32 = [&](int64_t v) { pkl += 'J' + u32(uint32_t(v)); };
  for (size_t k = 0; k < shapes.size(); ++k) {
    const auto& [name, shape] = shapes[k];
    int64_t numel = 1;
    for (auto s : shape) numel *= s;
    std::vector<float> buf(static_cast<size_t>(numel));
    for (auto& x : buf) x = nd(rng);
    entry("w/data/" + std::to_string(k), reinterpret_cast<const char*>(buf.data()), uint64_t(numel) * 4);
    str(name);
    pkl += "ctorch._utils\n_rebuild_tensor_v2\n((";
    str("storage");
    pkl += "ctorch\nFloatStorage\n";
    str(std::to_string(k));
    str("cpu");
    i32(numel);
    pkl += "tQ";
    i32(0);
    pkl += "(";
    for (auto s : shape) i32(s);
    pkl += "t(";
    int64_t stride = 1;
    std::vector<int64_t> strides(shape.size());
    for (size_t d = shape.size(); d-- > 0;) strides[d] = stride, stride *= shape[d];
    for (auto s : strides) i32(s);
    pkl += "t\x89" "ccollections\nOrderedDict\n)RtR";
  }
  pkl += "u.";
  entry("w/data.pkl", pkl.data(), pkl.size());
  entry("w/version", "3\n", 2);
  uint64_t cd_off = pos;
  std::string eocd = u32(0x06054b50) + u16(0) + u16(0) + u16(uint16_t(n_entries)) + u16(uint16_t(n_entries)) +
                     u32(uint32_t(cd.size())) + u32(uint32_t(cd_off)) + u16(0);
  f.write(cd.data(), std::streamsize(cd.size()));
  f.write(eocd.data(), std::streamsize(eocd.size()));
  return pos + cd.size() + eocd.size();
}

int bench_weights(const cb::bench::BenchArgs& args) {
  long size_mb = args.get_int("size_mb", 1024);
  std::string path = args.get("path", "/tmp/codebind_bench_weights_" + std::to_string(getpid()) + ".pth");
  int64_t blocks = std::max<int64_t>(1, int64_t(size_mb * 1e6 / (19677440.0 * 4)));
  uint64_t bytes = write_pth(path, blocks);
  std::printf("weights: wrote %s, %lld Huge vision blocks, %.1f MB\n", path.c_str(), (long long)blocks, bytes / 1e6);
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    long before = rss_kb("VmRSS:");
    double sum = 0;
    size_t n = 0;
    {
      cb::WeightFile w(path);
      for (const auto& k : w.keys()) sum += w.get(k).sum().item<double>(), ++n;
    }
    long peak = rss_kb("VmHWM:");
    double grow = (peak - before) * 1024.0;
    std::printf("weights: opened + touched %zu tensors (sum %.4f); RSS before %.1f MB, peak %.1f MB, "
                "growth %.1f MB = %.3fx the file (target < 1.2x)\n",
                n, sum, before / 1024.0, peak / 1024.0, grow / 1e6, grow / double(bytes));
    std::fflush(stdout);
    _exit(grow / double(bytes) < 1.2 ? 0 : 3);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::remove(path.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

CB_REGISTER_BENCH("weights", "peak RSS of opening + touching a random Huge-shaped .pth vs its size", bench_weights);
