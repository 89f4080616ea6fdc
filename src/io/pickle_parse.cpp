// pickle_parse.cpp — see pickle_parse.h. A stack machine over an arena of nodes: values are
// indices into `nodes_`, so shared or even cyclic structures (BINGET + APPEND) cost nothing
// to free and never recurse. Opcode numbers follow CPython's Lib/pickletools.py.
#include "io/pickle_parse.h"

#include <cstring>
#include <set>
#include <unordered_map>

#include "core/error.h"

namespace cb {
namespace {

constexpr size_t kMaxNodes = size_t(1) << 22;  // values created (each op creates at most one)
constexpr size_t kMaxStack = size_t(1) << 20;  // stack depth
constexpr size_t kMaxMemo = size_t(1) << 22;   // memo entries
constexpr size_t kMaxPickleRank = 64;

enum class K : uint8_t { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };
enum class G : uint8_t { OrderedDict, RebuildTensorV2, RebuildParameter, StorageType };

struct Node {
  K k = K::None;
  double f = 0;                 // Float value
  int64_t i = 0;                // Int/Bool value; Tensor: index into refs; Global: G; Storage: unused
  DType dtype = DType::F32;     // Global StorageType
  std::string s;                // Str value; Global "module.name"; Storage key
  std::vector<uint32_t> items;  // Tuple/List items; Dict: k0, v0, k1, v1, ...
};

const char* kind_name(K k) {
  static const char* n[] = {"None", "bool", "int", "float", "str", "tuple", "list", "dict", "global", "storage", "tensor"};
  return n[static_cast<int>(k)];
}

bool storage_dtype(const std::string& name, DType& d) {
  static const std::map<std::string, DType> m = {
      {"FloatStorage", DType::F32}, {"HalfStorage", DType::F16}, {"BFloat16Storage", DType::BF16},
      {"DoubleStorage", DType::F64}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
      {"ShortStorage", DType::I16}, {"CharStorage", DType::I8},   {"ByteStorage", DType::U8},
      {"BoolStorage", DType::BOOL}};
  auto it = m.find(name);
  if (it == m.end()) return false;
  d = it->second;
  return true;
}

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, const std::string& file) : d_(data), n_(size), file_(file) {}

  StateDictPickle run();

 private:
  const uint8_t* d_;
  size_t n_;
  const std::string& file_;
  size_t pos_ = 0;  // read position
  size_t op_ = 0;   // offset of the current opcode (for messages)
  std::vector<Node> nodes_;
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, uint32_t> memo_;
  StateDictPickle out_;
  std::vector<PickleTensorRef> refs_;

  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
    fail_input("{}: {} (pickle byte offset {})", file_, fmt::format(f, std::forward<Args>(args)...), op_);
  }
  const uint8_t* take(size_t len) {
    if (len > n_ - pos_) fail("pickle truncated: {} more bytes needed, {} left", len, n_ - pos_);
    const uint8_t* p = d_ + pos_;
    pos_ += len;
    return p;
  }
  uint64_t le(size_t len) {
    const uint8_t* p = take(len);
    uint64_t v = 0;
    for (size_t b = 0; b < len; ++b) v |= uint64_t(p[b]) << (8 * b);
    return v;
  }
  uint32_t make(Node n) {
    if (nodes_.size() >= kMaxNodes) fail("pickle has too many values (more than {})", kMaxNodes);
    nodes_.push_back(std::move(n));
    return uint32_t(nodes_.size() - 1);
  }
  void push(uint32_t v) {
    if (stack_.size() >= kMaxStack) fail("pickle stack deeper than {}", kMaxStack);
    stack_.push_back(v);
  }
  uint32_t pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("pickle stack underflow");
    uint32_t v = stack_.back();
    stack_.pop_back();
    return v;
  }
  uint32_t top() {
    if (stack_.empty()) fail("pickle stack underflow");
    return stack_.back();
  }
  // Items above the most recent MARK, removed from the stack together with the mark.
  std::vector<uint32_t> pop_mark() {
    if (marks_.empty()) fail("pickle MARK missing");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<uint32_t> items(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return items;
  }
  Node& node(uint32_t v) { return nodes_[v]; }
  Node& expect(uint32_t v, K k, const char* what) {
    if (nodes_[v].k != k) fail("{}: expected {}, found {}", what, kind_name(k), kind_name(nodes_[v].k));
    return nodes_[v];
  }
  std::string read_line() {
    const uint8_t* p = d_ + pos_;
    const void* nl = std::memchr(p, '\n', n_ - pos_);
    if (!nl) fail("pickle truncated inside GLOBAL");
    size_t len = static_cast<const uint8_t*>(nl) - p;
    pos_ += len + 1;
    return std::string(reinterpret_cast<const char*>(p), len);
  }
  void push_str(size_t len) {
    const uint8_t* p = take(len);
    Node n;
    n.k = K::Str;
    n.s.assign(reinterpret_cast<const char*>(p), len);
    push(make(std::move(n)));
  }
  void push_int(int64_t v, K k = K::Int) {
    Node n;
    n.k = k;
    n.i = v;
    push(make(std::move(n)));
  }
  void push_seq(K k, std::vector<uint32_t> items) {
    Node n;
    n.k = k;
    n.items = std::move(items);
    push(make(std::move(n)));
  }
  void memo_put(uint64_t idx) {
    if (memo_.size() >= kMaxMemo && !memo_.count(uint32_t(idx))) fail("pickle memo larger than {}", kMaxMemo);
    memo_[uint32_t(idx)] = top();
  }
  void memo_get(uint64_t idx) {
    auto it = memo_.find(uint32_t(idx));
    if (it == memo_.end()) fail("pickle memo entry {} missing", idx);
    push(it->second);
  }
  void global();
  void reduce();
  void persistent_id();
  uint32_t rebuild_tensor(const Node& args);
  StateDictPickle finish(uint32_t result);
};

