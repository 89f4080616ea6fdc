// bind_index.cpp — the compressed code index from Python: build from a run and a dataset, open,
// save, add (merge) and remove items, and search it with texts or files through a run's model
// (the same path as `codebind index search`).
#include <pybind11/stl.h>
#include <torch/csrc/utils/pybind.h>

#include "bindings.h"
#include "core/error.h"
#include "index/code_index.h"
#include "index/search.h"

namespace py = pybind11;

namespace cb::python {

void bind_index(py::module_& m) {
  using index::Index;
  py::class_<Index, std::shared_ptr<Index>>(m, "_Index")
      .def_static("open", [](const std::string& path) { return std::make_shared<Index>(Index::open(path)); },
                  py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def("save", &Index::save, py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def("__len__", &Index::size)
      .def("id", &Index::id)
      .def("source", &Index::source)
      .def("modality", [](const Index& ix, int64_t i) { return std::string(modality_name(ix.modality(i))); })
      .def("merge", &Index::merge, py::arg("other"), py::call_guard<py::gil_scoped_release>())
      .def("remove", &Index::remove, py::arg("ids"))
      .def_property_readonly("fingerprint", &Index::fingerprint)
      .def_property_readonly("bytes_per_item", &Index::search_bytes_per_item);

  m.def("_build_index",
        [](Model& model, const std::string& data_dir, bool progress) {
          py::gil_scoped_release release;
          attach_codebooks(model.rm);
          return std::make_shared<Index>(build_index_from_run(model.rm, data_dir, progress));
        },
        py::arg("model"), py::arg("data"), py::arg("progress") = false);
  m.def("_search",
        [](const Index& ix, Model& model, const std::string& modality, const std::vector<std::string>& inputs, int k,
           const std::string& mode, int rerank) {
          CB_CHECK_INPUT(mode == "shared" || mode == "concat", "search: mode must be shared or concat, got '{}'", mode);
          CB_CHECK_INPUT(k > 0, "search: k must be positive, got {}", k);
          CB_CHECK_INPUT(rerank >= 0, "search: rerank must be 0 (off) or positive, got {}", rerank);
          std::vector<std::vector<index::Hit>> hits;
          {
            py::gil_scoped_release release;
            attach_codebooks(model.rm);
            check_same_model(ix, model.rm);
            const Modality mm = parse_modality(modality, "modality");
            const index::EmbeddingRows rows =
                mm == Modality::Text ? embed_texts(model.rm, inputs) : embed_files(model.rm, mm, inputs);
            index::SearchOptions so;
            so.k = k;
            so.mode = mode == "concat" ? index::SearchMode::Concat : index::SearchMode::Shared;
            so.rerank = rerank;
            hits = search_rows(ix, rows, so, /*quantise_queries=*/false);
          }
          py::list out;
          for (const auto& per_query : hits) {
            py::list l;
            for (const index::Hit& h : per_query) {
              py::dict d;
              d["id"] = ix.id(h.row);
              d["score"] = h.score;
              d["modality"] = std::string(modality_name(ix.modality(h.row)));
              d["source"] = ix.source(h.row);
              d["row"] = h.row;
              l.append(d);
            }
            out.append(l);
          }
          return out;
        },
        py::arg("index"), py::arg("model"), py::arg("modality"), py::arg("inputs"), py::arg("k") = 10,
        py::arg("mode") = "shared", py::arg("rerank") = 0);
}

}  // namespace cb::python
