// test_api.cpp — the public library API (include/codebind/codebind.h) through its example
// program, which links libcodebind.so exactly as a user's program does: on a tiny trained run
// it embeds a text and a file, builds, saves, reopens and searches an index, and its hits equal
// the CLI's `codebind index search` on the same run; bad input gives a message and exit 1;
// and `cmake --install` + find_package(codebind) builds the example as another project would.
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include "data/manifest.h"
#include "test_tiny_run.h"

namespace cb {
namespace {
namespace fs = std::filesystem;
using test::slurp;

std::string example_exe() {
  if (const char* e = std::getenv("CODEBIND_EXAMPLE")) return e;
  return std::string(CODEBIND_BINARY_DIR) + "/embed_and_search";
}

// A tiny one-epoch run, made once.
const std::string& api_run() {
  static std::string run = test::tiny_one_epoch_run("api_run");
  return run;
}

// Ids of the hit lines ("  0.1234 vision   id") after the line starting with `header`.
std::vector<std::string> hit_ids(const std::string& out, const std::string& header) {
  std::vector<std::string> ids;
  std::istringstream in(out);
  std::string line;
  bool on = false;
  static const std::regex hit(R"(^\s+-?[0-9.]+\s+\S+\s+(\S+)\s*$)");
  while (std::getline(in, line)) {
    if (line.rfind(header, 0) == 0) {
      on = true;
      continue;
    }
    std::smatch m;
    if (on && std::regex_match(line, m, hit)) ids.push_back(m[1]);
    else if (on) on = false;
  }
  return ids;
}

TEST(Api, ExampleEmbedsBuildsAndSearchesLikeTheCli) {
  const std::string& run = api_run();
  ASSERT_FALSE(run.empty()) << "could not make the tiny fixture";
  const auto& f = test::tiny_fixture();
  auto man = data::Manifest::load(f.data);
  const data::Item* imu = nullptr;
  for (const auto& it : man.items())
    if (it.modality == Modality::Imu) {
      imu = &it;
      break;
    }
  ASSERT_NE(imu, nullptr);
  const std::string query = "a recording of " + man.info().classes.at(0);
  const std::string log = run + "/example.log";
  const std::string cmd = example_exe() + " " + run + " " + f.data + " \"" + query + "\" imu " + imu->file + " > " +
                          log + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(log);
  const std::string out = slurp(log);
  // Every item of the manifest (of the run's modalities) is in the index.
  int64_t expected = 0;
  for (const auto& it : man.items()) expected += it.modality == Modality::Imu || it.modality == Modality::Vision ||
                                                 it.modality == Modality::Text || it.modality == Modality::Audio;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(index: (\d+) items)"))) << out;
  EXPECT_GT(std::stoll(m[1]), 0);
  EXPECT_LE(std::stoll(m[1]), expected);
  EXPECT_NE(out.find("text '" + query + "': shared"), std::string::npos) << out;
  EXPECT_NE(out.find("imu '" + imu->file + "': shared"), std::string::npos) << out;
  // The CLI on the index the example saved gives the same top 5 for the same text.
  const std::string cli_log = run + "/cli_search.log";
  ASSERT_EQ(test::run_codebind("index search --index " + run + "/example.cbx --run " + run + " --text \"" + query +
                                   "\" -k 5",
                               cli_log),
            0)
      << slurp(cli_log);
  std::vector<std::string> cli_ids;
  std::istringstream in(slurp(cli_log));
  std::string line;
  static const std::regex cli_hit(R"(^\s+\d+\s+[0-9.-]+\s+\S+\s+(\S+)\s.*$)");
  while (std::getline(in, line))
    if (std::regex_match(line, m, cli_hit)) cli_ids.push_back(m[1]);
  const auto api_ids = hit_ids(out, "top ");
  ASSERT_EQ(cli_ids.size(), 5u) << slurp(cli_log);
  ASSERT_GE(api_ids.size(), 5u) << out;
  EXPECT_EQ(std::vector<std::string>(api_ids.begin(), api_ids.begin() + 5), cli_ids) << out << slurp(cli_log);
}

TEST(Api, BadInputIsAnErrorWithAMessage) {
  const std::string log = std::string(CODEBIND_BINARY_DIR) + "/tmp/api_bad.log";
  fs::create_directories(fs::path(log).parent_path());
  const std::string cmd = example_exe() + " /nonexistent/run /nonexistent/data \"x\" > " + log + " 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  EXPECT_NE(slurp(log).find("/nonexistent/run"), std::string::npos) << slurp(log);
}

TEST(Api, InstalledPackageBuildsTheExample) {
  test::TempDir tmp;
  const std::string prefix = tmp.file("prefix"), build = tmp.file("build"), log = tmp.file("log");
  const std::string bin = CODEBIND_BINARY_DIR, src = CODEBIND_SOURCE_DIR;
  auto sh = [&](const std::string& c) { return std::system((c + " >> " + log + " 2>&1").c_str()); };
  ASSERT_EQ(sh("cmake --install " + bin + " --prefix " + prefix), 0) << slurp(log);
  EXPECT_TRUE(fs::exists(prefix + "/include/codebind/codebind.h"));
  EXPECT_TRUE(fs::exists(prefix + "/share/codebind/assets/bpe_simple_vocab_16e6.txt.gz"));
  ASSERT_EQ(sh("cmake -S " + src + "/examples -B " + build + " -DCMAKE_PREFIX_PATH=" + prefix), 0) << slurp(log);
  ASSERT_EQ(sh("cmake --build " + build), 0) << slurp(log);
  // The installed example runs (usage message, exit 2) against the installed library.
  const int rc = std::system((build + "/embed_and_search > " + log + " 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2) << slurp(log);
  EXPECT_NE(slurp(log).find("usage:"), std::string::npos) << slurp(log);
}

}  // namespace
}  // namespace cb
