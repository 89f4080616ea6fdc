// test_preprocess_parity.cpp — runs the "preprocess" parity group on the golden fixtures and
// requires every check to pass (tokenizer, images, audio).
#include <ATen/ATen.h>

#include "app/parity_groups.h"
#include "test_util.h"

TEST(PreprocessParity, AllChecksPass) {
  CB_REQUIRE_FIXTURES();
  cb::ParityReport r = cb::run_parity_group("preprocess", cb::test::fixtures_dir());
  ASSERT_GE(r.checks().size(), 10u) << "too few checks: is the preprocess fixture folder complete?";
  int failed = 0;
  for (const auto& c : r.checks()) {
    if (!c.pass) ++failed;
    EXPECT_TRUE(c.pass) << c.name << ": error " << c.error << " > tol " << c.tolerance << " " << c.note;
  }
  EXPECT_EQ(failed, 0);
}
