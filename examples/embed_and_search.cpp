// embed_and_search.cpp — the library API end to end: open a trained CodeBind run, embed a text
// and a file into shared/specific embeddings and codes, build a code index over a data set,
// save and reopen it, and search it with a text query.
//
//   embed_and_search RUN DATA_DIR "query text" [MODALITY FILE]
//
// Build it in-tree (target embed_and_search) or against an installed codebind with
// examples/CMakeLists.txt (find_package(codebind)).
#include <codebind/codebind.h>

#include <cstdio>
#include <string>

namespace {

void print_embedding(const codebind::Embedding& e) {
  std::printf("%s '%s': shared %zu floats, %zu codes [", e.modality.c_str(), e.id.c_str(), e.shared.size(),
              e.shared_codes.size());
  for (size_t i = 0; i < e.shared_codes.size() && i < 8; ++i) std::printf("%s%d", i ? " " : "", e.shared_codes[i]);
  std::printf("%s]; specific %zu floats, %zu codes\n", e.shared_codes.size() > 8 ? " …" : "", e.specific.size(),
              e.specific_codes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) {
    std::fprintf(stderr, "usage: %s RUN DATA_DIR \"query text\" [MODALITY FILE]\n", argv[0]);
    return 2;
  }
  try {
    std::printf("codebind %s\n", codebind::version());
    codebind::Model model = codebind::Model::open(argv[1]);
    std::printf("model: d_c %lld, d_s %lld, modalities:", static_cast<long long>(model.shared_dim()),
                static_cast<long long>(model.specific_dim()));
    for (const std::string& m : model.modalities()) std::printf(" %s", m.c_str());
    std::printf("\n");

    print_embedding(model.embed_texts({argv[3]}).at(0));
    if (argc == 6) print_embedding(model.embed_files(argv[4], {argv[5]}).at(0));

    codebind::Index built = codebind::Index::build(model, argv[2]);
    const std::string path = std::string(argv[1]) + "/example.cbx";
    built.save(path);
    codebind::Index index = codebind::Index::open(path);
    std::printf("index: %lld items (%s)\n", static_cast<long long>(index.size()), path.c_str());

    const auto hits = index.search_texts(model, {argv[3]}, 5);
    std::printf("top %zu for \"%s\":\n", hits.at(0).size(), argv[3]);
    for (const codebind::Hit& h : hits[0])
      std::printf("  %.4f %-8s %s\n", h.score, h.modality.c_str(), h.id.c_str());
    if (argc == 6) {
      const auto fh = index.search_files(model, argv[4], {argv[5]}, 3);
      std::printf("top %zu for %s:\n", fh.at(0).size(), argv[5]);
      for (const codebind::Hit& h : fh[0]) std::printf("  %.4f %-8s %s\n", h.score, h.modality.c_str(), h.id.c_str());
    }
  } catch (const codebind::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
