// test_pth_writer.h — a tiny torch.save writer for tests: pickle opcodes (protocol 2) and a
// stored (uncompressed) zip laid out like torch's (entries' data 64-byte aligned, optional zip64
// records). Pkl and make_zip build hand-made archives (test_pth.cpp's malformed cases);
// write_pth writes a whole state dict as torch.save(OrderedDict) does.
#pragma once
#include <ATen/ATen.h>

#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace cb::test {

inline std::string u16(uint16_t v) { return std::string{char(v & 255), char(v >> 8)}; }
inline std::string u32(uint32_t v) { return u16(uint16_t(v)) + u16(uint16_t(v >> 16)); }
inline std::string u64(uint64_t v) { return u32(uint32_t(v)) + u32(uint32_t(v >> 32)); }

struct Pkl {
  std::string b = "\x80\x02";
  Pkl& str(const std::string& s) { b += 'X' + u32(uint32_t(s.size())) + s; return *this; }
  Pkl& i(int64_t v) { b += 'J' + u32(uint32_t(v)); return *this; }
  Pkl& glob(const std::string& m, const std::string& n) { b += "c" + m + "\n" + n + "\n"; return *this; }
  Pkl& op(const std::string& o) { b += o; return *this; }
  Pkl& ints(const std::vector<int64_t>& v) { op("("); for (auto x : v) i(x); return op("t"); }
  // key → _rebuild_tensor_v2(storage, offset, sizes, strides, False, OrderedDict())
  Pkl& tensor(const std::string& key, const std::string& stype, const std::string& skey, int64_t numel,
              int64_t offset, const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides) {
    str(key).glob("torch._utils", "_rebuild_tensor_v2").op("((").str("storage").glob("torch", stype).str(skey);
    str("cpu").i(numel).op("tQ").i(offset).ints(sizes).ints(strides).op("\x89");
    return glob("collections", "OrderedDict").op(")RtR");
  }
  // OrderedDict(); MARK; <entries>; SETITEMS; BUILD({'_metadata': OrderedDict()}); STOP
  static std::string state_dict(const std::function<void(Pkl&)>& entries) {
    Pkl p;
    p.glob("collections", "OrderedDict").op(")Rq\x01(");
    entries(p);
    p.op("u}").str("_metadata").glob("collections", "OrderedDict").op(")Rsb.");
    return p.b;
  }
};

// Stored zip; entries' data 64-byte aligned like torch; zip64 records when asked.
inline std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries, bool zip64 = false) {
  std::string out, cd;
  for (const auto& [name, data] : entries) {
    size_t hdr = out.size();
    size_t pad = (64 - (hdr + 30 + name.size() + 4) % 64) % 64;
    std::string extra = u16(0xCAFE) + u16(uint16_t(pad)) + std::string(pad, '\0');
    out += u32(0x04034b50) + u16(20) + u16(0) + u16(0) + u32(0) + u32(0) + u32(uint32_t(data.size())) +
           u32(uint32_t(data.size())) + u16(uint16_t(name.size())) + u16(uint16_t(extra.size())) + name + extra + data;
    std::string cextra = zip64 ? u16(1) + u16(24) + u64(data.size()) + u64(data.size()) + u64(hdr) : "";
    uint32_t sz = zip64 ? 0xFFFFFFFFu : uint32_t(data.size()), off = zip64 ? 0xFFFFFFFFu : uint32_t(hdr);
    cd += u32(0x02014b50) + u16(45) + u16(45) + u16(0) + u16(0) + u32(0) + u32(0) + u32(sz) + u32(sz) +
          u16(uint16_t(name.size())) + u16(uint16_t(cextra.size())) + u16(0) + u16(0) + u16(0) + u32(0) + u32(off) +
          name + cextra;
  }
  size_t cd_off = out.size();
  out += cd;
  if (zip64) {
    size_t rec = out.size();
    out += u32(0x06064b50) + u64(44) + u16(45) + u16(45) + u32(0) + u32(0) + u64(entries.size()) +
           u64(entries.size()) + u64(cd.size()) + u64(cd_off);
    out += u32(0x07064b50) + u32(0) + u64(rec) + u32(1);
    out += u32(0x06054b50) + u16(0) + u16(0) + u16(0xFFFF) + u16(0xFFFF) + u32(0xFFFFFFFFu) + u32(0xFFFFFFFFu) + u16(0);
  } else {
    out += u32(0x06054b50) + u16(0) + u16(0) + u16(uint16_t(entries.size())) + u16(uint16_t(entries.size())) +
           u32(uint32_t(cd.size())) + u32(uint32_t(cd_off)) + u16(0);
  }
  return out;
}

// A tensor's bytes in row-major order.
inline std::string raw(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), size_t(c.nbytes()));
}

// The torch storage class of a dtype (float32, float16, bfloat16, float64, int64, int32, bool).
inline std::string storage_type(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return "FloatStorage";
    case at::kHalf: return "HalfStorage";
    case at::kBFloat16: return "BFloat16Storage";
    case at::kDouble: return "DoubleStorage";
    case at::kLong: return "LongStorage";
    case at::kInt: return "IntStorage";
    case at::kBool: return "BoolStorage";
    default: throw std::runtime_error("test_pth_writer: unsupported dtype");
  }
}

// torch.save(state_dict) of `tensors` (in order, each its own contiguous storage) at `path`.
inline void write_pth(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::string pkl = Pkl::state_dict([&](Pkl& p) {
    for (size_t k = 0; k < tensors.size(); ++k) {
      const at::Tensor t = tensors[k].second.detach().cpu().contiguous();
      std::vector<int64_t> strides(size_t(t.dim()));
      int64_t s = 1;
      for (int64_t d = t.dim() - 1; d >= 0; --d) strides[size_t(d)] = s, s *= t.size(d);
      p.tensor(tensors[k].first, storage_type(t.scalar_type()), std::to_string(k), t.numel(), 0, t.sizes().vec(),
               strides);
    }
  });
  entries.emplace_back("archive/data.pkl", pkl);
  for (size_t k = 0; k < tensors.size(); ++k)
    entries.emplace_back("archive/data/" + std::to_string(k), raw(tensors[k].second.detach().cpu()));
  entries.emplace_back("archive/version", "3\n");
  const std::string bytes = make_zip(entries);
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace cb::test