void Unpickler::global() {
  std::string module = read_line(), name = read_line();
  Node n;
  n.k = K::Global;
  n.s = module + "." + name;
  if (module == "collections" && name == "OrderedDict") {
    n.i = int64_t(G::OrderedDict);
  } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    n.i = int64_t(G::RebuildTensorV2);
  } else if (module == "torch._utils" && name == "_rebuild_parameter") {
    n.i = int64_t(G::RebuildParameter);
  } else if (module == "torch" && storage_dtype(name, n.dtype)) {
    n.i = int64_t(G::StorageType);
  } else {
    fail("pickle global '{}' not supported (only a state_dict of tensors can be read)", n.s.substr(0, 200));
  }
  push(make(std::move(n)));
}

void Unpickler::persistent_id() {
  uint32_t pid = pop();
  const Node& t = expect(pid, K::Tuple, "persistent id");
  if (t.items.size() != 5) fail("persistent id: expected a 5-tuple, found {} items", t.items.size());
  if (expect(t.items[0], K::Str, "persistent id tag").s != "storage") fail("persistent id tag is not 'storage'");
  const Node& type = expect(t.items[1], K::Global, "storage type");
  if (G(type.i) != G::StorageType) fail("persistent id: '{}' is not a storage type", type.s);
  PickleStorage st;
  st.dtype = type.dtype;
  st.key = expect(t.items[2], K::Str, "storage key").s;
  st.location = expect(t.items[3], K::Str, "storage location").s;
  int64_t numel = expect(t.items[4], K::Int, "storage size").i;
  if (numel < 0 || uint64_t(numel) > (uint64_t(1) << 60) / dtype_size(st.dtype))
    fail("storage '{}' has an absurd size of {} elements", st.key, numel);
  st.numel = uint64_t(numel);
  auto it = out_.storages.find(st.key);
  if (it != out_.storages.end()) {
    if (it->second.dtype != st.dtype || it->second.numel != st.numel)
      fail("storage '{}' is declared twice with different types or sizes", st.key);
  } else {
    out_.storages.emplace(st.key, st);
  }
  Node n;
  n.k = K::Storage;
  n.s = st.key;
  push(make(std::move(n)));
}

