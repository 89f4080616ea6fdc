// test_index_file.cpp — index file round trip, delete/merge, and rejection of corrupt or
// mismatched files with an InputError that names the file.
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "index/index_format.h"
#include "test_index_util.h"
#include "test_util.h"

namespace cb::index {
namespace {
using itest::random_codebook;
using itest::random_items;

std::string read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
void write_all(const std::string& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

Index make_index(int64_t n, uint64_t seed, int64_t id0 = 0, uint64_t cb_seed = 1) {
  std::map<Modality, Codebook> spec;
  spec[Modality::Depth] = random_codebook(256, 8, cb_seed + 1);
  Index ix(random_codebook(1024, 8, cb_seed), spec, 32, 64);
  std::vector<uint8_t> sc, pc;
  std::vector<float> fl;
  ix.append(random_items(ix, n, {Modality::Depth, Modality::Text, Modality::Vision}, seed, sc, pc, fl, id0));
  return ix;
}

void expect_same(const Index& a, const Index& b) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(0, std::memcmp(a.shared_codes(), b.shared_codes(), a.size() * a.shared_code_bytes()));
  EXPECT_EQ(0, std::memcmp(a.specific_codes(), b.specific_codes(), a.size() * a.specific_code_bytes()));
  EXPECT_EQ(0, std::memcmp(a.embeddings(), b.embeddings(), a.size() * a.float_dim() * 4));
  for (int64_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.id(i), b.id(i));
    EXPECT_EQ(a.source(i), b.source(i));
    EXPECT_EQ(a.modality(i), b.modality(i));
    EXPECT_EQ(a.inv_norm_shared()[i], b.inv_norm_shared()[i]);
    EXPECT_EQ(a.inv_norm_concat()[i], b.inv_norm_concat()[i]);
  }
}

std::vector<std::vector<Hit>> run(const Index& ix) {
  std::vector<float> q(4 * 2 * 32 * 8);
  for (size_t i = 0; i < q.size(); ++i) q[i] = std::sin(0.37 * i);
  SearchOptions o;
  o.k = 7;
  return search(ix, q.data(), 4, 2 * 32 * 8, Modality::Depth, o);
}

TEST(IndexFile, RoundTripExact) {
  cb::test::TempDir tmp;
  Index a = make_index(257, 1);
  a.save(tmp.file("a.cbx"));
  Index b = Index::open(tmp.file("a.cbx"));
  expect_same(a, b);
  EXPECT_EQ(b.path(), tmp.file("a.cbx"));
  auto ra = run(a), rb = run(b);
  for (size_t q = 0; q < ra.size(); ++q)
    for (size_t i = 0; i < ra[q].size(); ++i) EXPECT_EQ(ra[q][i].row, rb[q][i].row);
  // Saving the opened (mapped) index reproduces the file byte for byte.
  b.save(tmp.file("b.cbx"));
  EXPECT_EQ(read_all(tmp.file("a.cbx")), read_all(tmp.file("b.cbx")));
  // Empty index round trip.
  Index e(random_codebook(1024, 8, 1), {}, 32, 0);
  e.save(tmp.file("e.cbx"));
  EXPECT_EQ(Index::open(tmp.file("e.cbx")).size(), 0);
}

TEST(IndexFile, DeleteAndMerge) {
  cb::test::TempDir tmp;
  Index whole = make_index(200, 5);
  // Two halves with the same items, merged, equal the whole.
  Index first = make_index(200, 5);
  first.remove([] {
    std::vector<std::string> v;
    for (int i = 100; i < 200; ++i) v.push_back("item" + std::to_string(i));
    return v;
  }());
  EXPECT_EQ(first.size(), 100);
  EXPECT_EQ(first.find("item150"), -1);
  EXPECT_EQ(first.find("item42"), 42);
  Index second = make_index(200, 5);
  second.save(tmp.file("s.cbx"));
  Index second_mapped = Index::open(tmp.file("s.cbx"));
  std::vector<std::string> low;
  for (int i = 0; i < 100; ++i) low.push_back("item" + std::to_string(i));
  EXPECT_EQ(second_mapped.remove(low), 100);
  EXPECT_EQ(second_mapped.remove({"nope"}), 0);
  first.merge(second_mapped);
  expect_same(whole, first);
  // Deleted items never come back from a search.
  Index less = make_index(200, 5);
  auto before = run(less);
  std::vector<std::string> kill;
  for (const Hit& h : before[0]) kill.push_back(less.id(h.row));
  less.remove(kill);
  auto after = run(less);
  ASSERT_EQ(after[0].size(), 7u);
  for (const Hit& h : after[0]) EXPECT_EQ(std::find(kill.begin(), kill.end(), less.id(h.row)), kill.end());
  // Merging an index built on another codebook is refused.
  Index other = make_index(10, 6, 0, /*cb_seed=*/99);
  EXPECT_THROW(first.merge(other), InputError);
}

class CorruptIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    make_index(50, 7).save(good_path());
    good = read_all(good_path());
    layout = parse_index_file(reinterpret_cast<const uint8_t*>(good.data()), good.size(), "good");
  }
  std::string good_path() { return tmp.file("good.cbx"); }
  void expect_error(const std::string& bytes, const std::string& needle) {
    std::string p = tmp.file("bad.cbx");
    write_all(p, bytes);
    try {
      Index::open(p);
      FAIL() << "no error for " << needle;
    } catch (const InputError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
      EXPECT_NE(msg.find(p), std::string::npos) << "error must name the file: " << msg;
    }
  }
  // Rewrites the CRC of section `k` in the table so that a content change passes checksums.
  void fix_crc(std::string& s, SectionKind k) {
    for (size_t i = 0; i < layout.sections.size(); ++i)
      if (layout.sections[i].kind == k) {
        const auto& sec = layout.sections[i];
        uint32_t c = crc32(reinterpret_cast<const uint8_t*>(s.data()) + sec.offset, sec.size);
        std::memcpy(s.data() + kHeaderBytes + i * kSectionEntryBytes + 24, &c, 4);
      }
  }
  cb::test::TempDir tmp;
  std::string good;
  IndexLayout layout;
};

