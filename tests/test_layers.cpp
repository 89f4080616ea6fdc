// test_layers.cpp — the layer check (cmake/layer_check.cmake) passes on the tree and fails,
// naming the file and the include, when a lower layer includes a higher one (a back-edge is
// planted in a copy of src/: the model including the trainer).
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace cb {
namespace {
namespace fs = std::filesystem;

int run_check(const std::string& src, const std::string& log) {
  const std::string cmd = "cmake -DCODEBIND_SRC=" + src + " -DCODEBIND_LAYER_TABLE=" + CODEBIND_BINARY_DIR +
                          "/codebind_layers.cmake -P " + CODEBIND_SOURCE_DIR + "/cmake/layer_check.cmake > " + log +
                          " 2>&1";
  return std::system(cmd.c_str());
}

TEST(Layers, TheTreeHasNoBackEdge) {
  test::TempDir tmp;
  EXPECT_EQ(run_check(std::string(CODEBIND_SOURCE_DIR) + "/src", tmp.file("log")), 0) << test::slurp(tmp.file("log"));
}

TEST(Layers, APlantedBackEdgeFailsTheCheck) {
  test::TempDir tmp;
  const std::string src = tmp.file("src");
  fs::copy(std::string(CODEBIND_SOURCE_DIR) + "/src", src, fs::copy_options::recursive);
  {
    std::ofstream f(src + "/model/decoder.h", std::ios::app);
    f << "\n#include \"train/trainer.h\"\n";
  }
  EXPECT_NE(run_check(src, tmp.file("log")), 0);
  const std::string log = test::slurp(tmp.file("log"));
  EXPECT_NE(log.find("src/model/decoder.h: #include \"train/trainer.h\""), std::string::npos) << log;
}

}  // namespace
}  // namespace cb