uint32_t Unpickler::rebuild_tensor(const Node& args) {
  if (args.items.size() != 6 && args.items.size() != 7)
    fail("_rebuild_tensor_v2: expected 6 or 7 arguments, found {}", args.items.size());
  const PickleStorage& st = out_.storages.at(expect(args.items[0], K::Storage, "_rebuild_tensor_v2 storage").s);
  PickleTensorRef r;
  r.storage_key = st.key;
  r.dtype = st.dtype;
  int64_t off = expect(args.items[1], K::Int, "_rebuild_tensor_v2 storage offset").i;
  const Node& sizes = expect(args.items[2], K::Tuple, "_rebuild_tensor_v2 size");
  const Node& strides = expect(args.items[3], K::Tuple, "_rebuild_tensor_v2 stride");
  if (sizes.items.size() != strides.items.size() || sizes.items.size() > kMaxPickleRank)
    fail("_rebuild_tensor_v2: {} sizes but {} strides (rank at most {})", sizes.items.size(), strides.items.size(),
         kMaxPickleRank);
  if (off < 0 || uint64_t(off) > st.numel) fail("tensor offset {} is outside storage '{}' ({} elements)", off, st.key, st.numel);
  r.storage_offset = uint64_t(off);
  // Highest element index the view touches must lie inside the storage.
  bool empty = false;
  unsigned __int128 last = r.storage_offset;
  for (size_t k = 0; k < sizes.items.size(); ++k) {
    int64_t sz = expect(sizes.items[k], K::Int, "tensor size").i;
    int64_t sd = expect(strides.items[k], K::Int, "tensor stride").i;
    if (sz < 0 || sd < 0 || sz > (int64_t(1) << 50) || sd > (int64_t(1) << 50))
      fail("tensor size {} / stride {} out of range", sz, sd);
    r.sizes.push_back(sz);
    r.strides.push_back(sd);
    if (sz == 0) empty = true;
    else last += (unsigned __int128)(sz - 1) * (unsigned __int128)sd;
  }
  if (!empty && last >= st.numel)
    fail("tensor view (offset {}, sizes [{}], strides [{}]) exceeds storage '{}' of {} elements", r.storage_offset,
         fmt::join(r.sizes, ","), fmt::join(r.strides, ","), st.key, st.numel);
  if (!(args.items[4] < nodes_.size()) || node(args.items[4]).k != K::Bool)
    fail("_rebuild_tensor_v2: requires_grad is not a bool");
  refs_.push_back(std::move(r));
  Node n;
  n.k = K::Tensor;
  n.i = int64_t(refs_.size() - 1);
  return make(std::move(n));
}

void Unpickler::reduce() {
  uint32_t a = pop(), f = pop();
  const Node& fn = expect(f, K::Global, "REDUCE callable");
  const Node& args = expect(a, K::Tuple, "REDUCE arguments");
  switch (G(fn.i)) {
    case G::OrderedDict:
      if (!args.items.empty()) fail("OrderedDict() with arguments is not supported");
      push_seq(K::Dict, {});
      return;
    case G::RebuildTensorV2:
      push(rebuild_tensor(args));
      return;
    case G::RebuildParameter:
      if (args.items.size() != 3) fail("_rebuild_parameter: expected 3 arguments, found {}", args.items.size());
      expect(args.items[0], K::Tensor, "_rebuild_parameter data");
      push(args.items[0]);
      return;
    case G::StorageType:
      fail("calling storage type '{}' is not supported", fn.s);
  }
}

StateDictPickle Unpickler::finish(uint32_t result) {
  const Node& d = expect(result, K::Dict, "pickled object (a state_dict)");
  std::set<std::string> seen;
  for (size_t k = 0; k + 1 < d.items.size(); k += 2) {
    const std::string& key = expect(d.items[k], K::Str, "state_dict key").s;
    const Node& v = nodes_[d.items[k + 1]];
    if (v.k != K::Tensor) fail("state_dict entry '{}' is a {}, not a tensor", key, kind_name(v.k));
    if (!seen.insert(key).second) fail("state_dict key '{}' appears twice", key);
    out_.tensors.emplace_back(key, refs_[size_t(v.i)]);
  }
  return std::move(out_);
}