TEST_F(CorruptIndex, Truncated) {
  for (size_t n : {size_t(0), size_t(10), size_t(127), size_t(200), good.size() / 2, good.size() - 1})
    expect_error(good.substr(0, n), n < 128 ? "not a codebind index" : "truncated");
}
TEST_F(CorruptIndex, BadMagic) {
  std::string s = good;
  s[0] = 'X';
  expect_error(s, "bad magic");
}
TEST_F(CorruptIndex, Version) {
  std::string s = good;
  s[8] = 9;
  expect_error(s, "version 9 is not supported");
}
TEST_F(CorruptIndex, HeaderChecksum) {
  std::string s = good;
  s[16] ^= 1;  // item count
  expect_error(s, "header checksum mismatch");
}
TEST_F(CorruptIndex, SectionChecksum) {
  std::string s = good;
  s[layout.find(SectionKind::SharedCodes)->offset + 5] ^= 0x10;
  expect_error(s, "checksum mismatch in the shared codes section");
}
TEST_F(CorruptIndex, FingerprintMismatch) {
  std::string s = good;
  s[layout.find(SectionKind::SharedCodebook)->offset + 3] ^= 0x01;  // a codebook value changes
  fix_crc(s, SectionKind::SharedCodebook);
  expect_error(s, "codebook fingerprint mismatch");
}
TEST_F(CorruptIndex, BadModalityAndOffsets) {
  std::string s = good;
  s[layout.find(SectionKind::Modality)->offset + 3] = 42;
  fix_crc(s, SectionKind::Modality);
  expect_error(s, "modality value 42");
  s = good;
  uint64_t big = 1u << 30;
  std::memcpy(s.data() + layout.find(SectionKind::IdOffsets)->offset + 8 * 4, &big, 8);
  fix_crc(s, SectionKind::IdOffsets);
  expect_error(s, "not monotone");
}
TEST_F(CorruptIndex, NonFiniteCodebook) {
  std::string s = good;
  float nan = std::nanf("");
  std::memcpy(s.data() + layout.find(SectionKind::SharedCodebook)->offset, &nan, 4);
  fix_crc(s, SectionKind::SharedCodebook);
  expect_error(s, "non-finite");
}

}  // namespace
}  // namespace cb::index