StateDictPickle Unpickler::run() {
  while (true) {
    op_ = pos_;
    uint8_t op = uint8_t(le(1));
    switch (op) {
      case 0x80: le(1); break;                        // PROTO
      case 0x95: le(8); break;                        // FRAME (framing is transparent)
      case '}': push_seq(K::Dict, {}); break;         // EMPTY_DICT
      case ']': push_seq(K::List, {}); break;         // EMPTY_LIST
      case ')': push_seq(K::Tuple, {}); break;        // EMPTY_TUPLE
      case '(':                                       // MARK
        if (marks_.size() >= kMaxStack) fail("too many MARKs");
        marks_.push_back(stack_.size());
        break;
      case 'X': push_str(size_t(le(4))); break;       // BINUNICODE
      case 0x8c: push_str(size_t(le(1))); break;      // SHORT_BINUNICODE
      case 0x8d: {                                    // BINUNICODE8
        uint64_t len = le(8);
        if (len > n_) fail("string length {} exceeds the pickle size", len);
        push_str(size_t(len));
        break;
      }
      case 'J': push_int(int32_t(uint32_t(le(4)))); break;  // BININT
      case 'K': push_int(int64_t(le(1))); break;            // BININT1
      case 'M': push_int(int64_t(le(2))); break;            // BININT2
      case 0x8a: {                                          // LONG1
        size_t nb = size_t(le(1));
        if (nb > 8) fail("integer of {} bytes is too large", nb);
        uint64_t v = nb ? le(nb) : 0;
        if (nb > 0 && nb < 8 && (v >> (8 * nb - 1)) & 1) v |= ~uint64_t(0) << (8 * nb);  // sign-extend
        push_int(int64_t(v));
        break;
      }
      case 'G': {                                           // BINFLOAT (big-endian)
        const uint8_t* p = take(8);
        uint64_t bits = 0;
        for (int b = 0; b < 8; ++b) bits = (bits << 8) | p[b];
        Node n;
        n.k = K::Float;
        std::memcpy(&n.f, &bits, 8);
        push(make(std::move(n)));
        break;
      }
      case 0x88: push_int(1, K::Bool); break;               // NEWTRUE
      case 0x89: push_int(0, K::Bool); break;               // NEWFALSE
      case 'N': push(make(Node{})); break;                  // NONE
      case 't': push_seq(K::Tuple, pop_mark()); break;      // TUPLE
      case 0x85: { uint32_t a = pop(); push_seq(K::Tuple, {a}); break; }  // TUPLE1
      case 0x86: { uint32_t b = pop(), a = pop(); push_seq(K::Tuple, {a, b}); break; }  // TUPLE2
      case 0x87: { uint32_t c = pop(), b = pop(), a = pop(); push_seq(K::Tuple, {a, b, c}); break; }  // TUPLE3
      case 'c': global(); break;                            // GLOBAL
      case 'R': reduce(); break;                            // REDUCE
      case 'Q': persistent_id(); break;                     // BINPERSID
      case 'q': memo_put(le(1)); break;                     // BINPUT
      case 'r': memo_put(le(4)); break;                     // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;             // MEMOIZE
      case 'h': memo_get(le(1)); break;                     // BINGET
      case 'j': memo_get(le(4)); break;                     // LONG_BINGET
      case 's': {                                           // SETITEM
        uint32_t v = pop(), k = pop();
        Node& d = expect(top(), K::Dict, "SETITEM target");
        d.items.push_back(k);
        d.items.push_back(v);
        break;
      }
      case 'u': {                                           // SETITEMS
        std::vector<uint32_t> kv = pop_mark();
        if (kv.size() % 2) fail("SETITEMS with an odd number of items");
        Node& d = expect(top(), K::Dict, "SETITEMS target");
        d.items.insert(d.items.end(), kv.begin(), kv.end());
        break;
      }
      case 'a': {                                           // APPEND
        uint32_t v = pop();
        expect(top(), K::List, "APPEND target").items.push_back(v);
        break;
      }
      case 'e': {                                           // APPENDS
        std::vector<uint32_t> vs = pop_mark();
        Node& l = expect(top(), K::List, "APPENDS target");
        l.items.insert(l.items.end(), vs.begin(), vs.end());
        break;
      }
      case 'b': {                                           // BUILD: OrderedDict._metadata, ignored
        pop();
        expect(top(), K::Dict, "BUILD target");
        break;
      }
      case '.':                                             // STOP
        return finish(pop());
      default:
        fail("pickle opcode 0x{:02x} not supported", op);
    }
  }
}

}  // namespace

StateDictPickle parse_state_dict_pickle(const uint8_t* data, size_t size, const std::string& file) {
  return Unpickler(data, size, file).run();
}

}  // namespace cb
